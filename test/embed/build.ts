/**
 * The embedding tests that run the package as an installed user would (the example
 * app through `import 'rollcall'`, the packed tarball) need a current dist/. `npm
 * test` and CI build before the tests; when run alone after an edit, `ensureBuilt`
 * builds once, under a lock, since Vitest runs these files side by side (once per
 * database backend).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every src/**.ts has a dist/**.js (and .d.ts) at least as new. */
export function distIsCurrent(): boolean {
  const src = path.join(REPO, 'src');
  for (const file of sourceFiles(src)) {
    const rel = path.relative(src, file).replace(/\.ts$/, '');
    const js = path.join(REPO, 'dist', `${rel}.js`);
    const dts = path.join(REPO, 'dist', `${rel}.d.ts`);
    if (!fs.existsSync(js) || !fs.existsSync(dts)) return false;
    if (fs.statSync(js).mtimeMs < fs.statSync(file).mtimeMs) return false;
  }
  return true;
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `rollcall-build-${createHash('sha256').update(REPO).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a killed run is stale after two minutes.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds dist/ (npm run build) unless it is current. Type errors elsewhere in src do not stop the emit. */
export async function ensureBuilt(): Promise<void> {
  if (distIsCurrent()) return;
  await withLock(async () => {
    if (distIsCurrent()) return;
    try {
      await run('npm', ['run', 'build'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    } catch (e) {
      // tsc still writes its output; a type error is the typecheck's business, a missing file is ours.
      if (!fs.existsSync(path.join(REPO, 'dist/index.js'))) throw e;
      console.warn(`npm run build reported errors:\n${(e as { stdout?: string }).stdout ?? e}`);
    }
  });
}
