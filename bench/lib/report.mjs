/** The run's results: verdicts against the targets, notes, the console summary and docs/benchmarks.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../test/conformance/server-process.mjs';
import {
  CONNECTIONS,
  DOCS,
  DURATION,
  env,
  RATE_LIMIT_ON,
  LOOKUP_CONNECTIONS,
  SEED_CONNECTIONS,
  SIZES,
  TARGET_CREATE_PER_S,
  TARGET_CYCLE_SHARE,
  TARGET_SINGLE_CREATE_P50_MS,
  TARGET_FILTER_GROWTH,
  TARGET_GET_RATIO,
  TARGET_OUTBOX_COST,
  TARGET_REQUEST_LOG_COST,
  WARMUP_S,
} from './config.mjs';
import { fmtInt, fmtMs, fmtPct, fmtUs, log } from './format.mjs';
import { budgetTable, cycleTable, mdTable, printTable, scalingTable, table } from './tables.mjs';

function rateLimitLines(run) {
  const r = run.rateLimit;
  if (!r) return [];
  const ratio = r.on.perSec / r.off.perSec;
  const cpu = r.on.cpuUsPerReq / r.off.cpuUsPerReq - 1;
  return [
    `Rate limit cost (SQLite, GET /Users/{id}, median of ${r.rounds} alternating rounds): off ${fmtInt(r.off.perSec)} req/s at ${fmtUs(r.off.cpuUsPerReq)} µs server CPU per request; on (${fmtInt(RATE_LIMIT_ON)}/min, every request counted) ${fmtInt(r.on.perSec)} req/s at ${fmtUs(r.on.cpuUsPerReq)} µs. ` +
      `Throughput ×${ratio.toFixed(2)}, CPU per request ${cpu >= 0 ? '+' : ''}${(100 * cpu).toFixed(0)}%.`,
  ];
}

function outboxLines(run) {
  const o = run.outbox;
  if (!o) return [];
  const throughputCost = 1 - o.on.perSec / o.off.perSec;
  const cpuCost = o.on.cpuUsPerReq / o.off.cpuUsPerReq - 1;
  const met = throughputCost <= TARGET_OUTBOX_COST;
  return [
    `Outbox cost (SQLite, ${fmtInt(o.users)} creates on a fresh database per configuration, median of ${o.rounds} alternating rounds): events off ${fmtInt(o.off.perSec)} users/s at ${fmtUs(o.off.cpuUsPerReq)} µs server CPU per create; events on ${fmtInt(o.on.perSec)} users/s at ${fmtUs(o.on.cpuUsPerReq)} µs. ` +
      `Throughput ${throughputCost >= 0 ? 'cost' : 'difference'} ${(100 * throughputCost).toFixed(0)}%, CPU per create +${(100 * cpuCost).toFixed(0)}%: target ≤ ${(100 * TARGET_OUTBOX_COST).toFixed(0)}% ${met ? 'met' : 'missed'}.`,
  ];
}

function requestLogLines(run) {
  const o = run.requestLog;
  if (!o) return [];
  const throughputCost = 1 - o.on.perSec / o.off.perSec;
  const cpuCost = o.on.cpuUsPerReq / o.off.cpuUsPerReq - 1;
  const met = throughputCost <= TARGET_REQUEST_LOG_COST;
  return [
    `Provisioning log cost (SQLite, ${fmtInt(o.users)} creates on a fresh database per configuration, events on, median of ${o.rounds} alternating rounds): log off ${fmtInt(o.off.perSec)} users/s at ${fmtUs(o.off.cpuUsPerReq)} µs server CPU per create; log on ${fmtInt(o.on.perSec)} users/s at ${fmtUs(o.on.cpuUsPerReq)} µs. ` +
      `Throughput ${throughputCost >= 0 ? 'cost' : 'difference'} ${(100 * Math.abs(throughputCost)).toFixed(0)}%, CPU per create ${cpuCost >= 0 ? '+' : ''}${(100 * cpuCost).toFixed(0)}%: target ≤ ${(100 * TARGET_REQUEST_LOG_COST).toFixed(0)}% ${met ? 'met' : 'missed'}.`,
  ];
}

/** The cycle's verdicts (issue 14's targets), its single-create latency and the kill-and-resume run; the lookup at a million users. */
function cycleLines(run) {
  const out = [];
  for (const b of run.backends) {
    if (b.google) out.push(`${b.label}: Google Workspace full sync (issue 15) of ${fmtInt(b.google.users)} users and 20 groups from the local fake Directory API through Google's client libraries, provisioning log on: ${b.google.seconds} s, ${fmtInt(b.google.perSec)} users/s, ${fmtInt(b.google.requests)} requests to Google; a re-run with nothing changed ${b.google.quietSeconds} s.`);
    if (b.googleFailed) out.push(`${b.label}: Google Workspace sync FAILED: ${b.googleFailed.split('\n')[0]}`);
    if (b.lookupFailed) out.push(`${b.label}: userName eq at ${fmtInt(env.BENCH_LOOKUP_USERS ?? 1_000_000)} users FAILED: ${b.lookupFailed.split('\n')[0]}`);
    const l = b.lookupScale;
    if (l) {
      const ok = l.large.p50 <= l.targetP50 && l.growth <= l.targetGrowth;
      out.push(
        `${b.label}: userName eq at ${fmtInt(l.users)} users (copied in SQL from ${fmtInt(l.base)} created through the API) vs ${fmtInt(l.base)}, ${LOOKUP_CONNECTIONS} connections: p50 ${fmtMs(l.large.p50)} vs ${fmtMs(l.small.p50)} ms (×${l.growth.toFixed(2)}), p99 ${fmtMs(l.large.p99)} vs ${fmtMs(l.small.p99)} ms, ${fmtInt(l.large.reqPerSec)} vs ${fmtInt(l.small.reqPerSec)} req/s` +
          `${l.bytes ? `; the SQLite file at ${fmtInt(l.users)} users: ${fmtInt(l.bytes / 2 ** 20)} MiB` : ''}: target p50 ≤ ${l.targetP50} ms and ×${l.targetGrowth} ${ok ? 'met' : 'missed'}.`,
      );
    }
    if (b.cycleFailed) out.push(`${b.label}: Entra-shaped cycle FAILED: ${b.cycleFailed.split('\n')[0]}`);
    const c = b.cycle;
    if (!c) continue;
    const target = TARGET_CYCLE_SHARE[b.key];
    for (const r of c.rows) {
      const verdict = r.inFlight === 4 && target ? `: target ≥ ${target} ${r.share >= target && r.verify.ok && !r.rollcall.failures ? 'met' : 'missed'}` : '';
      out.push(`${b.label}: Entra-shaped cycle (${fmtInt(c.users)} users, ${c.groups} groups) at ${r.inFlight} in flight: ${fmtInt(r.rollcall.reqPerSec)} req/s, ${r.share.toFixed(2)} of the null server's ${fmtInt(r.ceiling.reqPerSec)} req/s, ${r.rollcall.failures} failed requests, verification ${r.verify.ok ? 'complete' : 'found problems'}${verdict}.`);
    }
    if (c.single) {
      const met = b.key === 'sqlite' ? `: target p50 ≤ ${TARGET_SINGLE_CREATE_P50_MS} ms ${c.single.p50 <= TARGET_SINGLE_CREATE_P50_MS ? 'met' : 'missed'}` : '';
      out.push(`${b.label}: POST /Users with 1 in flight (${fmtInt(c.single.count)} creates): p50 ${fmtMs(c.single.p50)} ms, p99 ${fmtMs(c.single.p99)} ms, ${fmtInt(c.single.perSec)} users/s, server CPU ${fmtUs(c.single.cpuUsPerReq)} µs/create${met}.`);
    }
    const k = c.kill;
    if (k) {
      out.push(
        `${b.label}: initial cycle of ${fmtInt(k.users)} users at 4 in flight, server SIGKILLed after ${k.killedAfterS.toFixed(0)} s (${fmtInt(k.acknowledgedBeforeKill)} acknowledged), restarted in ${k.restartS.toFixed(1)} s, ${fmtInt(k.resumed)} users resumed: ${k.seconds.toFixed(0)} s in all; ` +
          `${fmtInt(k.verify.usersFound)}/${fmtInt(k.users)} users found exactly once, ${fmtInt(k.verify.totalResults)} in the connection, ${k.lost} acknowledged users lost${k.verify.ok && !k.lost ? '' : ' ⚠'}.`,
      );
    }
  }
  return out;
}

