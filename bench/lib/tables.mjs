/** The result tables (main and scaling) as rows of strings, and how they are printed and written. */
import { SIZES } from './config.mjs';
import { fmtInt, fmtMs, fmtPct, fmtUs, log } from './format.mjs';

/** Row definitions: key, operation, users stored. */
function rowDefs() {
  const defs = [{ key: 'baseline', op: 'baseline: node:http, fixed JSON', users: '–', kind: 'baseline' }];
  SIZES.forEach((s, i) => defs.push({ key: `create:${s}`, op: 'POST /Users (create)', users: `${fmtInt(i ? SIZES[i - 1] : 0)} → ${fmtInt(s)}`, kind: 'create' }));
  if (SIZES.length > 1) defs.push({ key: 'create-overall', op: 'POST /Users (create), overall', users: `0 → ${fmtInt(SIZES[SIZES.length - 1])}`, kind: 'create' });
  for (const s of SIZES) defs.push({ key: `get:${s}`, op: 'GET /Users/{id}', users: fmtInt(s), kind: 'get', size: s });
  for (const s of SIZES) defs.push({ key: `filter:${s}`, op: 'GET /Users?filter=userName eq "…"', users: fmtInt(s), kind: 'filter', size: s });
  return defs;
}

const FLAG = ' ⚠';

export function table(run) {
  const base = run.baseline?.reqPerSec;
  const head = ['operation', 'users stored'];
  const cols = [];
  for (const b of run.backends) {
    const L = b.label;
    if (b.skipped) {
      head.push(L);
      cols.push((def) => (def.key === 'baseline' ? `not run: ${b.skipped}` : '–'));
      continue;
    }
    const cell = (def) => (def.key === 'baseline' && run.baseline ? run.baseline : b.cells[def.key]);
    head.push(`${L} req/s`, `${L} vs baseline`, `${L} p50 / p99 ms`, `${L} server CPU µs/req`);
    cols.push((def) => {
      const c = cell(def);
      if (!c) return '–';
      // A seeding phase cut short: the GETs ran on fewer users than the row says.
      const fewer = c.users != null && def.size != null && c.users !== def.size ? ` (at ${fmtInt(c.users)} users)` : '';
      return fmtInt(c.reqPerSec) + (def.kind === 'create' ? ' users/s' : '') + fewer + (c.flagged ? FLAG : '');
    });
    cols.push((def) => {
      const c = cell(def);
      return c && base ? fmtPct(c.reqPerSec / base) : '–';
    });
    cols.push((def) => {
      const c = cell(def);
      return c && c.p50 != null ? `${fmtMs(c.p50)} / ${fmtMs(c.p99)}` : '–';
    });
    cols.push((def) => fmtUs(cell(def)?.cpuUsPerReq));
    if (b.pg?.probe) {
      head.push(`${L} CPU µs/req (postgres backends)`);
      cols.push((def) => (def.key === 'baseline' ? '–' : fmtUs(b.cells[def.key]?.pgCpuUsPerReq)));
    }
  }
  const body = rowDefs().map((def) => [def.op, def.users, ...cols.map((f) => f(def))]);
  return [head, ...body];
}

/** The scaling run's table (null when it did not run). */
export function scalingTable(run) {
  const b = run.backends.find((x) => x.scaling?.rows?.length);
  if (!b) return null;
  const s = b.scaling;
  const head = ['operation (PostgreSQL)', 'instances', 'connections', 'req/s', '× 1 instance', 'p50 / p99 ms', 'server CPU µs/req (all instances)', 'CPU µs/req (postgres backends)'];
  const body = s.rows.map((row) => {
    const one = s.rows.find((x) => x.op === row.op && x.n === 1);
    const r = row.r;
    return [
      row.op,
      String(row.n),
      row.conns.join(' + '),
      fmtInt(r.reqPerSec) + (row.op.startsWith('POST') ? ' users/s' : '') + (row.n > 1 ? ` (${r.perTarget.map(fmtInt).join(' + ')})` : '') + (row.flagged ? FLAG : ''),
      row.n > 1 && one ? `×${(r.reqPerSec / one.r.reqPerSec).toFixed(2)}` : '–',
      `${fmtMs(r.p50)} / ${fmtMs(r.p99)}`,
      fmtUs(r.cpuUsPerReq),
      fmtUs(r.pgCpuUsPerReq),
    ];
  });
  return [head, ...body];
}

