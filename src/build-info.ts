/**
 * Which Rollcall this is: the package version and, when known, the commit it was
 * built from. The commit comes from ROLLCALL_COMMIT (a container build sets it),
 * else dist/build-info.json (written by `npm run build` in a git checkout), else
 * the checkout's .git beside package.json; an installed package without any of
 * them reports none. Imports nothing of ours: every layer may ask.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  /** Full commit hash, or undefined when nothing tells it. */
  commit?: string;
  node: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/ and src/ both sit directly below the package root. */
const packageRoot = path.resolve(here, '..');

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const HASH = /^[0-9a-f]{7,64}$/;

/** HEAD's commit read from a .git directory, without running git. */
export function commitFromGit(gitDir: string): string | undefined {
  try {
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (HASH.test(head)) return head;
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return undefined;
    const loose = path.join(gitDir, ref);
    if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim();
    const packed = fs.readFileSync(path.join(gitDir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      const [hash, name] = line.split(' ');
      if (name === ref && HASH.test(hash)) return hash;
    }
  } catch {
    // not a checkout, or an unreadable one: no commit
  }
  return undefined;
}

let cached: BuildInfo | undefined;

export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  if (cached && env === process.env) return cached;
  const version = String(readJson(path.join(packageRoot, 'package.json'))?.version ?? '0.0.0');
  const fromEnv = env.ROLLCALL_COMMIT?.trim().toLowerCase();
  const fromBuild = readJson(path.join(packageRoot, 'dist', 'build-info.json'))?.commit;
  const commit =
    (fromEnv && HASH.test(fromEnv) ? fromEnv : undefined) ??
    (typeof fromBuild === 'string' && HASH.test(fromBuild) ? fromBuild : undefined) ??
    commitFromGit(path.join(packageRoot, '.git'));
  const info = { version, commit, node: process.versions.node };
  if (env === process.env) cached = info;
  return info;
}

/** `0.1.0 (commit 1a2b3c4d5e6f)` or `0.1.0`. */
export function versionLine(info: BuildInfo = buildInfo()): string {
  return info.commit ? `${info.version} (commit ${info.commit.slice(0, 12)})` : info.version;
}
