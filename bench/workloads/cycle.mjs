/**
 * The Entra ID-shaped cycle (bench/lib/entra-cycle.mjs) at the concurrency IdPs use,
 * on one backend: for each in-flight count (4 and 32 by default) the null SCIM server
 * is measured first as the ceiling, then Rollcall on a fresh connection (initial
 * cycle, then the incremental one), then what Rollcall kept is verified (not timed).
 * Then POST /Users with 1 in flight (latency of one write on an idle server).
 * With BENCH_CYCLE_KILL_USERS, the kill-and-resume run follows (killResumeRun).
 */
import { createConnection, startServer } from '../../test/conformance/server-process.mjs';
import { CYCLE_GROUPS, CYCLE_IN_FLIGHT, CYCLE_KILL_USERS, CYCLE_SINGLE_CREATES, CYCLE_USERS } from '../lib/config.mjs';
import { cyclePlan, createBody, incrementalCycle, initialCycle, scimClient, summarize, verifyCycle } from '../lib/entra-cycle.mjs';
import { fmtInt, fmtMs, fmtUs, log } from '../lib/format.mjs';
import { startNullScim } from '../lib/servers.mjs';
import { cpuSeconds } from '../lib/system.mjs';

const requestsOf = (summary) => Object.values(summary).reduce((a, k) => a + k.count, 0);
const failuresOf = (summary) => Object.values(summary).reduce((a, k) => a + k.non2xx + k.errors, 0);

