/**
 * The layer rules of docs/architecture.md hold in src/: no import cycle, no import up
 * the layers (.dependency-cruiser.cjs says which). A second test feeds the same
 * rules a small tree with a cycle and upward imports, so a rule set that stopped
 * catching them would fail too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';

const root = path.resolve(__dirname, '../..');
const rules = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs'));

async function violations(baseDir: string, tsConfigFile: string): Promise<IViolation[]> {
  const previous = process.cwd();
  process.chdir(baseDir);
  try {
    const options = { ...rules.options, tsConfig: { fileName: tsConfigFile }, ruleSet: { forbidden: rules.forbidden }, validate: true };
    const r = await cruise(['src'], options);
    return (r.output as ICruiseResult).summary.violations;
  } finally {
    process.chdir(previous);
  }
}

const describeViolation = (v: IViolation) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;

describe('layers', () => {
  it('src/ has no import cycle and no import up the layers', async () => {
    const found = await violations(root, path.join(root, 'tsconfig.json'));
    expect(found.map(describeViolation)).toEqual([]);
  }, 120_000);

  it('the rules catch a cycle, an upward import and a skipped layer', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-layers-'));
    try {
      const files: Record<string, string> = {
        'src/scim/a.ts': "import { b } from '../directory/b.js';\nexport const a = b;\n",
        'src/directory/b.ts': 'export const b = 1;\n',
        'src/store/x.ts': "import { y } from './y.js';\nexport const x = () => y;\n",
        'src/store/y.ts': "import { x } from './x.js';\nexport const y = () => x;\n",
        'src/http/h.ts': "import type { T } from '../store/t.js';\nexport type H = T;\n",
        'src/store/t.ts': 'export type T = number;\n',
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
      };
      for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
      }
      const names = (await violations(dir, path.join(dir, 'tsconfig.json'))).map((v) => v.rule.name);
      expect(names).toContain('scim-is-pure');
      expect(names).toContain('no-circular');
      expect(names).toContain('http-below-embed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
