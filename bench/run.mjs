#!/usr/bin/env node
/**
 * Rollcall load benchmark (loopback only, bounded in count and time).
 *
 *   npm run bench                       (builds, then runs this file)
 *   BENCH_USERS=2000,20000 node bench/run.mjs
 *
 * One run measures, with autocannon's Node API against child processes on 127.0.0.1:
 *   1. POST /Users: seeding the store through the API *is* the create measurement
 *      (users created per second), first up to the first size, then up to the next;
 *   2. a baseline: bare node:http answering one fixed JSON document, a real SCIM user
 *      as Rollcall returns it (so the same response size);
 *   3. GET /Users/{id} with random existing ids, at every size;
 *   4. GET /Users?filter=userName eq "…" with random existing userNames, at every size
 *      (its latency should not grow with the number of users).
 * Prints a table and writes it to docs/benchmarks.md (between the results markers).
 *
 * Environment (all optional):
 *   BENCH_USERS        sizes, comma-separated, ascending (default 10000,100000)
 *   BENCH_DURATION     seconds per GET measurement (default 10)
 *   BENCH_CONNECTIONS  concurrent connections for GETs (default 20)
 *   BENCH_SEED_CONNECTIONS  concurrent connections for POST /Users (default 20)
 *   BENCH_SEED_TIMEOUT seconds allowed per seeding phase before it is cut short (default 300)
 *   BENCH_CPU_PROF=1   afterwards, restart the server with --cpu-prof, profile GET /Users/{id}
 *                      for BENCH_DURATION seconds, and print where the time goes; or a list of
 *                      get, filter, post (POST: 5,000 more users), e.g. BENCH_CPU_PROF=get,post
 *   BENCH_PROF_RATE    requests/s for the profiled GET runs (default 0 = as fast as possible); a rate
 *                      the machine serves without saturating its cores gives a cleaner profile
 *   BENCH_NO_DOCS=1    do not rewrite docs/benchmarks.md
 *   BENCH_KEEP_DB=1    keep the seeded SQLite database (its path is printed) for a closer look
 */
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startServer, createConnection } from '../test/conformance/server-process.mjs';
import { summarizeProfile, formatSummary } from './cpuprofile-summary.mjs';