/** One full cycle (initial + incremental) of `plan` through `client`; wall time, CPU of `pids`, per-kind latencies. */
async function timedCycle(client, plan, inFlight, pids = [], pgProbe = null) {
  const cpu0 = pids.map(cpuSeconds);
  const pg0 = pgProbe ? await pgProbe.snapshot().catch(() => null) : null;
  const t0 = process.hrtime.bigint();
  let failure = null;
  try {
    await initialCycle(client, plan, { inFlight });
    await incrementalCycle(client, plan, { inFlight });
  } catch (e) {
    failure = e?.message ?? String(e);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = pids.map(cpuSeconds);
  const pg1 = pg0 ? await pgProbe.snapshot().catch(() => null) : null;
  const kinds = summarize(client.stats);
  const requests = requestsOf(kinds);
  const cpu = pids.length && cpu0.every((c) => c != null) ? cpu1.reduce((a, c, i) => a + c - cpu0[i], 0) : null;
  return {
    seconds,
    requests,
    reqPerSec: requests / seconds,
    failures: failuresOf(kinds),
    failure,
    kinds,
    cpuUsPerReq: cpu != null ? (cpu * 1e6) / requests : null,
    pgCpuUsPerReq: pg0 && pg1 ? (pgProbe.delta(pg0, pg1) * 1e6) / requests : null,
  };
}

/** The null server's figures for `inFlight`: the same plan as Rollcall gets. */
async function ceiling(inFlight) {
  const nul = await startNullScim();
  try {
    const client = scimClient({ origin: nul.url, api: '/scim/v2/null', token: 'x', inFlight });
    const r = await timedCycle(client, cyclePlan({ users: CYCLE_USERS, groups: CYCLE_GROUPS, prefix: `ceiling${inFlight}` }), inFlight, [nul.pid]);
    client.close();
    if (r.failure) throw new Error(`the null server's cycle failed: ${r.failure}`);
    return r;
  } finally {
    await nul.stop();
  }
}

/**
 * Runs the cycle rows on `backend` (its PostgreSQL database when it has one, else a
 * fresh SQLite file). Sets backend.cycle = { rows: [{ inFlight, ceiling, rollcall,
 * share, verify }], single } and pushes notes for anything that went wrong.
 */
export async function cycleRun(backend) {
  const pgDb = backend.pg;
  const extraEnv = pgDb ? { DATABASE_URL: pgDb.dbUrl } : {};
  log(`\n=== ${backend.label}: Entra ID-shaped cycle, ${fmtInt(CYCLE_USERS)} users, ${CYCLE_GROUPS} groups, in flight ${CYCLE_IN_FLIGHT.join(' and ')} ===`);
  const server = await startServer({ name: `rollcall-bench-cycle-${backend.key}`, logLevel: 'warn', extraEnv });
  const rows = [];
  backend.cycle = { rows, users: CYCLE_USERS, groups: CYCLE_GROUPS };
  try {
    for (const inFlight of CYCLE_IN_FLIGHT) {
      const top = await ceiling(inFlight);
      const conn = await createConnection(server, `cycle-${inFlight}`);
      const api = `/scim/v2/${conn.id}`;
      const client = scimClient({ origin: server.baseUrl, api, token: conn.token, inFlight });
      const plan = cyclePlan({ users: CYCLE_USERS, groups: CYCLE_GROUPS, prefix: `cycle${inFlight}` });
      const r = await timedCycle(client, plan, inFlight, [server.child.pid], pgDb?.probe ?? null);
      const verify = await verifyCycle(client, plan, { incremental: !r.failure, sample: 200 });
      client.close();
      const share = r.reqPerSec / top.reqPerSec;
      rows.push({ inFlight, ceiling: top, rollcall: r, share, verify });
      log(
        `  ${inFlight} in flight: null server ${fmtInt(top.reqPerSec)} req/s; Rollcall ${fmtInt(r.reqPerSec)} req/s (${r.requests} requests in ${r.seconds.toFixed(1)} s) = ${share.toFixed(2)} of the ceiling, ` +
          `server CPU ${fmtUs(r.cpuUsPerReq)} µs/req${r.pgCpuUsPerReq != null ? `, PostgreSQL ${fmtUs(r.pgCpuUsPerReq)} µs/req` : ''}; ${r.failures} failed requests`,
      );
      for (const [kind, k] of Object.entries(r.kinds)) log(`    ${kind.padEnd(16)} ${String(k.count).padStart(6)}  p50 ${fmtMs(k.p50)} ms  p99 ${fmtMs(k.p99)} ms${k.non2xx || k.errors ? `  ${k.non2xx} non-2xx, ${k.errors} errors: ${k.firstBad.join('; ')}` : ''}`);
      log(`    verified: ${verify.usersFound}/${verify.usersExpected} users found once, ${verify.sampleOk}/${verify.sampleChecked} sampled users correct, ${verify.groupsFound}/${verify.groupsExpected} groups, ${verify.membersFound}/${verify.membersExpected} members${verify.ok ? '' : `; PROBLEMS: ${verify.problems.slice(0, 5).join('; ')}`}`);
      if (r.failure) backend.notes.push(`Entra-shaped cycle at ${inFlight} in flight stopped: ${r.failure}`);
      if (!verify.ok) backend.notes.push(`Entra-shaped cycle at ${inFlight} in flight: verification found ${verify.problems.length} problems, e.g. ${verify.problems.slice(0, 3).join('; ')}`);
    }
    backend.cycle.single = await singleCreates(server);
    const s = backend.cycle.single;
    log(`  POST /Users, 1 in flight, ${fmtInt(s.count)} creates: p50 ${fmtMs(s.p50)} ms, p99 ${fmtMs(s.p99)} ms, ${fmtInt(s.perSec)} users/s, server CPU ${fmtUs(s.cpuUsPerReq)} µs/req`);
  } finally {
    await server.stop();
  }
  if (CYCLE_KILL_USERS) backend.cycle.kill = await killResumeRun(backend);
}

/** POST /Users one at a time on a fresh connection: the latency of a single write. */
async function singleCreates(server) {
  const conn = await createConnection(server, 'single-creates');
  const client = scimClient({ origin: server.baseUrl, api: `/scim/v2/${conn.id}`, token: conn.token, inFlight: 1 });
  const plan = cyclePlan({ users: CYCLE_SINGLE_CREATES + 50, groups: 1, prefix: 'single' });
  // 50 creates warm the server's code paths first; they are not counted.
  for (const u of plan.users.slice(0, 50)) await client.request('warm-up', 'POST', '/Users', createBody(u));
  const cpu0 = cpuSeconds(server.child.pid);
  const t0 = process.hrtime.bigint();
  for (const u of plan.users.slice(50)) {
    const r = await client.request('create user', 'POST', '/Users', createBody(u));
    if (r.status !== 201) throw new Error(`single create: HTTP ${r.status}`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(server.child.pid) - cpu0;
  client.close();
  const k = summarize(client.stats)['create user'];
  return { count: k.count, p50: k.p50, p99: k.p99, perSec: k.count / seconds, cpuUsPerReq: (cpu * 1e6) / k.count };
}

/**
 * The initial cycle of CYCLE_KILL_USERS users (users only: the part a crash hurts) at
 * 4 in flight on a fresh connection; at half of them acknowledged, the server is
 * killed with SIGKILL and started again on the same database, and the cycle resumes as
 * an IdP's next run does: every user it has no acknowledged id for is looked up and
 * created when missing. Then every user must be found exactly once, and every id
 * acknowledged before the kill must still be readable.
 */
export async function killResumeRun(backend) {
  const users = CYCLE_KILL_USERS;
  const inFlight = 4;
  const pgDb = backend.pg;
  const extraEnv = pgDb ? { DATABASE_URL: pgDb.dbUrl } : {};
  log(`\n${backend.label}: initial cycle of ${fmtInt(users)} users at ${inFlight} in flight, server killed (SIGKILL) at half and restarted, cycle resumed …`);
  let server = await startServer({ name: `rollcall-bench-kill-${backend.key}`, logLevel: 'warn', extraEnv });
  const dir = server.dir;
  try {
    const conn = await createConnection(server, 'kill-resume');
    const api = `/scim/v2/${conn.id}`;
    const plan = cyclePlan({ users, groups: 1, prefix: 'kill' });
    const ids = { users: new Map(), groups: new Map() };
    const t0 = Date.now();
    let client = scimClient({ origin: server.baseUrl, api, token: conn.token, inFlight });
    let killed = false;
    let killedAt = 0;
    const firstRun = await initialCycle(client, plan, {
      inFlight,
      usersOnly: true,
      ids,
      onCreated: (n) => {
        if (!killed && n >= users / 2) {
          killed = true;
          killedAt = Date.now();
          server.child.kill('SIGKILL');
        }
      },
    }).then(
      () => 'completed',
      (e) => e?.code ?? e?.message ?? String(e),
    );
    client.close();
    await server.exited;
    const acknowledgedBeforeKill = new Map(ids.users);
    const restartT0 = Date.now();
    server = await startServer({ name: `rollcall-bench-kill-${backend.key}`, logLevel: 'warn', extraEnv, dir });
    const restartS = (Date.now() - restartT0) / 1000;
    client = scimClient({ origin: server.baseUrl, api, token: conn.token, inFlight });
    const remaining = plan.users.filter((u) => !ids.users.has(u.n));
    await initialCycle(client, plan, { inFlight, users: remaining, usersOnly: true, ids });
    const seconds = (Date.now() - t0) / 1000;
    const verify = await verifyCycle(client, plan, { sample: 500, groups: false, inFlight: 8 });
    // Every acknowledged id survives the kill: read each one back.
    let lost = 0;
    const ackIds = [...acknowledgedBeforeKill.values()];
    for (let i = 0; i < ackIds.length; i += 200) {
      const rs = await Promise.all(ackIds.slice(i, i + 200).map((id) => client.request('verify', 'GET', `/Users/${id}?attributes=userName`)));
      lost += rs.filter((r) => r.status !== 200).length;
    }
    client.close();
    const r = { users, seconds, restartS, killedAfterS: (killedAt - t0) / 1000, firstRun, acknowledgedBeforeKill: acknowledgedBeforeKill.size, resumed: remaining.length, lost, verify };
    log(
      `  killed after ${r.killedAfterS.toFixed(1)} s with ${fmtInt(r.acknowledgedBeforeKill)} users acknowledged (first run ended: ${firstRun}); restarted in ${restartS.toFixed(1)} s; ` +
        `${fmtInt(r.resumed)} users resumed; whole cycle ${seconds.toFixed(1)} s (${fmtInt(users / seconds)} users/s). ` +
        `Verified: ${verify.usersFound}/${users} found once, ${verify.totalResults} in the connection, ${verify.sampleOk}/${verify.sampleChecked} sampled correct, ${lost} acknowledged users lost${verify.ok && !lost ? '' : `; PROBLEMS: ${verify.problems.slice(0, 5).join('; ')}`}`,
    );
    if (!verify.ok || lost) backend.notes.push(`Kill-and-resume cycle: ${lost} acknowledged users lost; ${verify.problems.slice(0, 3).join('; ')}`);
    return r;
  } finally {
    await server.stop({ keepDir: false });
  }
}
