/**
 * The server ships with a small V8 young generation (`--max-semi-space-size=2`:
 * 4 MiB of new space instead of 32 MiB) and `--optimize-for-size` (less old space kept
 * committed): 172 MiB instead of 212 under an Entra-shaped load at 100,000 users
 * (docs/reliability.md). The flag must be wherever the server
 * is started: `npm start`, the bin's shebang (`npx rollcall serve`), the Dockerfile
 * and the systemd unit. The benchmarks read it from `npm start`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper shared with the conformance runner and the benchmark
import { SHIPPED_NODE_ARGS as shipped } from '../conformance/server-process.mjs';

const SHIPPED_NODE_ARGS = shipped as string[];
import { CLI } from './support.js';

const root = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

describe('the node flags the server ships with', () => {
  it('are the same in npm start, the shebang, the Dockerfile and the systemd unit', () => {
    expect(SHIPPED_NODE_ARGS).toEqual(['--max-semi-space-size=2', '--optimize-for-size']);
    const flags = SHIPPED_NODE_ARGS.join(' ');
    expect(read('src/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))![1];
    expect(JSON.parse(cmd)).toEqual(['node', ...SHIPPED_NODE_ARGS, 'dist/cli.js', 'serve']);
    expect(read('deploy/rollcall.service')).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/rollcall/dist/cli\\.js serve$`, 'm'));
    // glibc's per-thread malloc arenas: fewer where the environment can be set for the process.
    expect(read('Dockerfile')).toMatch(/^\s+MALLOC_ARENA_MAX=2 \\$/m);
    expect(read('deploy/rollcall.service')).toMatch(/^Environment=MALLOC_ARENA_MAX=2$/m);
  });

  it('take effect when the bin runs through its shebang', async () => {
    // A copy with the execute bit, run as a program (as npx and npm's bin links do).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-shebang-'));
    const probe = `${read('src/cli.ts').split('\n')[0]}\nconsole.log(process.execArgv.join(' '));\n`;
    fs.writeFileSync(path.join(dir, 'probe.cjs'), probe, { mode: 0o755 });
    try {
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(path.join(dir, 'probe.cjs'), [], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` } });
        let text = '';
        child.stdout.on('data', (d) => (text += d));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`exit ${code}`))));
      });
      expect(out).toBe(SHIPPED_NODE_ARGS.join(' '));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
