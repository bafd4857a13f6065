/** What the bench reads about this machine and its processes (/proc, os, git). */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { repoRoot } from '../../test/conformance/server-process.mjs';

export function machine() {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  return {
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    cpu,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg(),
  };
}

/** The code measured: commit and whether src/ has uncommitted changes ('' outside a git checkout). */
export function codeRevision() {
  try {
    const git = (...a) => execFileSync('git', ['-C', repoRoot, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const rev = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') ? `${rev} + uncommitted changes in src/` : rev;
  } catch {
    return '';
  }
}

export function fileSize(p) {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU seconds (user + system) a process has used so far, from /proc; null where /proc is absent. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

export function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** RSS split as the kernel counts it: anonymous memory (heaps, SQLite's page caches) and file pages mapped in (SQLite's mmap of the database). */
export function rssSplitMiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(s)?.[1] ?? NaN) / 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { anon: NaN, file: NaN };
  }
}
