/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): where the busy samples
 * fall (idle ones, waiting for I/O, are left out), by package / area (inclusive:
 * share of samples with that area anywhere on the stack) and by function (self time).
 * The profiler samples wall-clock time: on a machine whose cores are contended, time
 * the thread spent preempted lands on whatever it was doing (often a syscall such
 * as writev), so profile at a rate the machine can serve (BENCH_PROF_RATE).
 *
 *   node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top 25]
 *
 * Also exported as summarizeProfile(profile) for bench/run.mjs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Coarse area of a call frame: an npm package, a project file under dist/, Node internals, or a V8 pseudo-frame. */
export function areaOf(frame) {
  const url = frame.url || '';
  if (!url) {
    const fn = frame.functionName || '';
    if (fn.startsWith('(')) return fn; // (garbage collector), (idle), (program), (root)
    return '(native)';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `rollcall ${url.slice(dist + 1).replace(/^file:\/\//, '')}`;
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile, { top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfUs = new Map(); // node id -> microseconds
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to sample i.
    const dt = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    if (byId.get(samples[i]).callFrame.functionName === '(idle)') {
      idleUs += dt; // waiting for I/O: left out of the shares below
      continue;
    }
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
    totalUs += dt;
  }

  const selfByFn = new Map();
  const inclusiveByArea = new Map();
  const selfByArea = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${areaOf(f)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    selfByFn.set(key, (selfByFn.get(key) ?? 0) + us);
    const area = areaOf(f);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    // Inclusive by area: count each area once per stack.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      if (cf.functionName === '(root)') continue;
      let a = areaOf(cf);
      if (a.startsWith('rollcall ')) a = `rollcall ${a.split(' ')[1].split('/').slice(0, 2).join('/')}`;
      seen.add(a);
    }
    for (const a of seen) inclusiveByArea.set(a, (inclusiveByArea.get(a) ?? 0) + us);
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const pct = (us) => (totalUs ? (100 * us) / totalUs : 0);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    selfByFunction: sorted(selfByFn)
      .slice(0, top)
      .map(([k, us]) => ({ fn: k, ms: us / 1000, pct: pct(us) })),
    selfByArea: sorted(selfByArea)
      .slice(0, top)
      .map(([k, us]) => ({ area: k, ms: us / 1000, pct: pct(us) })),
    inclusiveByArea: sorted(inclusiveByArea)
      .slice(0, top)
      .map(([k, us]) => ({ area: k, ms: us / 1000, pct: pct(us) })),
  };
}

export function formatSummary(s) {
  const lines = [];
  lines.push(`CPU profile: ${(s.totalMs / 1000).toFixed(1)} s busy, ${(s.idleMs / 1000).toFixed(1)} s idle; shares are of the busy samples`);
  lines.push('Inclusive share by area (samples with the area anywhere on the stack):');
  for (const r of s.inclusiveByArea) lines.push(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.area}`);
  lines.push('Self time by area:');
  for (const r of s.selfByArea) lines.push(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.area}`);
  lines.push('Self time by function:');
  for (const r of s.selfByFunction) lines.push(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.fn}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const ti = process.argv.indexOf('--top');
  const top = ti > 0 ? Number(process.argv[ti + 1]) || 25 : 25;
  console.log(formatSummary(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), { top })));
}
