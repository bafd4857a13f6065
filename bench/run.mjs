#!/usr/bin/env node
/**
 * Rollcall load benchmark (loopback only, bounded in count and time).
 *
 *   npm run bench                       (builds, then runs this file)
 *   BENCH_USERS=2000,20000 node bench/run.mjs
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench
 *
 * One run measures, with autocannon's Node API against child processes on 127.0.0.1,
 * for each backend (SQLite, then PostgreSQL) on a fresh server and a fresh database:
 *   1. POST /Users: seeding the store through the API *is* the create measurement
 *      (users created per second), first up to the first size, then up to the next;
 *   2. GET /Users/{id} with random existing ids, at every size;
 *   3. GET /Users?filter=userName eq "…" with random existing userNames, at every size
 *      (its latency should not grow with the number of users).
 * Once per run (after the first backend's first seeding): a baseline, bare node:http
 * answering one fixed JSON document, a real SCIM user as Rollcall returns it (so the
 * same response size); every req/s is also given as a ratio to it.
 * Then, on PostgreSQL at the largest size's database, the scaling run: GET /Users/{id}
 * and POST /Users (BENCH_SCALE_USERS new users) against one instance, then against two
 * instances on the same database (a second `rollcall serve` started for it), loaded by
 * two autocannon runs in parallel, one per instance, with the connections split between
 * them and the req/s summed.
 * Prints a table (one row per operation and size, one group of columns per backend) and
 * writes it to docs/benchmarks.md (between the results markers).
 *
 * PostgreSQL comes from BENCH_PG_URL, else ROLLCALL_TEST_PG_URL (admin URLs: the bench
 * creates a database rollcall_bench_<hex> on that server and drops it afterwards), else
 * `scripts/pg-test-cluster.sh start` is tried for a throwaway cluster (stopped at the
 * end). When none works the PostgreSQL column says "not run: <reason>" and the run still
 * succeeds for SQLite.
 *
 * Environment (all optional):
 *   BENCH_BACKENDS     comma list of sqlite, postgres (default sqlite,postgres)
 *   BENCH_USERS        sizes, comma-separated, ascending (default 10000,100000)
 *   BENCH_DURATION     seconds per GET measurement (default 10)
 *   BENCH_CONNECTIONS  concurrent connections for GETs (default 20)
 *   BENCH_SEED_CONNECTIONS  concurrent connections for POST /Users (default 20)
 *   BENCH_SEED_TIMEOUT seconds allowed per seeding phase before it is cut short (default 420:
 *                      PostgreSQL creating 90,000 users at ≥ 215/s fits)
 *   BENCH_PG_URL       PostgreSQL admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres;
 *                      its query parameters (e.g. ?pool=20) are passed on to the servers'
 *                      DATABASE_URL (default: ROLLCALL_TEST_PG_URL, else a throwaway cluster)
 *   BENCH_SCALE=0      skip the one-vs-two-instances scaling run on PostgreSQL
 *   BENCH_SCALE_USERS  users created by POST /Users in each scaling configuration (default 10000)
 *   BENCH_OUTBOX=0     skip the outbox cost run (SQLite: POST /Users with ROLLCALL_EVENTS=off vs on)
 *   BENCH_OUTBOX_USERS users created per outbox configuration and round (default 20000; 2 rounds)
 *   BENCH_REQUEST_LOG=0 skip the provisioning log cost run (SQLite: POST /Users with ROLLCALL_REQUEST_LOG
 *                      off vs on, BENCH_OUTBOX_USERS users per configuration and round)
 *   BENCH_RATE=0       skip the rate-limit cost run (SQLite: GET /Users/{id} with ROLLCALL_RATE_LIMIT
 *                      off vs a limit this load never reaches, so every request is counted, none refused)
 *   BENCH_CPU_PROF=1   afterwards, restart the server with --cpu-prof, profile GET /Users/{id}
 *                      for BENCH_DURATION seconds, and print where the time goes; or a list of
 *                      get, filter, post (POST: 5,000 more users), e.g. BENCH_CPU_PROF=get,post;
 *                      done for every backend measured
 *   BENCH_PROF_RATE    requests/s for the profiled GET runs (default 0 = as fast as possible); a rate
 *                      the machine serves without saturating its cores gives a cleaner profile
 *   BENCH_CYCLE=0      skip the Entra ID-shaped cycle (each backend, before the seeding: a lookup then a
 *                      create per user, groups, member PATCHes of 50, an incremental cycle; at each
 *                      in-flight count against the null SCIM server as the ceiling, then verified)
 *   BENCH_CYCLE_USERS  users in the cycle (default 2000); BENCH_CYCLE_GROUPS groups (default 10)
 *   BENCH_CYCLE_IN_FLIGHT  comma list of requests in flight (default 4,32)
 *   BENCH_CYCLE_SINGLE_CREATES  POST /Users one at a time after the cycles (default 500)
 *   BENCH_CYCLE_KILL_USERS  when set (e.g. 100000), an initial cycle of that many users at 4 in flight with
 *                      the server SIGKILLed at half and restarted, then resumed and verified (off by default)
 *   BENCH_LOOKUP_USERS userName eq at this many users vs BENCH_LOOKUP_BASE (10000) at BENCH_LOOKUP_CONNECTIONS
 *                      (4) connections, the larger store copied in SQL from users seeded through the API
 *                      (default 1000000; 0 skips it)
 *   BENCH_BUDGET=0     skip where a write's time goes (POST /Users one at a time under --cpu-prof and strace,
 *                      BENCH_BUDGET_CREATES creates, default 2000): µs per part of a request, syscalls, WAL pages
 *   BENCH_GOOGLE=0     skip the Google Workspace full sync (BENCH_GOOGLE_USERS, default 10000, from the local
 *                      fake Directory API through Google's client libraries; workloads/google-sync.mjs)
 *   BENCH_MAIN=0       skip the seeding workload (POST, GET, filter at every size, and the scaling run)
 *   BENCH_NO_DOCS=1    do not rewrite docs/benchmarks.md
 *   BENCH_KEEP_DB=1    keep the seeded databases for a closer look: the SQLite file (its path is
 *                      printed) and the PostgreSQL database (its name is printed; not dropped)
 *
 * This file only decides what runs, in which order; the settings above are read in
 * lib/config.mjs, each workload is in workloads/, the shared machinery (autocannon,
 * servers, PostgreSQL, /proc, test users) and the results' output are in lib/.
 */
