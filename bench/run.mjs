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
 *   BENCH_RATE=0       skip the rate-limit cost run (SQLite: GET /Users/{id} with ROLLCALL_RATE_LIMIT
 *                      off vs a limit this load never reaches, so every request is counted, none refused)
 *   BENCH_CPU_PROF=1   afterwards, restart the server with --cpu-prof, profile GET /Users/{id}
 *                      for BENCH_DURATION seconds, and print where the time goes; or a list of
 *                      get, filter, post (POST: 5,000 more users), e.g. BENCH_CPU_PROF=get,post;
 *                      done for every backend measured
 *   BENCH_PROF_RATE    requests/s for the profiled GET runs (default 0 = as fast as possible); a rate
 *                      the machine serves without saturating its cores gives a cleaner profile
 *   BENCH_NO_DOCS=1    do not rewrite docs/benchmarks.md
 *   BENCH_KEEP_DB=1    keep the seeded databases for a closer look: the SQLite file (its path is
 *                      printed) and the PostgreSQL database (its name is printed; not dropped)
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startServer, createConnection } from '../test/conformance/server-process.mjs';
import { summarizeProfile, formatSummary } from './cpuprofile-summary.mjs';

const env = process.env;
// The bench picks every server's database itself (DATABASE_URL); the test harness's backend switch must not.
delete env.ROLLCALL_TEST_DATABASE;

