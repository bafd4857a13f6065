/**
 * Where a write's time goes (issue 14): POST /Users one at a time on a fresh server
 * started with --cpu-prof, after a warm-up and a pause; the main thread's busy
 * samples after the pause are sorted into the parts of a request (the first rule
 * that matches anywhere on a sample's stack wins, so SQL run by the outbox counts as
 * outbox), and shown as µs per create. With strace on this machine, the same creates
 * are counted in system calls, and the bytes the server wrote to the WAL give the
 * pages written per commit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection, SHIPPED_NODE_ARGS, startServer } from '../../test/conformance/server-process.mjs';
import { BUDGET_CREATES } from '../lib/config.mjs';
import { createBody, cyclePlan, scimClient, summarize } from '../lib/entra-cycle.mjs';
import { fmtInt, fmtMs, log } from '../lib/format.mjs';
import { cpuSeconds } from '../lib/system.mjs';

/** [part, test on one call frame (functionName, url)] — in order: the first part any frame of a stack matches. */
const PARTS = [
  ['commit (SQLite/PostgreSQL COMMIT)', (fn) => fn === 'commitTransaction'],
  ['outbox (events, counters, their SQL)', (_fn, url) => url.includes('/dist/events/')],
  ['provisioning log, metrics, request log line', (_fn, url) => /\/dist\/(directory\/provisioning-log|directory\/observer|http\/scim-observe|http\/metrics)|\/prom-client\/|\/pino/.test(url)],
  ['auth (token check, rate limit)', (_fn, url) => /\/dist\/(http\/scim-auth|directory\/connection-tokens|http\/rate-limit|directory\/rate-limit)/.test(url)],
  ['policies', (_fn, url) => url.includes('/dist/directory/policies/')],
  ['SQL statements (other than commit)', (fn, url) => (fn === 'executeQuery' && url.includes('sqlite-driver')) || /\/node_modules\/(pg|pg-protocol|pg-pool)\/|postgres-driver/.test(url)],
  ['SQL building (Kysely)', (_fn, url) => url.includes('/kysely/')],
  ['validation (JSON body, SCIM schema)', (_fn, url) => /\/dist\/(http\/body|scim\/resource|scim\/limits|scim\/schemas)|secure-json-parse|content-type-parser|\/zod\//.test(url)],
  ['response (serialise, send)', (fn, url) => /\/dist\/scim\/serialize|userToScimJson/.test(url + fn) || fn === 'writev' || fn === 'writevGeneric' || /reply\.js/.test(url)],
  ['directory (create logic, rows, events built)', (_fn, url) => url.includes('/dist/directory/') || url.includes('/dist/store/')],
  ['HTTP (parse, route, Fastify, Node)', (_fn, url) => /fastify|find-my-way|avvio|light-my-request/.test(url) || url.startsWith('node:') || url === ''],
];

/** Busy main-thread samples after the last idle stretch of ≥ 500 ms, sorted into PARTS: µs per part. */
export function budgetFromProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample times; the measured stretch starts after the last long idle stretch (the pause after the warm-up).
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  let from = 0;
  let idleSince = null;
  for (let i = 0; i < profile.samples.length; i++) {
    const fn = byId.get(profile.samples[i]).callFrame.functionName;
    if (fn === '(idle)') {
      idleSince ??= times[i];
      if (times[i] - idleSince >= 500_000) from = i;
    } else idleSince = null;
  }
  // The end: the last busy sample (the profile goes on until the server stops).
  let to = profile.samples.length - 1;
  while (to > from && byId.get(profile.samples[to]).callFrame.functionName === '(idle)') to--;
  const us = new Map(PARTS.map(([p]) => [p, 0]));
  us.set('garbage collection', 0);
  us.set('other', 0);
  let busy = 0;
  /** Per part, self time by leaf function: what a part's time is spent in. */
  const leaves = new Map();
  for (let i = from + 1; i <= to; i++) {
    const dt = times[i] - times[i - 1];
    const leaf = byId.get(profile.samples[i]);
    const fn = leaf.callFrame.functionName;
    if (fn === '(idle)') continue;
    busy += dt;
    if (fn === '(garbage collector)') {
      us.set('garbage collection', us.get('garbage collection') + dt);
      continue;
    }
    const frames = [];
    for (let x = leaf.id; x != null; x = parent.get(x)) frames.push(byId.get(x).callFrame);
    const part = PARTS.find(([, test]) => frames.some((f) => test(f.functionName, f.url || '')))?.[0] ?? 'other';
    us.set(part, us.get(part) + dt);
    const leafKey = `${fn || '(anonymous)'} ${(leaf.callFrame.url || '').replace(/^.*\/(dist|node_modules)\//, '')}`;
    const t = (leaves.get(part) ?? leaves.set(part, new Map()).get(part));
    t.set(leafKey, (t.get(leafKey) ?? 0) + dt);
  }
  const top = (part) => [...(leaves.get(part) ?? new Map())].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([fn, u]) => ({ fn, us: u }));
  return { busyUs: busy, parts: [...us].map(([part, u]) => ({ part, us: u, top: top(part) })) };
}