const env = process.env;
const SIZES = (env.BENCH_USERS ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim().replace(/_/g, '')))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const DURATION = posInt(env.BENCH_DURATION, 10);
const CONNECTIONS = posInt(env.BENCH_CONNECTIONS, 20);
const SEED_CONNECTIONS = posInt(env.BENCH_SEED_CONNECTIONS, 20);
const SEED_TIMEOUT_S = posInt(env.BENCH_SEED_TIMEOUT, 300);
const WARMUP_S = 2;
const PROF_RATE = Number(env.BENCH_PROF_RATE) > 0 ? Number(env.BENCH_PROF_RATE) : 0;
// BENCH_CPU_PROF: 1 (= get) or a comma list of get, filter, post.
const CPU_PROF = (env.BENCH_CPU_PROF ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .map((s) => (s === '1' || s === 'true' ? 'get' : s))
  .filter((s) => ['get', 'filter', 'post'].includes(s));
const DOCS = path.join(repoRoot, 'docs', 'benchmarks.md');

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

// ---------------------------------------------------------------- helpers

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtUs = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n) => (n == null ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const log = (...a) => console.log(...a);

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/**
 * One autocannon run. Latencies of 2xx responses are recorded from autocannon's
 * 'response' events (sub-millisecond precision; its own histogram rounds to whole ms).
 */
function cannon(opts, { stopAfterS, serverPid } = {}) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    let stopTimer;
    const cpu0 = serverPid ? cpuSeconds(serverPid) : null;
    const t0 = process.hrtime.bigint();
    const instance = autocannon({ timeout: 30, ...opts }, (err, result) => {
      clearTimeout(stopTimer);
      if (err) return reject(err);
      const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
      latencies.sort((a, b) => a - b);
      const ok = result['2xx'];
      const cpu1 = serverPid ? cpuSeconds(serverPid) : null;
      resolve({
        ok,
        // Server CPU (user + system) per response: robust to other load on the machine, unlike req/s.
        cpuUsPerReq: cpu0 != null && cpu1 != null && ok ? ((cpu1 - cpu0) * 1e6) / (result.requests.total || ok) : null,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodeStats: result.statusCodeStats,
        elapsedS,
        reqPerSec: ok / (opts.amount ? elapsedS : result.duration),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
    if (stopAfterS) stopTimer = setTimeout(() => instance.stop(), stopAfterS * 1000);
  });
}

function checkClean(name, r) {
  if (r.non2xx || r.errors) {
    throw new Error(`${name}: ${r.non2xx} non-2xx responses and ${r.errors} errors (${r.timeouts} timeouts); status codes ${JSON.stringify(r.statusCodeStats)}`);
  }
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

// ---------------------------------------------------------------- main

async function main() {
  const started = new Date();
  const m0 = machine();
  const revision = codeRevision();
  log(`Rollcall benchmark: sizes ${SIZES.map(fmtInt).join(', ')}; ${DURATION} s per GET measurement, ${CONNECTIONS} connections (${SEED_CONNECTIONS} for POST)`);
  log(`Machine: ${m0.cores} cores, ${m0.memGiB.toFixed(1)} GiB, ${m0.cpu}, Node ${m0.node}; load average ${m0.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  if (m0.loadavg[0] > 0.5) log('Note: the machine is not idle (load average above 0.5); other processes share the 2 cores and lower the numbers.');

  const server = await startServer({ name: 'rollcall-bench', logLevel: 'warn' });
  const rows = [];
  const notes = [];
  let baseline = null;
  const profiles = [];
  try {
    const conn = await createConnection(server, 'benchmark');
    const api = `/scim/v2/${conn.id}`;
    const auth = { authorization: `Bearer ${conn.token}` };
    const origin = server.baseUrl;
    log(`Server ${origin} (pid ${server.child.pid}), connection ${conn.id}, database ${server.dbPath}`);

    const ids = [];
    const userNames = [];
    let next = 1;
    let created = 0;
    let seedSeconds = 0;

    const seedTo = async (target) => {
      const want = target - created;
      if (want <= 0) return;
      const before = created;
      log(`\nPOST /Users: creating ${fmtInt(want)} users (${fmtInt(before)} → ${fmtInt(target)}) …`);
      const r = await cannon(
        {
          url: origin,
          connections: SEED_CONNECTIONS,
          amount: want,
          requests: [
            {
              method: 'POST',
              path: `${api}/Users`,
              headers: { ...auth, 'content-type': 'application/scim+json' },
              setupRequest: (req) => ({ ...req, body: userBody(next++) }),
              onResponse: (status, body) => {
                if (status !== 201) return;
                const u = JSON.parse(body);
                ids.push(u.id);
                userNames.push(u.userName);
              },
            },
          ],
        },
        { stopAfterS: SEED_TIMEOUT_S, serverPid: server.child.pid },
      );
      checkClean('POST /Users', r);
      created = ids.length;
      seedSeconds += r.elapsedS;
      if (created < target) notes.push(`Seeding to ${fmtInt(target)} was cut short after ${SEED_TIMEOUT_S} s at ${fmtInt(created)} users.`);
      rows.push({
        op: 'POST /Users (create)',
        users: `${fmtInt(before)} → ${fmtInt(created)}`,
        reqPerSec: (created - before) / r.elapsedS,
        p50: r.p50,
        p99: r.p99,
        cpuUsPerReq: r.cpuUsPerReq,
        kind: 'create',
      });
      log(`  ${fmtInt(created - before)} users in ${r.elapsedS.toFixed(1)} s = ${fmtInt((created - before) / r.elapsedS)} users/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
    };

    const verify = async () => {
      const res = await fetch(`${origin}${api}/Users?count=1&attributes=userName`, { headers: auth });
      const body = await res.json();
      if (res.status !== 200 || body.totalResults !== created) {
        throw new Error(`after seeding, GET /Users reports totalResults ${body.totalResults} (status ${res.status}), expected ${created}`);
      }
    };

    const measureGet = async (label, users, makePath, check) => {
      await check();
      const base = { url: origin, connections: CONNECTIONS, headers: auth };
      const req = [{ method: 'GET', setupRequest: (r) => ({ ...r, path: makePath() }) }];
      await cannon({ ...base, duration: WARMUP_S, requests: req }); // warm-up, not recorded
      const r = await cannon({ ...base, duration: DURATION, requests: req }, { serverPid: server.child.pid });
      checkClean(label, r);
      const row = { op: label, users: fmtInt(users), reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, kind: label, size: users };
      rows.push(row);
      log(`${label.padEnd(34)} ${fmtInt(users).padStart(8)} users: ${fmtInt(r.reqPerSec)} req/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
      return row;
    };

    const randomId = () => ids[(Math.random() * ids.length) | 0];
    const randomName = () => userNames[(Math.random() * userNames.length) | 0];

    for (const size of SIZES) {
      await seedTo(size);
      await verify();
      const dbMiB = fileSize(server.dbPath) / 2 ** 20;
      const walMiB = fileSize(`${server.dbPath}-wal`) / 2 ** 20;
      const rss = rssMiB(server.child.pid);
      const store = `Store at ${fmtInt(created)} users: database file ${dbMiB.toFixed(0)} MiB + WAL ${walMiB.toFixed(0)} MiB, server RSS ${rss ? rss.toFixed(0) : '?'} MiB.`;
      log(`  ${store}`);
      notes.push(store);
      // A WAL far larger than the database means checkpoints cannot recycle it (a reader holding a snapshot?).
      if (walMiB > 64 && walMiB > 2 * dbMiB) {
        notes.push(`WARNING: the WAL (${walMiB.toFixed(0)} MiB) is ${(walMiB / Math.max(dbMiB, 1)).toFixed(0)}× the database file at ${fmtInt(created)} users: it is not being checkpointed/reset while the server runs.`);
        log(`  ${notes[notes.length - 1]}`);
      }

      if (!baseline) {
        // The baseline serves a real user document as Rollcall returns it.
        const res = await fetch(`${origin}${api}/Users/${ids[0]}`, { headers: auth });
        const doc = await res.text();
        if (res.status !== 200) throw new Error(`GET /Users/{id} answered ${res.status}: ${doc}`);
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
          const base = { url: b.url, connections: CONNECTIONS, headers: auth, requests: [{ method: 'GET', path: `${api}/Users/${ids[0]}` }] };
          await cannon({ ...base, duration: WARMUP_S });
          const r = await cannon({ ...base, duration: DURATION }, { serverPid: b.pid });
          checkClean('baseline', r);
          baseline = { op: 'baseline: node:http, fixed JSON', users: '–', reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, kind: 'baseline', docBytes: Buffer.byteLength(doc) };
          rows.unshift(baseline);
          log(`baseline                           ${fmtInt(r.reqPerSec)} req/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
        } finally {
          await b.stop();
        }
      }

      log('');
      await measureGet('GET /Users/{id}', created, () => `${api}/Users/${randomId()}`, async () => {
        const res = await fetch(`${origin}${api}/Users/${ids[ids.length - 1]}`, { headers: auth });
        if (res.status !== 200) throw new Error(`GET /Users/{id} answered ${res.status}`);
      });
      await measureGet(
        'GET /Users?filter=userName eq "…"',
        created,
        () => `${api}/Users?filter=${encodeURIComponent(`userName eq "${randomName()}"`)}`,
        async () => {
          const name = userNames[userNames.length - 1];
          const res = await fetch(`${origin}${api}/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`, { headers: auth });
          const body = await res.json();
          if (res.status !== 200 || body.totalResults !== 1 || body.Resources?.[0]?.userName !== name) {
            throw new Error(`filter userName eq "${name}" answered ${res.status} with ${JSON.stringify(body).slice(0, 300)}`);
          }
        },
      );
    }

    rows.sort((a, b) => order(a) - order(b));
    const create = rows.filter((r) => r.kind === 'create');
    const overallCreate = created / seedSeconds;
    if (create.length > 1) {
      rows.splice(rows.indexOf(create[create.length - 1]) + 1, 0, {
        op: 'POST /Users (create), overall',
        users: `0 → ${fmtInt(created)}`,
        reqPerSec: overallCreate,
        p50: null,
        p99: null,
        kind: 'create-overall',
      });
    }

    const workload = { randomId, randomName, nextUser: () => next++ };
    for (const op of CPU_PROF) {
      const p = await profileOp(server, conn, op, workload);
      if (p) profiles.push(p);
    }

    const result = { started, machine: m0, loadEnd: os.loadavg(), rows, baseline, created, overallCreate, notes, profiles, revision };
    report(result);
  } catch (e) {
    const out = server.output().trim();
    const exit = server.exitInfo;
    throw new Error(
      `${e?.stack ?? e}\n${exit ? `The server exited (code ${exit.code}, signal ${exit.signal}).\n` : ''}Server output (last part):\n${out.slice(-4000)}`,
    );
  } finally {
    const keep = env.BENCH_KEEP_DB === '1';
    await server.stop({ keepDir: keep });
    if (keep) log(`Database kept: ${server.dbPath}`);
  }
}

function order(r) {
  const k = { baseline: 0, create: 1, 'create-overall': 2, 'GET /Users/{id}': 3 }[r.kind] ?? 4;
  return k * 1e9 + (r.size ?? 0);
}

/**
 * Restart the server on the same database with --cpu-prof, load one operation for
 * BENCH_DURATION seconds (POST: a bounded number of new users), and summarise the profile.
 */
async function profileOp(server, conn, op, w) {
  const labels = { get: 'GET /Users/{id}', filter: 'GET /Users?filter=userName eq', post: 'POST /Users' };
  log(`\nProfiling ${labels[op]} (server restarted with --cpu-prof) …`);
  const dir = server.dir;
  await server.stop({ keepDir: true });
  const profDir = path.join(dir, `prof-${op}`);
  const s2 = await startServer({ dir, logLevel: 'warn', nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
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
      r = await cannon({ ...base, amount: 5000, requests: req }, { serverPid: s2.child.pid, stopAfterS: 120 });
    } else {
      const rate = PROF_RATE ? { overallRate: PROF_RATE } : {};
      await cannon({ ...base, ...rate, duration: WARMUP_S, requests: req });
      r = await cannon({ ...base, ...rate, duration: DURATION, requests: req }, { serverPid: s2.child.pid });
    }
    checkClean(`${labels[op]} (profiled)`, r);
    log(`  under the profiler: ${fmtInt(r.reqPerSec)} req/s, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`);
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
    copyFileSync(path.join(profDir, files[0]), path.join(keep, `bench-${op}.cpuprofile`));
    log(`  raw profile kept at .bench-tmp/bench-${op}.cpuprofile`);
  } catch {
    /* best effort */
  }
  log(formatSummary(summary));
  return { op: labels[op], ...summary };
}

// ---------------------------------------------------------------- output

function table(result) {
  const base = result.baseline?.reqPerSec;
  const head = ['operation', 'users stored', 'req/s', 'p50 ms', 'p99 ms', 'ratio to baseline', 'server CPU µs/req'];
  const body = result.rows.map((r) => [
    r.op,
    r.users,
    fmtInt(r.reqPerSec) + (r.kind.startsWith('create') ? ' users/s' : ''),
    fmtMs(r.p50),
    fmtMs(r.p99),
    base ? `${((100 * r.reqPerSec) / base).toFixed(0)}%` : '–',
    fmtUs(r.cpuUsPerReq),
  ]);
  return [head, ...body];
}

function verdicts(result) {
  const out = [];
  const pctOff = (got, want) => `${((100 * (want - got)) / want).toFixed(0)}%`;
  const largest = Math.max(...SIZES);
  const rate = result.overallCreate;
  out.push(
    rate >= TARGET_CREATE_PER_S
      ? `POST /Users: ${fmtInt(rate)} users/s creating ${fmtInt(result.created)} users: target ≥ ${fmtInt(TARGET_CREATE_PER_S)}/s met.`
      : `POST /Users: ${fmtInt(rate)} users/s creating ${fmtInt(result.created)} users: target ≥ ${fmtInt(TARGET_CREATE_PER_S)}/s missed by ${pctOff(rate, TARGET_CREATE_PER_S)}.`,
  );
  for (const r of result.rows.filter((x) => x.kind === 'GET /Users/{id}')) {
    const ratio = r.reqPerSec / result.baseline.reqPerSec;
    out.push(
      ratio >= TARGET_GET_RATIO
        ? `GET /Users/{id} at ${r.users} users: ${(100 * ratio).toFixed(0)}% of baseline: target ≥ 50% met.`
        : `GET /Users/{id} at ${r.users} users: ${(100 * ratio).toFixed(0)}% of baseline: target ≥ 50% missed (needs ${fmtInt(TARGET_GET_RATIO * result.baseline.reqPerSec)} req/s, ${pctOff(ratio, TARGET_GET_RATIO)} short).`,
    );
  }
  const filt = result.rows.filter((x) => x.kind.startsWith('GET /Users?filter'));
  if (filt.length >= 2) {
    const a = filt[0];
    const b = filt[filt.length - 1];
    const r50 = b.p50 / a.p50;
    const r99 = b.p99 / a.p99;
    const ok = r50 <= TARGET_FILTER_GROWTH && r99 <= TARGET_FILTER_GROWTH;
    out.push(
      `Filter userName eq at ${b.users} vs ${a.users} users: p50 ${fmtMs(b.p50)} vs ${fmtMs(a.p50)} ms (×${r50.toFixed(2)}), p99 ${fmtMs(b.p99)} vs ${fmtMs(a.p99)} ms (×${r99.toFixed(2)}); ` +
        (ok ? `about the same (within ×${TARGET_FILTER_GROWTH}): target met.` : `grows with the store (more than ×${TARGET_FILTER_GROWTH}): target missed.`),
    );
  } else if (largest < 100000) {
    out.push('Filter latency growth not measured: only one size.');
  }
  return out;
}

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  log(line(rows[0]));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) log(line(r));
}