const SIZES = (env.BENCH_USERS ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim().replace(/_/g, '')))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const BACKEND_LABELS = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const BACKENDS = [
  ...new Set(
    (env.BENCH_BACKENDS ?? 'sqlite,postgres')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .map((s) => (s === 'pg' || s === 'postgresql' ? 'postgres' : s))
      .filter(Boolean),
  ),
];
const DURATION = posInt(env.BENCH_DURATION, 10);
const CONNECTIONS = posInt(env.BENCH_CONNECTIONS, 20);
const SEED_CONNECTIONS = posInt(env.BENCH_SEED_CONNECTIONS, 20);
const SEED_TIMEOUT_S = posInt(env.BENCH_SEED_TIMEOUT, 420);
const SCALE = env.BENCH_SCALE !== '0';
const SCALE_USERS = posInt(env.BENCH_SCALE_USERS, 10000);
const KEEP_DB = env.BENCH_KEEP_DB === '1';
const OUTBOX = env.BENCH_OUTBOX !== '0';
const OUTBOX_USERS = posInt(env.BENCH_OUTBOX_USERS, 20000);
const OUTBOX_ROUNDS = 2;
const RATE = env.BENCH_RATE !== '0';
const RATE_ROUNDS = 2;
const RATE_USERS = 2000;
const RATE_LIMIT_ON = 100_000_000; // per minute: counted, never reached by this load
const TARGET_OUTBOX_COST = 0.2; // issue 5: the outbox costs at most 20% of POST /Users throughput
const WARMUP_S = 2;
const PROF_RATE = Number(env.BENCH_PROF_RATE) > 0 ? Number(env.BENCH_PROF_RATE) : 0;
// BENCH_CPU_PROF: 1 (= get) or a comma list of get, filter, post.
const CPU_PROF = (env.BENCH_CPU_PROF ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .map((s) => (s === '1' || s === 'true' ? 'get' : s))
  .filter((s) => ['get', 'filter', 'post'].includes(s));
const DOCS = path.join(repoRoot, 'docs', 'benchmarks.md');
const PG_CLUSTER_SCRIPT = path.join(repoRoot, 'scripts', 'pg-test-cluster.sh');

const TARGET_CREATE_PER_S = 3000;
const TARGET_GET_RATIO = 0.5;
const TARGET_FILTER_GROWTH = 1.5; // "about the same": p50 and p99 at the largest size within 1.5x of the smallest

function posInt(v, def) {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : def;
}
if (!SIZES.length) {
  console.error('BENCH_USERS must list positive integers, e.g. 10000,100000');
  process.exit(2);
}
const unknownBackends = BACKENDS.filter((b) => !BACKEND_LABELS[b]);
if (!BACKENDS.length || unknownBackends.length) {
  console.error(`BENCH_BACKENDS must list sqlite and/or postgres${unknownBackends.length ? `, not ${unknownBackends.join(', ')}` : ''}`);
  process.exit(2);
}

// ---------------------------------------------------------------- helpers

const fmtInt = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtUs = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n) => (n == null ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const fmtX = (n) => (n == null ? '–' : n.toFixed(2));
const fmtPct = (n) => (n == null ? '–' : `${(100 * n).toFixed(0)}%`);
const log = (...a) => console.log(...a);

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/** A URL without its password, for printing. */
function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * One measurement: one or more autocannon runs in parallel (one per target, e.g. one per
 * server instance), with their 2xx counts and req/s summed and their latencies merged.
 * Latencies of 2xx responses are recorded from autocannon's 'response' events
 * (sub-millisecond precision; its own histogram rounds to whole ms).
 * CPU: `pids` are the server processes (user + system CPU from /proc, summed), `pgProbe`
 * the PostgreSQL backends of the bench database; both are divided by the requests sent.
 */
async function load(targets, { pids = [], pgProbe = null, stopAfterS } = {}) {
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
function problems(r) {
  if (!r.non2xx && !r.errors) return null;
  const codes = Object.entries(r.statusCodeStats)
    .filter(([c]) => !/^2/.test(c))
    .map(([c, n]) => `${c}: ${fmtInt(n)}`)
    .join(', ');
  return `${fmtInt(r.non2xx)} non-2xx responses${codes ? ` (${codes})` : ''} and ${fmtInt(r.errors)} connection errors (${fmtInt(r.timeouts)} timeouts) out of ${fmtInt(r.requests)} requests`;
}

function machine() {
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
function codeRevision() {
  try {
    const git = (...a) => execFileSync('git', ['-C', repoRoot, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const rev = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') ? `${rev} + uncommitted changes in src/` : rev;
  } catch {
    return '';
  }
}

function fileSize(p) {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU seconds (user + system) a process has used so far, from /proc; null where /proc is absent. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** What a server printed since `mark` (its output length then), trimmed for a note. */
function outputSince(server, mark, max = 1500) {
  const out = server.output();
  const s = out.length >= mark ? out.slice(mark) : out;
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

// ---------------------------------------------------------------- PostgreSQL

/**
 * The PostgreSQL server to use: { adminUrl, source, stop? }; throws with the reason
 * when there is none. A throwaway cluster is started (and stopped by stop()) only
 * when neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set.
 */
async function resolvePostgres() {
  if (env.BENCH_PG_URL) return { adminUrl: env.BENCH_PG_URL, source: 'BENCH_PG_URL' };
  if (env.ROLLCALL_TEST_PG_URL) return { adminUrl: env.ROLLCALL_TEST_PG_URL, source: 'ROLLCALL_TEST_PG_URL' };
  if (!existsSync(PG_CLUSTER_SCRIPT)) throw new Error('neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set, and there is no scripts/pg-test-cluster.sh to start a cluster');
  log('\nPostgreSQL: neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set; starting a throwaway cluster (scripts/pg-test-cluster.sh start) …');
  // Its own state file, so a cluster someone else started with the script is neither refused nor touched.
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollcall-bench-pg-state-'));
  const scriptEnv = { ...env, ROLLCALL_PG_TEST_STATE: path.join(stateDir, 'cluster.env') };
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile('bash', [PG_CLUSTER_SCRIPT, 'start'], { env: scriptEnv, timeout: 180_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? err.signal ?? 'error') : 0, stdout, stderr }),
    );
  });
  const url = /^export ROLLCALL_TEST_PG_URL=(\S+)$/m.exec(stdout)?.[1];
  const dir = /^export ROLLCALL_TEST_PG_DIR=(\S+)$/m.exec(stdout)?.[1];
  const stopSync = () => {
    if (!dir) return;
    try {
      execFileSync('bash', [PG_CLUSTER_SCRIPT, 'stop', dir], { env: scriptEnv, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    } catch (e) {
      console.error(`scripts/pg-test-cluster.sh stop ${dir} failed: ${e.stderr?.toString().trim() || e.message}`);
    }
  };
  if (code !== 0 || !url) {
    stopSync();
    rmSync(stateDir, { recursive: true, force: true });
    const why = stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${code}`;
    throw new Error(`neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set, and scripts/pg-test-cluster.sh start failed: ${why}`);
  }
  process.once('exit', stopSync); // Ctrl-C: server-process.mjs turns it into an exit
  log(`  cluster ready: ${url} (${dir})`);
  return {
    adminUrl: url,
    source: 'a throwaway cluster started by scripts/pg-test-cluster.sh',
    stop: () => {
      process.removeListener('exit', stopSync);
      stopSync();
      rmSync(stateDir, { recursive: true, force: true });
      log(`PostgreSQL: throwaway cluster stopped (${dir})`);
    },
  };
}

/** The URL of database `name` on the server of `adminUrl` (same credentials and parameters). */
function databaseUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Connects to the admin URL, records the server's settings and creates a fresh
 * database for the bench. Resolves to { admin (an open pg.Client), dbName, dbUrl, info,
 * probe (PostgreSQL backend CPU, or null with probeWhy) }.
 */
async function preparePostgres(adminUrl) {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  admin.on('error', (e) => log(`PostgreSQL admin connection: ${e.message}`));
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`cannot connect to ${redact(adminUrl)}: ${e.message}`);
  }
  try {
    const q = async (sql, params) => (await admin.query(sql, params)).rows;
    const [{ v }] = await q(`select current_setting('server_version') as v`);
    const settings = {};
    for (const name of ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections']) {
      settings[name] = (await q('select current_setting($1) as s', [name]))[0].s;
    }
    const dbName = `rollcall_bench_${randomBytes(5).toString('hex')}`;
    await admin.query(`create database ${dbName}`);
    // Backend CPU from /proc works only when PostgreSQL runs on this machine, in this PID namespace.
    let probe = null;
    let probeWhy = '';
    const [{ pid }] = await q('select pg_backend_pid() as pid');
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* not visible */
    }
    if (comm.startsWith('postgres') && cpuSeconds(pid) != null) probe = pgCpuProbe(admin, dbName);
    else probeWhy = 'PostgreSQL does not run on this machine (its backends are not visible in /proc)';
    return { admin, dbName, dbUrl: databaseUrl(adminUrl, dbName), version: v, settings, probe, probeWhy };
  } catch (e) {
    await admin.end().catch(() => {});
    throw new Error(`cannot prepare a database on ${redact(adminUrl)}: ${e.message}`);
  }
}

/**
 * CPU of the PostgreSQL backends serving the bench database (pids from pg_stat_activity,
 * CPU from /proc/<pid>/stat). A backend that appears during a measurement counts whole;
 * one that exits during it is lost (idle pool connections closing, a few ms at most).
 * Shared background processes (WAL writer, checkpointer) are not counted.
 */
function pgCpuProbe(admin, dbName) {
  return {
    async snapshot() {
      const { rows } = await admin.query('select pid from pg_stat_activity where datname = $1', [dbName]);
      const cpu = new Map();
      for (const { pid } of rows) {
        const c = cpuSeconds(pid);
        if (c != null) cpu.set(pid, c);
      }
      const db = (await admin.query('select xact_commit::bigint as c, xact_rollback::bigint as r, deadlocks::bigint as d from pg_stat_database where datname = $1', [dbName])).rows[0];
      return { cpu, commits: Number(db?.c ?? 0), rollbacks: Number(db?.r ?? 0), deadlocks: Number(db?.d ?? 0) };
    },
    delta(a, b) {
      let s = 0;
      for (const [pid, c] of b.cpu) s += c - (a.cpu.get(pid) ?? 0);
      return s;
    },
    /**
     * Transactions (each autocommitted statement counts as one), rollbacks and deadlocks
     * between two snapshots, from pg_stat_database: approximate, as backends report them
     * at most once a second.
     */
    counts: (a, b) => ({ xacts: b.commits + b.rollbacks - a.commits - a.rollbacks, rollbacks: b.rollbacks - a.rollbacks, deadlocks: b.deadlocks - a.deadlocks }),
  };
}

// ---------------------------------------------------------------- the workload

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Support', 'Marketing', 'Legal', 'Operations'];

/** A create body like the ones Entra ID sends. */
function userBody(n) {
  const id = String(n).padStart(7, '0');
  const given = `Given${id}`;
  const family = `Family${id}`;
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    externalId: `ext-${id}`,
    userName: `bench.user.${id}@example.com`,
    active: true,
    displayName: `${given} ${family}`,
    name: { formatted: `${given} ${family}`, givenName: given, familyName: family },
    emails: [{ primary: true, type: 'work', value: `bench.user.${id}@example.com` }],
    title: 'Engineer',
    meta: { resourceType: 'User' },
    roles: [],
    [ENTERPRISE]: { employeeNumber: id, department: DEPARTMENTS[n % DEPARTMENTS.length] },
  });
}

async function startBaseline(docFile) {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bench', 'baseline-server.mjs'), docFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`baseline server did not start: ${out}`)), 10_000);
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
    child.once('exit', (code) => reject(new Error(`baseline server exited (${code}): ${out}`)));
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

/** The baseline: bare node:http answering `doc` (a user as Rollcall returned it). */
async function measureBaseline(doc, reqPath, auth) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'rollcall-bench-doc-'));
  let b;
  try {
    const docFile = path.join(tmp, 'user.json');
    await writeFile(docFile, doc);
    b = await startBaseline(docFile); // it has read the file once it listens
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  try {
    log(`\nBaseline: bare node:http answering a fixed ${Buffer.byteLength(doc)}-byte SCIM user document`);
    const base = { url: b.url, connections: CONNECTIONS, headers: auth, requests: [{ method: 'GET', path: reqPath }] };
    await load([{ ...base, duration: WARMUP_S }]);
    const r = await load([{ ...base, duration: DURATION }], { pids: [b.pid] });
    const bad = problems(r);
    if (bad) throw new Error(`baseline: ${bad}`);
    log(`baseline                           ${fmtInt(r.reqPerSec)} req/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
    return { reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, docBytes: Buffer.byteLength(doc) };
  } finally {
    await b.stop();
  }
}

// ---------------------------------------------------------------- one backend

/**
 * Seeds a fresh server on `backend` to every size and measures the GETs there (plus,
 * on PostgreSQL, the scaling run and, with BENCH_CPU_PROF, the profiles). Fills
 * backend.cells (by row key), backend.notes, backend.created/seedSeconds; throws on a
 * failure that leaves the figures meaningless (the server died, a seeding check failed).
 */
async function runBackend(backend, run) {
  const pgDb = backend.pg;
  const extraEnv = pgDb ? { DATABASE_URL: pgDb.dbUrl } : {};
  const probe = pgDb?.probe ?? null;
  const server = await startServer({ name: `rollcall-bench-${backend.key}`, logLevel: 'warn', extraEnv });
  backend.server = server;
  const { cells, notes } = backend;
  try {
    const conn = await createConnection(server, 'benchmark');
    const api = `/scim/v2/${conn.id}`;
    const auth = { authorization: `Bearer ${conn.token}` };
    const origin = server.baseUrl;
    log(`\n=== ${backend.label} ===`);
    log(`Server ${origin} (pid ${server.child.pid}), connection ${conn.id}, database ${pgDb ? `${pgDb.dbName} on ${redact(pgDb.dbUrl)}` : server.dbPath}`);

    const ids = [];
    const userNames = [];
    let next = 1;
    let created = 0;
    backend.seedSeconds = 0;
    const w = {
      randomId: () => ids[(Math.random() * ids.length) | 0],
      randomName: () => userNames[(Math.random() * userNames.length) | 0],
      nextUser: () => next++,
      ids,
      userNames,
    };

    /** POST /Users requests for autocannon, collecting the created users; failed creates' first bodies in `bad`. */
    const postRequests = (bad) => [
      {
        method: 'POST',
        path: `${api}/Users`,
        headers: { ...auth, 'content-type': 'application/scim+json' },
        setupRequest: (req) => ({ ...req, body: userBody(next++) }),
        onResponse: (status, body) => {
          if (status !== 201) {
            if (bad.length < 3) bad.push(`${status} ${String(body).slice(0, 300)}`);
            return;
          }
          const u = JSON.parse(body);
          ids.push(u.id);
          userNames.push(u.userName);
        },
      },
    ];
    backend.postRequests = postRequests;

    /** Records (note + console) what went wrong in a measurement; `out` is what the server(s) printed meanwhile. */
    const report = (what, r, out, bad = []) => {
      const k = r.pgCounts;
      if (k && (k.rollbacks > 0 || k.deadlocks > 0)) {
        notes.push(`${what}: PostgreSQL counted ${fmtInt(k.rollbacks)} rolled-back transactions and ${fmtInt(k.deadlocks)} deadlocks in the bench database meanwhile (pg_stat_database, approximate).`);
        log(`  Note: ${fmtInt(k.rollbacks)} rollbacks, ${fmtInt(k.deadlocks)} deadlocks in PostgreSQL meanwhile`);
      }
      const p = problems(r);
      if (!p) return false;
      const md = (t) => `\`${t.replace(/\s*\n\s*/g, ' ⏎ ').replace(/`/g, "'")}\``;
      notes.push(`${what}: ${p}.${bad.length ? ` First failed responses: ${bad.map(md).join('; ')}.` : ''}${out ? ` Server output meanwhile: ${md(out)}` : ''}`);
      log(`  WARNING: ${p}`);
      return true;
    };

    const seedTo = async (key, target) => {
      const want = target - created;
      if (want <= 0) return;
      const before = created;
      log(`\nPOST /Users: creating ${fmtInt(want)} users (${fmtInt(before)} → ${fmtInt(target)}) …`);
      const bad = [];
      const mark = server.output().length;
      const r = await load([{ url: origin, connections: SEED_CONNECTIONS, amount: want, requests: postRequests(bad) }], {
        stopAfterS: SEED_TIMEOUT_S,
        pids: [server.child.pid],
        pgProbe: probe,
      });
      const flagged = report(`${backend.label}: POST /Users ${fmtInt(before)} → ${fmtInt(target)}`, r, outputSince(server, mark), bad);
      created = ids.length;
      backend.created = created;
      backend.seedSeconds += r.elapsedS;
      if (created < target) notes.push(`${backend.label}: seeding to ${fmtInt(target)} stopped at ${fmtInt(created)} users${r.elapsedS >= SEED_TIMEOUT_S - 1 ? ` (cut short after ${SEED_TIMEOUT_S} s)` : ''}.`);
      cells[key] = { reqPerSec: (created - before) / r.elapsedS, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, pgCpuUsPerReq: r.pgCpuUsPerReq, flagged: flagged || created < target };
      log(
        `  ${fmtInt(created - before)} users in ${r.elapsedS.toFixed(1)} s = ${fmtInt((created - before) / r.elapsedS)} users/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req` +
          (probe ? `, PostgreSQL CPU ${fmtUs(r.pgCpuUsPerReq)} µs/req, ${fmtX(r.pgXactsPerReq)} transactions/req (approx.)` : ''),
      );
    };

    const verify = async () => {
      const res = await fetch(`${origin}${api}/Users?count=1&attributes=userName`, { headers: auth });
      const body = await res.json();
      if (res.status !== 200 || body.totalResults !== created) {
        throw new Error(`after seeding, GET /Users reports totalResults ${body.totalResults} (status ${res.status}), expected ${created}`);
      }
    };

    const measureGet = async (key, label, users, makePath, check) => {
      await check();
      const base = { url: origin, connections: CONNECTIONS, headers: auth };
      const req = [{ method: 'GET', setupRequest: (r) => ({ ...r, path: makePath() }) }];
      await load([{ ...base, duration: WARMUP_S, requests: req }]); // warm-up, not recorded
      const mark = server.output().length;
      const r = await load([{ ...base, duration: DURATION, requests: req }], { pids: [server.child.pid], pgProbe: probe });
      const flagged = report(`${backend.label}: ${label} at ${fmtInt(users)} users`, r, outputSince(server, mark));
      cells[key] = { reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, pgCpuUsPerReq: r.pgCpuUsPerReq, flagged, users };
      log(
        `${label.padEnd(34)} ${fmtInt(users).padStart(8)} users: ${fmtInt(r.reqPerSec)} req/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req` +
          (probe ? `, PostgreSQL CPU ${fmtUs(r.pgCpuUsPerReq)} µs/req, ${fmtX(r.pgXactsPerReq)} transactions/req (approx.)` : ''),
      );
    };

    for (const size of SIZES) {
      await seedTo(`create:${size}`, size);
      if (server.exitInfo) throw new Error(`the server exited while seeding`);
      if (!created) throw new Error('no user could be created');
      await verify();
      const rss = rssMiB(server.child.pid);
      let store;
      if (pgDb) {
        const [{ bytes }] = (await pgDb.admin.query('select pg_database_size($1)::bigint as bytes', [pgDb.dbName])).rows;
        store = `${backend.label}: store at ${fmtInt(created)} users: database ${(Number(bytes) / 2 ** 20).toFixed(0)} MiB (pg_database_size), server RSS ${rss ? rss.toFixed(0) : '?'} MiB.`;
      } else {
        const dbMiB = fileSize(server.dbPath) / 2 ** 20;
        const walMiB = fileSize(`${server.dbPath}-wal`) / 2 ** 20;
        store = `${backend.label}: store at ${fmtInt(created)} users: database file ${dbMiB.toFixed(0)} MiB + WAL ${walMiB.toFixed(0)} MiB, server RSS ${rss ? rss.toFixed(0) : '?'} MiB.`;
        // A WAL far larger than the database means checkpoints cannot recycle it (a reader holding a snapshot?).
        if (walMiB > 64 && walMiB > 2 * dbMiB) {
          notes.push(`WARNING: the WAL (${walMiB.toFixed(0)} MiB) is ${(walMiB / Math.max(dbMiB, 1)).toFixed(0)}× the database file at ${fmtInt(created)} users: it is not being checkpointed/reset while the server runs.`);
          log(`  ${notes[notes.length - 1]}`);
        }
      }
      log(`  ${store}`);
      notes.push(store);

      if (!run.baseline) {
        // The baseline serves a real user document as Rollcall returns it.
        const res = await fetch(`${origin}${api}/Users/${ids[0]}`, { headers: auth });
        const doc = await res.text();
        if (res.status !== 200) throw new Error(`GET /Users/{id} answered ${res.status}: ${doc}`);
        run.baseline = await measureBaseline(doc, `${api}/Users/${ids[0]}`, auth);
      }

      log('');
      await measureGet(`get:${size}`, 'GET /Users/{id}', created, () => `${api}/Users/${w.randomId()}`, async () => {
        const res = await fetch(`${origin}${api}/Users/${ids[ids.length - 1]}`, { headers: auth });
        if (res.status !== 200) throw new Error(`GET /Users/{id} answered ${res.status}`);
      });
      await measureGet(
        `filter:${size}`,
        'GET /Users?filter=userName eq "…"',
        created,
        () => `${api}/Users?filter=${encodeURIComponent(`userName eq "${w.randomName()}"`)}`,
        async () => {
          const name = userNames[userNames.length - 1];
          const res = await fetch(`${origin}${api}/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`, { headers: auth });
          const body = await res.json();
          if (res.status !== 200 || body.totalResults !== 1 || body.Resources?.[0]?.userName !== name) {
            throw new Error(`filter userName eq "${name}" answered ${res.status} with ${JSON.stringify(body).slice(0, 300)}`);
          }
        },
      );
      if (server.exitInfo) throw new Error('the server exited during the GET measurements');
    }
    backend.overallCreate = backend.seedSeconds ? created / backend.seedSeconds : 0;
    if (SIZES.length > 1) cells['create-overall'] = { reqPerSec: backend.overallCreate, p50: null, p99: null, cpuUsPerReq: null, pgCpuUsPerReq: null };

    if (pgDb && SCALE) {
      try {
        backend.scaling = await scalingRun(backend, server, { api, auth, w, report });
      } catch (e) {
        backend.scaling = { failed: e?.message ?? String(e) };
        notes.push(`${backend.label}: the scaling run failed: ${backend.scaling.failed}`);
        log(`Scaling run failed: ${e?.stack ?? e}`);
      }
    }

    for (const op of CPU_PROF) {
      const p = await profileOp(backend, server, conn, op, w, extraEnv);
      if (p) backend.profiles.push(p);
    }
  } catch (e) {
    const out = server.output().trim();
    const exit = server.exitInfo;
    throw new Error(
      `${e?.stack ?? e}\n${exit ? `The server exited (code ${exit.code}, signal ${exit.signal}).\n` : ''}Server output (last part):\n${out.slice(-4000)}`,
    );
  } finally {
    await server.stop({ keepDir: KEEP_DB && !pgDb });
    if (KEEP_DB && !pgDb) log(`Database kept: ${server.dbPath}`);
  }
}

/**
 * Runs `measure(server, mode, round)` on a fresh SQLite server per mode (`env(mode)`
 * its environment), alternating off, on, off, on … so drift in the machine's load
 * hits both; medians per mode.
 */
async function alternatingRounds(name, rounds, env, measure) {
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

/**
 * What storing events costs POST /Users: ROLLCALL_EVENTS=off vs =on, each round
 * creating OUTBOX_USERS users on an empty database.
 */
async function outboxRun() {
  log(`\nOutbox cost: POST /Users of ${fmtInt(OUTBOX_USERS)} users on a fresh SQLite database, events off vs on, ${OUTBOX_ROUNDS} rounds …`);
  const measured = await alternatingRounds('outbox', OUTBOX_ROUNDS, (mode) => ({ ROLLCALL_EVENTS: mode }), async (server, mode, round) => {
    const conn = await createConnection(server, 'outbox');
    let n = 0;
    const bad = [];
    const r = await load(
      [
        {
          url: server.baseUrl,
          connections: SEED_CONNECTIONS,
          amount: OUTBOX_USERS,
          requests: [
            {
              method: 'POST',
              path: `/scim/v2/${conn.id}/Users`,
              headers: { authorization: `Bearer ${conn.token}`, 'content-type': 'application/scim+json' },
              setupRequest: (req) => ({ ...req, body: userBody(++n) }),
              onResponse: (status, body) => {
                if (status !== 201 && bad.length < 3) bad.push(`${status} ${String(body).slice(0, 200)}`);
              },
            },
          ],
        },
      ],
      { pids: [server.child.pid], stopAfterS: SEED_TIMEOUT_S },
    );
    if (problems(r)) throw new Error(`outbox run (events ${mode}): ${problems(r)}; ${bad.join('; ')}`);
    log(`  round ${round}, events ${mode}: ${fmtInt(r.reqPerSec)} users/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
    return { perSec: r.reqPerSec, cpuUsPerReq: r.cpuUsPerReq, p50: r.p50, p99: r.p99 };
  });
  return { users: OUTBOX_USERS, ...measured };
}

/**
 * What the rate limit costs a request it lets through: ROLLCALL_RATE_LIMIT unset vs
 * set far above this load, each round answering GET /Users/{id} over RATE_USERS
 * users for BENCH_DURATION s.
 */
async function rateLimitRun() {
  log(`\nRate limit cost: GET /Users/{id} on a fresh SQLite database of ${fmtInt(RATE_USERS)} users, ROLLCALL_RATE_LIMIT off vs ${fmtInt(RATE_LIMIT_ON)}/min, ${RATE_ROUNDS} rounds …`);
  const env = (mode) => (mode === 'on' ? { ROLLCALL_RATE_LIMIT: String(RATE_LIMIT_ON) } : {});
  return alternatingRounds('rate', RATE_ROUNDS, env, async (server, mode, round) => {
    const conn = await createConnection(server, 'rate');
    const api = `/scim/v2/${conn.id}`;
    const headers = { authorization: `Bearer ${conn.token}`, 'content-type': 'application/scim+json' };
    const ids = [];
    let n = 0;
    const seeded = await load(
      [{ url: server.baseUrl, connections: SEED_CONNECTIONS, amount: RATE_USERS, requests: [{ method: 'POST', path: `${api}/Users`, headers, setupRequest: (req) => ({ ...req, body: userBody(++n) }), onResponse: (status, body) => status === 201 && ids.push(JSON.parse(body).id) }] }],
      { stopAfterS: SEED_TIMEOUT_S },
    );
    if (problems(seeded)) throw new Error(`rate-limit run (seeding, limit ${mode}): ${problems(seeded)}`);
    const get = [{ method: 'GET', headers, setupRequest: (req) => ({ ...req, path: `${api}/Users/${ids[(Math.random() * ids.length) | 0]}` }) }];
    await load([{ url: server.baseUrl, connections: CONNECTIONS, duration: WARMUP_S, requests: get }]);
    const r = await load([{ url: server.baseUrl, connections: CONNECTIONS, duration: DURATION, requests: get }], { pids: [server.child.pid] });
    if (problems(r)) throw new Error(`rate-limit run (limit ${mode}): ${problems(r)}`);
    log(`  round ${round}, limit ${mode}: ${fmtInt(r.reqPerSec)} req/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
    return { perSec: r.reqPerSec, cpuUsPerReq: r.cpuUsPerReq, p50: r.p50, p99: r.p99 };
  });
}

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

/**
 * One instance vs two on the same PostgreSQL database (the one just seeded to the
 * largest size): GET /Users/{id} for BENCH_DURATION s and POST /Users for SCALE_USERS
 * new users, first against `server` alone with all the connections, then against
 * `server` and a second instance, one autocannon run per instance with half the
 * connections each, in parallel; req/s summed, CPU summed over the instances.
 */
async function scalingRun(backend, server, { api, auth, w, report }) {
  const probe = backend.pg.probe;
  const usersAtStart = w.ids.length;
  log(`\nScaling: PostgreSQL, one instance vs two on the same database (${fmtInt(usersAtStart)} users) …`);
  const split = (n) => [Math.max(1, Math.ceil(n / 2)), Math.max(1, Math.floor(n / 2))];
  const getReq = [{ method: 'GET', setupRequest: (r) => ({ ...r, path: `${api}/Users/${w.randomId()}` }) }];
  const rows = [];
  const second = await startServer({ name: 'rollcall-bench-postgres-2', logLevel: 'warn', extraEnv: { DATABASE_URL: backend.pg.dbUrl } });
  try {
    log(`  second instance ${second.baseUrl} (pid ${second.child.pid}); warming it up`);
    // Warm the new instance up (JIT, its connection pool) so that it is not measured cold: the first one has served the whole run.
    await load([{ url: second.baseUrl, connections: CONNECTIONS, headers: auth, duration: Math.max(WARMUP_S, 5), requests: getReq }]);
    await load([{ url: second.baseUrl, connections: SEED_CONNECTIONS, amount: 1000, requests: backend.postRequests([]) }], { stopAfterS: 60 });
    const configs = [
      { n: 1, servers: [server] },
      { n: 2, servers: [server, second] },
    ];
    for (const { n, servers } of configs) {
      const conns = n === 1 ? [CONNECTIONS] : split(CONNECTIONS);
      const pids = servers.map((s) => s.child.pid);
      const marks = servers.map((s) => s.output().length);
      const what = `${backend.label} scaling, GET /Users/{id}, ${n} instance${n > 1 ? 's' : ''}`;
      await load(servers.map((s, i) => ({ url: s.baseUrl, connections: conns[i], headers: auth, duration: WARMUP_S, requests: getReq })));
      const r = await load(
        servers.map((s, i) => ({ url: s.baseUrl, connections: conns[i], headers: auth, duration: DURATION, requests: getReq })),
        { pids, pgProbe: probe },
      );
      const flagged = reportAll(report, what, r, servers, marks);
      rows.push({ op: 'GET /Users/{id}', n, r, flagged, conns });
      log(`  GET /Users/{id}, ${n} instance(s), connections ${conns.join(' + ')}: ${fmtInt(r.reqPerSec)} req/s${n > 1 ? ` (${r.perTarget.map(fmtInt).join(' + ')})` : ''}, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req, PostgreSQL CPU ${fmtUs(r.pgCpuUsPerReq)} µs/req, ${fmtX(r.pgXactsPerReq)} transactions/req (approx.)`);
    }
    for (const { n, servers } of configs) {
      const conns = n === 1 ? [SEED_CONNECTIONS] : split(SEED_CONNECTIONS);
      const amounts = n === 1 ? [SCALE_USERS] : [Math.ceil(SCALE_USERS / 2), Math.floor(SCALE_USERS / 2)];
      const pids = servers.map((s) => s.child.pid);
      const marks = servers.map((s) => s.output().length);
      const bad = [];
      const before = w.ids.length;
      const r = await load(
        servers.map((s, i) => ({ url: s.baseUrl, connections: conns[i], amount: amounts[i], requests: backend.postRequests(bad) })),
        { pids, pgProbe: probe, stopAfterS: SEED_TIMEOUT_S },
      );
      const what = `${backend.label} scaling, POST /Users, ${n} instance${n > 1 ? 's' : ''}`;
      const flagged = reportAll(report, what, r, servers, marks, bad);
      rows.push({ op: `POST /Users (${fmtInt(SCALE_USERS)} users)`, n, r, flagged, conns, created: w.ids.length - before });
      log(`  POST /Users, ${n} instance(s), connections ${conns.join(' + ')}: ${fmtInt(w.ids.length - before)} users in ${r.elapsedS.toFixed(1)} s = ${fmtInt(r.reqPerSec)} users/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req, PostgreSQL CPU ${fmtUs(r.pgCpuUsPerReq)} µs/req, ${fmtX(r.pgXactsPerReq)} transactions/req (approx.)`);
    }
    if (server.exitInfo || second.exitInfo) throw new Error('an instance exited during the scaling run');
  } finally {
    await second.stop();
  }
  return { usersAtStart, usersAtEnd: w.ids.length, rows };
}

/** report() for a measurement spread over several servers: their output is concatenated. */
function reportAll(report, what, r, servers, marks, bad = []) {
  const out = servers.map((s, i) => outputSince(s, marks[i], 800)).filter(Boolean).join(' ⏎ ');
  return report(what, r, out, bad);
}

/**
 * Restart the server on the same database with --cpu-prof, load one operation for
 * BENCH_DURATION seconds (POST: a bounded number of new users), and summarise the profile.
 */
async function profileOp(backend, server, conn, op, w, extraEnv) {
  const labels = { get: 'GET /Users/{id}', filter: 'GET /Users?filter=userName eq', post: 'POST /Users' };
  log(`\nProfiling ${labels[op]} on ${backend.label} (server restarted with --cpu-prof) …`);
  const dir = server.dir;
  await server.stop({ keepDir: true });
  const profDir = path.join(dir, `prof-${op}`);
  const s2 = await startServer({ dir, logLevel: 'warn', extraEnv, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  try {
    const api = `/scim/v2/${conn.id}`;
    const auth = { authorization: `Bearer ${conn.token}` };
    const base = { url: s2.baseUrl, connections: op === 'post' ? SEED_CONNECTIONS : CONNECTIONS, headers: auth };
    let req;
    if (op === 'get') req = [{ method: 'GET', setupRequest: (r) => ({ ...r, path: `${api}/Users/${w.randomId()}` }) }];
    else if (op === 'filter') req = [{ method: 'GET', setupRequest: (r) => ({ ...r, path: `${api}/Users?filter=${encodeURIComponent(`userName eq "${w.randomName()}"`)}` }) }];
    else req = [{ method: 'POST', path: `${api}/Users`, headers: { ...auth, 'content-type': 'application/scim+json' }, setupRequest: (r) => ({ ...r, body: userBody(w.nextUser()) }) }];
    let r;
    if (op === 'post') {
      r = await load([{ ...base, amount: 5000, requests: req }], { pids: [s2.child.pid], stopAfterS: 120 });
    } else {
      const rate = PROF_RATE ? { overallRate: PROF_RATE } : {};
      await load([{ ...base, ...rate, duration: WARMUP_S, requests: req }]);
      r = await load([{ ...base, ...rate, duration: DURATION, requests: req }], { pids: [s2.child.pid] });
    }
    const bad = problems(r);
    if (bad) backend.notes.push(`${backend.label}: ${labels[op]} under the profiler: ${bad}.`);
    log(`  under the profiler: ${fmtInt(r.reqPerSec)} req/s, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req${bad ? ` (${bad})` : ''}`);
  } finally {
    await s2.stop({ keepDir: true });
  }
  const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (!files.length) {
    log('  no .cpuprofile was written (did the server exit cleanly on SIGTERM?)');
    return null;
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(path.join(profDir, files[0]), 'utf8')), { top: 20 });
  try {
    // Keep the raw profile for a closer look (Chrome DevTools, Performance, load profile). .bench-tmp/ is git-ignored.
    const keep = path.join(repoRoot, '.bench-tmp');
    mkdirSync(keep, { recursive: true });
    copyFileSync(path.join(profDir, files[0]), path.join(keep, `bench-${backend.key}-${op}.cpuprofile`));
    log(`  raw profile kept at .bench-tmp/bench-${backend.key}-${op}.cpuprofile`);
  } catch {
    /* best effort */
  }
  log(formatSummary(summary));
  return { op: `${labels[op]} on ${backend.label}`, ...summary };
}

// ---------------------------------------------------------------- main

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
      try {
        await runBackend(backend, run);
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
  } finally {
    cluster?.stop();
  }
  run.loadEnd = os.loadavg();
  run.elapsedMin = (Date.now() - t0) / 60_000;
  report(run);
  const failed = run.backends.filter((b) => b.failed);
  if (failed.length) throw new Error(`${failed.map((b) => b.label).join(', ')} failed (see above); docs/benchmarks.md not rewritten`);
}

// ---------------------------------------------------------------- output

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

function table(run) {
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
function scalingTable(run) {
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

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  log(line(rows[0]));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) log(line(r));
}

function mdTable(t, left = 2) {
  const lines = [];
  lines.push(`| ${t[0].join(' | ')} |`);
  lines.push(`|${t[0].map((_, i) => (i < left ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of t.slice(1)) lines.push(`| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  return lines;
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
  lines.push('');
  lines.push(...mdTable(table(run)));
  lines.push('');
  const flagged = run.backends.some((b) => Object.values(b.cells).some((c) => c?.flagged) || b.scaling?.rows?.some((r) => r.flagged));
  if (run.baseline) lines.push(`The baseline (measured once, shown under each backend) answers a fixed ${run.baseline.docBytes}-byte document: a user exactly as Rollcall returned it in this run.${flagged ? ' ⚠: non-2xx responses, errors or a seeding phase cut short: see the notes below.' : ''}`);
  const st = scalingTable(run);
  if (st) {
    lines.push('');
    lines.push('Scaling, PostgreSQL, one vs two Rollcall instances on the same database (two autocannon runs in parallel, one per instance, req/s summed):');
    lines.push('');
    lines.push(...mdTable(st, 1));
  }
  lines.push('');
  for (const v of verdicts(run)) lines.push(`- ${v}`);
  for (const v of outboxLines(run)) lines.push(`- ${v}`);
  for (const v of rateLimitLines(run)) lines.push(`- ${v}`);
  if (run.rateLimitFailed) lines.push(`- Rate limit cost run FAILED: ${run.rateLimitFailed.split('\n')[0]}`);
  if (run.outboxFailed) lines.push(`- Outbox cost run FAILED: ${run.outboxFailed.split('\n')[0]}`);
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

function report(run) {
  log('\n=== Results ===');
  const pl = pgLine(run);
  if (pl) log(pl);
  printTable(table(run));
  const st = scalingTable(run);
  if (st) {
    log('\nScaling, PostgreSQL, one vs two instances on the same database:');
    printTable(st);
  }
  log('');
  for (const v of verdicts(run)) log(`- ${v}`);
  for (const v of outboxLines(run)) log(`- ${v}`);
  for (const v of rateLimitLines(run)) log(`- ${v}`);
  for (const n of allNotes(run)) log(`- ${n}`);
  log(`\nThe run took ${run.elapsedMin.toFixed(1)} min.`);
  if (env.BENCH_NO_DOCS !== '1' && !run.backends.some((b) => b.failed)) writeDocs(run);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`benchmark failed: ${e?.message ?? e}`);
    process.exit(1);
  },
);