/** `strace -c -f` of `pid` while `work()` runs: calls per syscall (null without strace). */
async function countSyscalls(pid, work) {
  if (spawnSync('strace', ['-V']).status !== 0) return { work: await work(), syscalls: null };
  const out = path.join(os.tmpdir(), `rollcall-strace-${pid}.txt`);
  const args = ['-f', '-y', '-e', 'trace=pwrite64,write,writev,fsync,fdatasync,fcntl,pread64,read,futex,epoll_pwait,sendto,recvfrom', '-o', out, '-p', String(pid)];
  const st = spawn('strace', args, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000)); // attached
  const result = await work();
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  if (!existsSync(out)) return { work: result, syscalls: null };
  const text = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  const counts = {};
  let walPages = 0;
  for (const line of text.split('\n')) {
    const m = /^\d+\s+(\w+)\(/.exec(line);
    if (!m) continue;
    counts[m[1]] = (counts[m[1]] ?? 0) + 1;
    // WAL frames: a 24-byte header, then the page (4,096 bytes) — count the pages.
    if (m[1] === 'pwrite64' && line.includes('-wal>') && /= 4096$/.test(line)) walPages++;
  }
  return { work: result, syscalls: counts, walPages };
}

/**
 * The budget on `backend` (its PostgreSQL database when it has one). Sets
 * backend.budget = { creates, cpuUsPerCreate, busyUsPerCreate, parts: [{ part, us }], syscallsPerCreate, walPagesPerCommit }.
 */
export async function writeBudgetRun(backend) {
  const pgDb = backend.pg;
  const extraEnv = pgDb ? { DATABASE_URL: pgDb.dbUrl } : {};
  log(`\n${backend.label}: where a write's time goes (POST /Users one at a time, ${fmtInt(BUDGET_CREATES)} creates, --cpu-prof) …`);
  const plan = cyclePlan({ users: BUDGET_CREATES * 3 + 300, groups: 1, prefix: `budget${Date.now() % 100000}` });
  let u = 0;
  const creates = async (client, n) => {
    for (let i = 0; i < n; i++) {
      const r = await client.request('create user', 'POST', '/Users', createBody(plan.users[u++]));
      if (r.status !== 201) throw new Error(`create: HTTP ${r.status}`);
    }
  };
  // 1. The profile.
  const profDir = path.join(process.cwd(), '.bench-tmp', `budget-${backend.key}-${process.pid}`);
  let server = await startServer({ name: `rollcall-bench-budget-${backend.key}`, logLevel: 'warn', extraEnv, nodeArgs: [...SHIPPED_NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  let budget;
  try {
    const conn = await createConnection(server, 'budget');
    const client = scimClient({ origin: server.baseUrl, api: `/scim/v2/${conn.id}`, token: conn.token, inFlight: 1 });
    await creates(client, 300);
    await new Promise((r) => setTimeout(r, 1200)); // the pause that marks where the measured stretch begins
    const cpu0 = cpuSeconds(server.child.pid);
    const pg0 = pgDb?.probe ? await pgDb.probe.snapshot() : null;
    const t0 = Date.now();
    await creates(client, BUDGET_CREATES);
    const seconds = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(server.child.pid) - cpu0;
    const pgCpu = pg0 ? pgDb.probe.delta(pg0, await pgDb.probe.snapshot()) : null;
    const k = summarize(client.stats)['create user'];
    client.close();
    await server.stop();
    const file = existsSync(profDir) ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : null;
    if (!file) throw new Error('the server wrote no CPU profile');
    const b = budgetFromProfile(JSON.parse(readFileSync(path.join(profDir, file), 'utf8')));
    budget = {
      creates: BUDGET_CREATES,
      seconds,
      p50: k.p50,
      cpuUsPerCreate: (cpu * 1e6) / BUDGET_CREATES,
      pgCpuUsPerCreate: pgCpu != null ? (pgCpu * 1e6) / BUDGET_CREATES : null,
      busyUsPerCreate: b.busyUs / BUDGET_CREATES,
      parts: b.parts.map((p) => ({ part: p.part, us: p.us / BUDGET_CREATES, top: p.top.map((t) => ({ fn: t.fn, us: t.us / BUDGET_CREATES })) })).filter((p) => p.us > 0),
    };
  } catch (e) {
    await server.stop().catch(() => {});
    throw e;
  }
  // 2. System calls and WAL bytes, without the profiler.
  server = await startServer({ name: `rollcall-bench-budget-${backend.key}`, logLevel: 'warn', extraEnv });
  try {
    const conn = await createConnection(server, 'budget-syscalls');
    const client = scimClient({ origin: server.baseUrl, api: `/scim/v2/${conn.id}`, token: conn.token, inFlight: 1 });
    await creates(client, 300);
    const n = Math.min(BUDGET_CREATES, 1000);
    const counted = await countSyscalls(server.child.pid, () => creates(client, n));
    client.close();
    if (counted.syscalls) {
      budget.syscallsPerCreate = Object.fromEntries(Object.entries(counted.syscalls).map(([k, v]) => [k, v / n]).sort((a, b) => b[1] - a[1]));
      // Each create is one commit at one request in flight.
      if (counted.walPages) budget.walPagesPerCommit = counted.walPages / n;
    }
  } finally {
    await server.stop();
  }
  backend.budget = budget;
  log(`  ${fmtInt(budget.creates)} creates: p50 ${fmtMs(budget.p50)} ms; server CPU ${fmtInt(budget.cpuUsPerCreate)} µs/create (all threads), main thread busy ${fmtInt(budget.busyUsPerCreate)} µs/create${budget.pgCpuUsPerCreate != null ? `, PostgreSQL backends ${fmtInt(budget.pgCpuUsPerCreate)} µs/create` : ''}`);
  for (const p of budget.parts) log(`    ${p.part.padEnd(48)} ${fmtInt(p.us).padStart(6)} µs   ${p.top.map((t) => `${t.fn} ${fmtInt(t.us)}`).join(', ')}`);
  if (budget.syscallsPerCreate) log(`  system calls per create: ${Object.entries(budget.syscallsPerCreate).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}${budget.walPagesPerCommit ? `; WAL pages written per commit ${budget.walPagesPerCommit.toFixed(1)}` : ''}`);
}