function verdicts(run) {
  const out = [];
  const pctOff = (got, want) => `${((100 * (want - got)) / want).toFixed(0)}%`;
  for (const b of run.backends) {
    const L = b.label;
    if (b.skipped) {
      out.push(`${L}: not run: ${b.skipped}`);
      continue;
    }
    if (b.failed) out.push(`${L}: FAILED: ${b.failed.split('\n')[0]}`);
    if (b.seedSeconds) {
      const rate = b.overallCreate || b.created / b.seedSeconds;
      out.push(
        rate >= TARGET_CREATE_PER_S
          ? `${L}: POST /Users: ${fmtInt(rate)} users/s creating ${fmtInt(b.created)} users: target ≥ ${fmtInt(TARGET_CREATE_PER_S)}/s met.`
          : `${L}: POST /Users: ${fmtInt(rate)} users/s creating ${fmtInt(b.created)} users: target ≥ ${fmtInt(TARGET_CREATE_PER_S)}/s missed by ${pctOff(rate, TARGET_CREATE_PER_S)}.`,
      );
    }
    if (run.baseline) {
      for (const size of SIZES) {
        const c = b.cells[`get:${size}`];
        if (!c) continue;
        const ratio = c.reqPerSec / run.baseline.reqPerSec;
        out.push(
          ratio >= TARGET_GET_RATIO
            ? `${L}: GET /Users/{id} at ${fmtInt(c.users)} users: ${fmtPct(ratio)} of baseline: target ≥ 50% met.`
            : `${L}: GET /Users/{id} at ${fmtInt(c.users)} users: ${fmtPct(ratio)} of baseline: target ≥ 50% missed (needs ${fmtInt(TARGET_GET_RATIO * run.baseline.reqPerSec)} req/s, ${pctOff(ratio, TARGET_GET_RATIO)} short).`,
        );
      }
    }
    const filt = SIZES.map((s) => b.cells[`filter:${s}`]).filter(Boolean);
    if (filt.length >= 2) {
      const a = filt[0];
      const z = filt[filt.length - 1];
      const r50 = z.p50 / a.p50;
      const r99 = z.p99 / a.p99;
      const ok = r50 <= TARGET_FILTER_GROWTH && r99 <= TARGET_FILTER_GROWTH;
      out.push(
        `${L}: filter userName eq at ${fmtInt(z.users)} vs ${fmtInt(a.users)} users: p50 ${fmtMs(z.p50)} vs ${fmtMs(a.p50)} ms (×${r50.toFixed(2)}), p99 ${fmtMs(z.p99)} vs ${fmtMs(a.p99)} ms (×${r99.toFixed(2)}); ` +
          (ok ? `about the same (within ×${TARGET_FILTER_GROWTH}): target met.` : `grows with the store (more than ×${TARGET_FILTER_GROWTH}): target missed.`),
      );
    } else if (filt.length === 1) {
      out.push(`${L}: filter latency growth not measured: only one size.`);
    }
  }
  const sb = run.backends.find((x) => x.scaling?.rows?.length);
  if (sb) {
    for (const op of [...new Set(sb.scaling.rows.map((r) => r.op))]) {
      const one = sb.scaling.rows.find((r) => r.op === op && r.n === 1);
      const two = sb.scaling.rows.find((r) => r.op === op && r.n === 2);
      if (one && two) {
        out.push(
          `PostgreSQL scaling, ${op}: ${fmtInt(one.r.reqPerSec)} → ${fmtInt(two.r.reqPerSec)} ${op.startsWith('POST') ? 'users/s' : 'req/s'} from 1 to 2 instances (×${(two.r.reqPerSec / one.r.reqPerSec).toFixed(2)}); server CPU ${fmtUs(one.r.cpuUsPerReq)} → ${fmtUs(two.r.cpuUsPerReq)} µs/req summed over the instances.`,
        );
      }
    }
  }
  return out;
}