import os from 'node:os';
import { BACKEND_LABELS, BACKENDS, BUDGET, CONNECTIONS, CYCLE, DURATION, GOOGLE, KEEP_DB, LOOKUP_USERS, MAIN, OUTBOX, RATE, REQUEST_LOG, SCALE, SCALE_USERS, SEED_CONNECTIONS, SIZES } from './lib/config.mjs';
import { fmtInt, log, redact } from './lib/format.mjs';
import { preparePostgres, resolvePostgres } from './lib/postgres.mjs';
import { report } from './lib/report.mjs';
import { codeRevision, machine } from './lib/system.mjs';
import { runBackend } from './workloads/backend.mjs';
import { cycleRun } from './workloads/cycle.mjs';
import { lookupScaleRun } from './workloads/lookup-scale.mjs';
import { writeBudgetRun } from './workloads/write-budget.mjs';
import { googleSyncRun } from './workloads/google-sync.mjs';

/** The Google Workspace sync (issue 15) on `backend`: a database of its own on PostgreSQL. */
async function googleRun(backend) {
  if (!backend.pg) return googleSyncRun();
  const name = `${backend.pg.dbName}_google`;
  await backend.pg.admin.query(`create database ${name}`);
  const u = new URL(backend.pg.dbUrl);
  u.pathname = `/${name}`;
  try {
    return await googleSyncRun({ databaseUrl: u.toString() });
  } finally {
    await backend.pg.admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
  }
}
import { outboxRun } from './workloads/outbox.mjs';
import { requestLogRun } from './workloads/request-log.mjs';
import { rateLimitRun } from './workloads/rate-limit.mjs';