export function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  log(line(rows[0]));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) log(line(r));
}

export function mdTable(t, left = 2) {
  const lines = [];
  lines.push(`| ${t[0].join(' | ')} |`);
  lines.push(`|${t[0].map((_, i) => (i < left ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of t.slice(1)) lines.push(`| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  return lines;
}

/**
 * The Entra ID-shaped cycle's table: one row per backend and in-flight count (null
 * when no cycle ran), plus the per-kind latencies as "p50 / p99" columns.
 */
export function cycleTable(run) {
  const rows = [];
  const kinds = new Set();
  for (const b of run.backends) for (const r of b.cycle?.rows ?? []) for (const k of Object.keys(r.rollcall.kinds)) kinds.add(k);
  if (!kinds.size) return null;
  const head = ['backend', 'in flight', 'null server req/s', 'Rollcall req/s', 'share of the ceiling', 'server CPU µs/req', 'postgres CPU µs/req', ...[...kinds].map((k) => `${k} p50 / p99 ms`), 'verified'];
  for (const b of run.backends) {
    for (const r of b.cycle?.rows ?? []) {
      const v = r.verify;
      rows.push([
        b.label,
        String(r.inFlight),
        fmtInt(r.ceiling.reqPerSec),
        fmtInt(r.rollcall.reqPerSec) + (r.rollcall.failures || r.rollcall.failure ? FLAG : ''),
        r.share.toFixed(2),
        fmtUs(r.rollcall.cpuUsPerReq),
        fmtUs(r.rollcall.pgCpuUsPerReq),
        ...[...kinds].map((k) => {
          const s = r.rollcall.kinds[k];
          return s ? `${fmtMs(s.p50)} / ${fmtMs(s.p99)}` : '–';
        }),
        v.ok ? `all ${fmtInt(v.usersFound)} users, ${fmtInt(v.membersFound)} members, ${v.sampleOk} sampled correct` : `${v.problems.length} problems${FLAG}`,
      ]);
    }
  }
  return [head, ...rows];
}

/**
 * Where a write's time goes (workloads/write-budget.mjs): one row per part of a
 * request, µs per create and share per backend (null when the budget did not run).
 */
export function budgetTable(run) {
  const bs = run.backends.filter((b) => b.budget);
  if (!bs.length) return null;
  const parts = [...new Set(bs.flatMap((b) => b.budget.parts.map((p) => p.part)))];
  const head = ['part of a create (main thread)', ...bs.flatMap((b) => [`${b.label} µs`, `${b.label} share`, `${b.label} mostly in`])];
  const rows = parts.map((part) => [
    part,
    ...bs.flatMap((b) => {
      const p = b.budget.parts.find((x) => x.part === part);
      if (!p) return ['–', '–', ''];
      return [fmtInt(p.us), fmtPct(p.us / b.budget.busyUsPerCreate), p.top.filter((t) => t.us >= 1).map((t) => `${t.fn.split(' ')[0]} ${fmtInt(t.us)}`).join(', ')];
    }),
  ]);
  rows.push(['all (main thread busy)', ...bs.flatMap((b) => [fmtInt(b.budget.busyUsPerCreate), '100%', ''])]);
  rows.push(['server process CPU, all threads', ...bs.flatMap((b) => [fmtInt(b.budget.cpuUsPerCreate), '', ''])]);
  if (bs.some((b) => b.budget.pgCpuUsPerCreate != null)) rows.push(['PostgreSQL backends CPU', ...bs.flatMap((b) => [b.budget.pgCpuUsPerCreate != null ? fmtInt(b.budget.pgCpuUsPerCreate) : '–', '', ''])]);
  return [head, ...rows];
}