function allNotes(run) {
  const notes = [];
  for (const b of run.backends) notes.push(...b.notes);
  const sb = run.backends.find((x) => x.scaling?.rows?.length);
  if (sb) {
    notes.push(
      `The scaling run used the PostgreSQL database seeded to the largest size (${fmtInt(sb.scaling.usersAtStart)} users at its start, ${fmtInt(sb.scaling.usersAtEnd)} at its end); the two instances' req/s are shown in parentheses.`,
    );
  }
  return notes;
}

function pgLine(run) {
  const b = run.backends.find((x) => x.pg);
  if (!b) return null;
  const p = b.pg;
  const s = p.settings;
  const pool = (() => {
    try {
      return new URL(p.dbUrl).searchParams.get('pool');
    } catch {
      return null;
    }
  })() ?? env.DATABASE_POOL_SIZE;
  return (
    `PostgreSQL ${p.version} on ${p.host}, from ${p.source}: fsync ${s.fsync}, synchronous_commit ${s.synchronous_commit}, shared_buffers ${s.shared_buffers}, max_connections ${s.max_connections}; ` +
    `each Rollcall instance's pool: ${pool ? `${pool} connections` : '10 connections (server default)'}. ` +
    (p.probe ? 'PostgreSQL CPU per request sums the CPU of the bench database\'s backends (from /proc); shared background processes (WAL writer, checkpointer) are not counted.' : `PostgreSQL CPU per request not measured: ${p.probeWhy}.`)
  );
}