function markdown(result) {
  const t = table(result);
  const m = result.machine;
  const lines = [];
  lines.push(
    `Last run: ${result.started.toISOString().replace(/\.\d+Z$/, 'Z')}${result.revision ? ` on commit ${result.revision}` : ''} (\`npm run bench\`, ${DURATION} s per GET measurement after a ${WARMUP_S} s warm-up, ${CONNECTIONS} connections; POST with ${SEED_CONNECTIONS} connections).`,
  );
  lines.push('');
  lines.push(`Machine: ${m.cores} cores (\`nproc\`), ${m.memGiB.toFixed(1)} GiB memory, CPU ${m.cpu}, Node ${m.node}, ${m.platform}. Load average at start ${m.loadavg.map((l) => l.toFixed(2)).join(' ')}, at end ${result.loadEnd.map((l) => l.toFixed(2)).join(' ')}. Server, load generator (and anything else running) share these cores.`);
  lines.push('');
  lines.push(`| ${t[0].join(' | ')} |`);
  lines.push(`|${t[0].map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of t.slice(1)) lines.push(`| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  lines.push('');
  if (result.baseline) lines.push(`The baseline answers a fixed ${result.baseline.docBytes}-byte document: a user exactly as Rollcall returned it in this run.`);
  lines.push('');
  for (const v of verdicts(result)) lines.push(`- ${v}`);
  for (const n of result.notes) lines.push(`- ${n}`);
  for (const p of result.profiles) {
    lines.push('');
    lines.push(`CPU profile of the server under ${p.op} (\`BENCH_CPU_PROF\`), top functions by self time:`);
    lines.push('');
    for (const r of p.selfByFunction.slice(0, 10)) lines.push(`- ${r.pct.toFixed(1)}% \`${r.fn}\``);
  }
  return lines.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function writeDocs(result) {
  const block = `${START}\n${markdown(result)}\n${END}`;
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

function report(result) {
  log('\n=== Results ===');
  printTable(table(result));
  log('');
  for (const v of verdicts(result)) log(`- ${v}`);
  for (const n of result.notes) log(`- ${n}`);
  if (env.BENCH_NO_DOCS !== '1') writeDocs(result);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`benchmark failed: ${e?.message ?? e}`);
    process.exit(1);
  },
);
