/** Server processes: the baseline server, Rollcall servers' output, fresh servers per mode. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot, startServer } from '../../test/conformance/server-process.mjs';

/** What a server printed since `mark` (its output length then), trimmed for a note. */
export function outputSince(server, mark, max = 1500) {
  const out = server.output();
  const s = out.length >= mark ? out.slice(mark) : out;
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** Starts bench/baseline-server.mjs serving `docFile`; resolves to { url, pid, stop } once it listens. */
export const startBaseline = (docFile) => startBenchServer('baseline-server.mjs', [docFile]);

/** Starts bench/null-scim-server.mjs (the Entra-shaped cycle's ceiling); resolves to { url, pid, stop }. */
export const startNullScim = () => startBenchServer('null-scim-server.mjs', []);

/** A bench/ script that prints "… listening on URL"; resolves to { url, pid, stop } once it does. */
async function startBenchServer(script, args) {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bench', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 10_000);
    const onData = (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}): ${out}`)));
  });
  return {
    url,
    pid: child.pid,
    stop: async () => {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/**
 * Runs `measure(server, mode, round)` on a fresh SQLite server per mode (`env(mode)`
 * its environment), alternating off, on, off, on … so drift in the machine's load
 * hits both; medians per mode.
 */
export async function alternatingRounds(name, rounds, env, measure) {
  const results = { off: [], on: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const mode of ['off', 'on']) {
      const server = await startServer({ name: `rollcall-bench-${name}-${mode}`, logLevel: 'warn', extraEnv: env(mode) });
      try {
        results[mode].push(await measure(server, mode, round));
      } finally {
        await server.stop();
      }
    }
  }
  const median = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const pick = (mode) => ({
    perSec: median(results[mode].map((x) => x.perSec)),
    cpuUsPerReq: median(results[mode].map((x) => x.cpuUsPerReq ?? NaN)),
    p50: median(results[mode].map((x) => x.p50)),
    p99: median(results[mode].map((x) => x.p99)),
  });
  return { rounds, off: pick('off'), on: pick('on'), all: results };
}