function markdown(run) {
  const m = run.machine;
  const lines = [];
  const measured = run.backends.filter((b) => !b.skipped).map((b) => b.label);
  lines.push(
    `Last run: ${run.started.toISOString().replace(/\.\d+Z$/, 'Z')}${run.revision ? ` on commit ${run.revision}` : ''} (\`npm run bench\`, ${measured.join(' and ') || 'no backend'}, ${DURATION} s per GET measurement after a ${WARMUP_S} s warm-up, ${CONNECTIONS} connections; POST with ${SEED_CONNECTIONS} connections). The run took ${run.elapsedMin.toFixed(1)} min.`,
  );
  lines.push('');
  lines.push(
    `Machine: ${m.cores} cores (\`nproc\`), ${m.memGiB.toFixed(1)} GiB memory, CPU ${m.cpu}, Node ${m.node}, ${m.platform}. Load average at start ${m.loadavg.map((l) => l.toFixed(2)).join(' ')}, at end ${run.loadEnd.map((l) => l.toFixed(2)).join(' ')}. Server, load generator, PostgreSQL (and anything else running) share these cores.`,
  );
  const pl = pgLine(run);
  if (pl) {
    lines.push('');
    lines.push(pl);
  }
  const hasMain = run.baseline || run.backends.some((b) => Object.keys(b.cells).length);
  if (hasMain) {
    lines.push('');
    lines.push(...mdTable(table(run)));
  }
  lines.push('');
  const flagged = run.backends.some((b) => Object.values(b.cells).some((c) => c?.flagged) || b.scaling?.rows?.some((r) => r.flagged));
  if (run.baseline) lines.push(`The baseline (measured once, shown under each backend) answers a fixed ${run.baseline.docBytes}-byte document: a user exactly as Rollcall returned it in this run.${flagged ? ' ⚠: non-2xx responses, errors or a seeding phase cut short: see the notes below.' : ''}`);
  const ct = cycleTable(run);
  if (ct) {
    lines.push('');
    lines.push('Entra ID-shaped cycle (bench/lib/entra-cycle.mjs; initial cycle, then the incremental one), Rollcall against the null SCIM server (the ceiling) in this run:');
    lines.push('');
    lines.push(...mdTable(ct, 2));
  }
  const bt = budgetTable(run);
  if (bt) {
    lines.push('');
    lines.push(`Where a create's time goes (bench/workloads/write-budget.mjs): POST /Users one at a time, ${fmtInt(run.backends.find((b) => b.budget)?.budget.creates)} creates after a warm-up, the server's main-thread CPU profile sorted into parts (a sample counts for the first part, in this order, that any frame on its stack belongs to):`);
    lines.push('');
    lines.push(...mdTable(bt, 1));
    for (const b of run.backends) {
      const g = b.budget;
      if (g?.syscallsPerCreate) lines.push('', `${b.label}: system calls per create (strace): ${Object.entries(g.syscallsPerCreate).filter(([, v]) => v >= 0.1).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}${g.walPagesPerCommit ? `; pages written to the WAL per commit: ${g.walPagesPerCommit.toFixed(1)}` : ''}.`);
      if (b.budgetFailed) lines.push('', `${b.label}: write budget FAILED: ${b.budgetFailed.split('\n')[0]}`);
    }
  }
  const st = scalingTable(run);
  if (st) {
    lines.push('');
    lines.push('Scaling, PostgreSQL, one vs two Rollcall instances on the same database (two autocannon runs in parallel, one per instance, req/s summed):');
    lines.push('');
    lines.push(...mdTable(st, 1));
  }
  lines.push('');
  for (const v of verdicts(run)) lines.push(`- ${v}`);
  for (const v of cycleLines(run)) lines.push(`- ${v}`);
  for (const v of outboxLines(run)) lines.push(`- ${v}`);
  for (const v of requestLogLines(run)) lines.push(`- ${v}`);
  for (const v of rateLimitLines(run)) lines.push(`- ${v}`);
  if (run.rateLimitFailed) lines.push(`- Rate limit cost run FAILED: ${run.rateLimitFailed.split('\n')[0]}`);
  if (run.outboxFailed) lines.push(`- Outbox cost run FAILED: ${run.outboxFailed.split('\n')[0]}`);
  if (run.requestLogFailed) lines.push(`- Provisioning log cost run FAILED: ${run.requestLogFailed.split('\n')[0]}`);
  for (const n of allNotes(run)) lines.push(`- ${n}`);
  for (const b of run.backends) {
    for (const p of b.profiles) {
      lines.push('');
      lines.push(`CPU profile of the server under ${p.op} (\`BENCH_CPU_PROF\`), top functions by self time:`);
      lines.push('');
      for (const r of p.selfByFunction.slice(0, 10)) lines.push(`- ${r.pct.toFixed(1)}% \`${r.fn}\``);
    }
  }
  return lines.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function writeDocs(run) {
  const block = `${START}\n${markdown(run)}\n${END}`;
  let text;
  if (existsSync(DOCS)) {
    const old = readFileSync(DOCS, 'utf8');
    const a = old.indexOf(START);
    const b = old.indexOf(END);
    text = a >= 0 && b > a ? old.slice(0, a) + block + old.slice(b + END.length) : `${old.trimEnd()}\n\n## Results\n\n${block}\n`;
  } else {
    text = `# Benchmarks\n\nWritten by \`npm run bench\` (bench/run.mjs).\n\n## Results\n\n${block}\n`;
  }
  writeFileSync(DOCS, text);
  log(`\nWrote ${path.relative(repoRoot, DOCS)}`);
}

export function report(run) {
  log('\n=== Results ===');
  const pl = pgLine(run);
  if (pl) log(pl);
  if (run.baseline || run.backends.some((b) => Object.keys(b.cells).length)) printTable(table(run));
  const st = scalingTable(run);
  if (st) {
    log('\nScaling, PostgreSQL, one vs two instances on the same database:');
    printTable(st);
  }
  const ct = cycleTable(run);
  if (ct) {
    log('\nEntra ID-shaped cycle vs the null SCIM server:');
    printTable(ct);
  }
  const bt = budgetTable(run);
  if (bt) {
    log("\nWhere a create's time goes (µs per create, main thread):");
    printTable(bt);
  }
  log('');
  for (const v of verdicts(run)) log(`- ${v}`);
  for (const v of cycleLines(run)) log(`- ${v}`);
  for (const v of outboxLines(run)) log(`- ${v}`);
  for (const v of requestLogLines(run)) log(`- ${v}`);
  for (const v of rateLimitLines(run)) log(`- ${v}`);
  for (const n of allNotes(run)) log(`- ${n}`);
  log(`\nThe run took ${run.elapsedMin.toFixed(1)} min.`);
  if (env.BENCH_NO_DOCS !== '1' && !run.backends.some((b) => b.failed)) writeDocs(run);
}
