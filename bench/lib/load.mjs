/** autocannon runs: one measurement (possibly several servers in parallel) and what went wrong in it. */
import autocannon from 'autocannon';
import { DURATION, WARMUP_S } from './config.mjs';
import { fmtInt } from './format.mjs';
import { cpuSeconds } from './system.mjs';

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/**
 * One measurement: one or more autocannon runs in parallel (one per target, e.g. one per
 * server instance), with their 2xx counts and req/s summed and their latencies merged.
 * Latencies of 2xx responses are recorded from autocannon's 'response' events
 * (sub-millisecond precision; its own histogram rounds to whole ms).
 * CPU: `pids` are the server processes (user + system CPU from /proc, summed), `pgProbe`
 * the PostgreSQL backends of the bench database; both are divided by the requests sent.
 */
export async function load(targets, { pids = [], pgProbe = null, stopAfterS } = {}) {
  const latencies = [];
  const cpu0 = pids.map(cpuSeconds);
  const pg0 = pgProbe ? await pgProbe.snapshot().catch(() => null) : null;
  const t0 = process.hrtime.bigint();
  const runs = await Promise.all(targets.map((opts) => oneCannon(opts, stopAfterS, latencies)));
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = pids.map(cpuSeconds);
  const pg1 = pg0 ? await pgProbe.snapshot().catch(() => null) : null;
  latencies.sort((a, b) => a - b);
  const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
  const ok = sum((r) => r['2xx']);
  const requests = sum((r) => r.requests.total) || ok;
  const statusCodeStats = {};
  for (const r of runs) for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodeStats[code] = (statusCodeStats[code] ?? 0) + (s?.count ?? 0);
  const amountRun = targets.some((t) => t.amount);
  const serverCpu = pids.length && cpu0.every((c) => c != null) && cpu1.every((c) => c != null) ? cpu1.reduce((a, c, i) => a + c - cpu0[i], 0) : null;
  return {
    ok,
    requests,
    // Server CPU (user + system) per request: robust to other load on the machine, unlike req/s.
    cpuUsPerReq: serverCpu != null && requests ? (serverCpu * 1e6) / requests : null,
    pgCpuUsPerReq: pg0 && pg1 && requests ? (pgProbe.delta(pg0, pg1) * 1e6) / requests : null,
    pgXactsPerReq: pg0 && pg1 && requests ? pgProbe.counts(pg0, pg1).xacts / requests : null,
    pgCounts: pg0 && pg1 ? pgProbe.counts(pg0, pg1) : null,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodeStats,
    elapsedS,
    // Runs bounded by a count: created per wall-clock second of the whole measurement.
    reqPerSec: amountRun ? ok / elapsedS : sum((r) => r['2xx'] / r.duration),
    perTarget: runs.map((r) => (amountRun ? r['2xx'] / elapsedS : r['2xx'] / r.duration)),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function oneCannon(opts, stopAfterS, latencies) {
  return new Promise((resolve, reject) => {
    let stopTimer;
    const instance = autocannon({ timeout: 30, ...opts }, (err, result) => {
      clearTimeout(stopTimer);
      if (err) reject(err);
      else resolve(result);
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
    if (stopAfterS) stopTimer = setTimeout(() => instance.stop(), stopAfterS * 1000);
  });
}

/** null when every response was 2xx; else a description of what went wrong. */
export function problems(r) {
  if (!r.non2xx && !r.errors) return null;
  const codes = Object.entries(r.statusCodeStats)
    .filter(([c]) => !/^2/.test(c))
    .map(([c, n]) => `${c}: ${fmtInt(n)}`)
    .join(', ');
  return `${fmtInt(r.non2xx)} non-2xx responses${codes ? ` (${codes})` : ''} and ${fmtInt(r.errors)} connection errors (${fmtInt(r.timeouts)} timeouts) out of ${fmtInt(r.requests)} requests`;
}

/**
 * load() of `targets` for WARMUP_S seconds (not recorded), then for DURATION seconds
 * with `opts`; `beforeMeasure` runs in between (e.g. to mark the servers' output).
 */
export async function warmThenMeasure(targets, opts, beforeMeasure) {
  await load(targets.map((t) => ({ ...t, duration: WARMUP_S })));
  beforeMeasure?.();
  return load(
    targets.map((t) => ({ ...t, duration: DURATION })),
    opts,
  );
}