async function main() {
  const started = new Date();
  const t0 = Date.now();
  const m0 = machine();
  const revision = codeRevision();
  log(
    `Rollcall benchmark: backends ${BACKENDS.map((b) => BACKEND_LABELS[b]).join(', ')}; sizes ${SIZES.map(fmtInt).join(', ')}; ${DURATION} s per GET measurement, ${CONNECTIONS} connections (${SEED_CONNECTIONS} for POST)` +
      (BACKENDS.includes('postgres') && SCALE ? `; scaling run on PostgreSQL with ${fmtInt(SCALE_USERS)} creates per configuration` : ''),
  );
  log(`Machine: ${m0.cores} cores, ${m0.memGiB.toFixed(1)} GiB, ${m0.cpu}, Node ${m0.node}; load average ${m0.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  if (m0.loadavg[0] > 0.5) log(`Note: the machine is not idle (load average above 0.5); other processes share the ${m0.cores} cores and lower the numbers.`);

  const run = { started, machine: m0, revision, baseline: null, backends: [] };
  let cluster = null;
  try {
    for (const key of BACKENDS) {
      const backend = { key, label: BACKEND_LABELS[key], cells: {}, notes: [], profiles: [], created: 0, seedSeconds: 0, overallCreate: 0 };
      run.backends.push(backend);
      if (key === 'postgres') {
        try {
          const source = await resolvePostgres();
          if (source.stop) cluster = source;
          backend.pg = await preparePostgres(source.adminUrl);
          backend.pg.source = source.source;
          backend.pg.host = new URL(source.adminUrl).host;
          log(`\nPostgreSQL ${backend.pg.version} from ${source.source} (${redact(source.adminUrl)}); database ${backend.pg.dbName}`);
          if (!backend.pg.probe) log(`  PostgreSQL CPU per request not measured: ${backend.pg.probeWhy}`);
        } catch (e) {
          backend.skipped = e?.message ?? String(e);
          log(`\nPostgreSQL: not run: ${backend.skipped}`);
          continue;
        }
      }
      if (CYCLE) {
        try {
          await cycleRun(backend);
        } catch (e) {
          backend.cycleFailed = e?.message ?? String(e);
          console.error(`\n${backend.label} cycle failed: ${backend.cycleFailed}`);
        }
      }
      if (BUDGET) {
        try {
          await writeBudgetRun(backend);
        } catch (e) {
          backend.budgetFailed = e?.message ?? String(e);
          console.error(`\n${backend.label} write budget failed: ${backend.budgetFailed}`);
        }
      }
      try {
        if (MAIN) await runBackend(backend, run);
        if (GOOGLE) {
          try {
            backend.google = await googleRun(backend);
            log(`\n${backend.label}: Google Workspace full sync of ${fmtInt(backend.google.users)} users from the local fake Directory API: ${backend.google.seconds} s, ${fmtInt(backend.google.perSec)} users/s; the quiet re-run ${backend.google.quietSeconds} s`);
          } catch (e) {
            backend.googleFailed = e?.message ?? String(e);
            console.error(`\n${backend.label} Google Workspace sync run failed: ${backend.googleFailed}`);
          }
        }
        if (LOOKUP_USERS) {
          try {
            await lookupScaleRun(backend);
          } catch (e) {
            backend.lookupFailed = e?.message ?? String(e);
            console.error(`\n${backend.label} lookup-scale run failed: ${backend.lookupFailed}`);
          }
        }
      } catch (e) {
        backend.failed = e?.message ?? String(e);
        console.error(`\n${backend.label} failed: ${backend.failed}`);
      } finally {
        if (backend.pg) {
          if (KEEP_DB) log(`PostgreSQL database kept: ${backend.pg.dbName} (${redact(backend.pg.dbUrl)})`);
          else await backend.pg.admin.query(`drop database if exists ${backend.pg.dbName} with (force)`).catch((e) => log(`could not drop ${backend.pg.dbName}: ${e.message}`));
          await backend.pg.admin.end().catch(() => {});
        }
      }
    }
    if (RATE && BACKENDS.includes('sqlite')) {
      try {
        run.rateLimit = await rateLimitRun();
      } catch (e) {
        run.rateLimitFailed = e?.message ?? String(e);
        console.error(`\nrate-limit run failed: ${run.rateLimitFailed}`);
      }
    }
    if (OUTBOX && BACKENDS.includes('sqlite')) {
      try {
        run.outbox = await outboxRun();
      } catch (e) {
        run.outboxFailed = e?.message ?? String(e);
        console.error(`\noutbox run failed: ${run.outboxFailed}`);
      }
    }
    if (REQUEST_LOG && BACKENDS.includes('sqlite')) {
      try {
        run.requestLog = await requestLogRun();
      } catch (e) {
        run.requestLogFailed = e?.message ?? String(e);
        console.error(`\nprovisioning log run failed: ${run.requestLogFailed}`);
      }
    }
  } finally {
    cluster?.stop();
  }
  run.loadEnd = os.loadavg();
  run.elapsedMin = (Date.now() - t0) / 60_000;
  report(run);
  const failed = run.backends.filter((b) => b.failed);
  if (failed.length) throw new Error(`${failed.map((b) => b.label).join(', ')} failed (see above); docs/benchmarks.md not rewritten`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`benchmark failed: ${e?.message ?? e}`);
    process.exit(1);
  },
);
