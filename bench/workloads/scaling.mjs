/** The scaling workload: one Rollcall instance vs two on the same PostgreSQL database. */
import { startServer } from '../../test/conformance/server-process.mjs';
import { CONNECTIONS, SCALE_USERS, SEED_CONNECTIONS, SEED_TIMEOUT_S, WARMUP_S } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, fmtPgCost, log } from '../lib/format.mjs';
import { load, warmThenMeasure } from '../lib/load.mjs';
import { outputSince } from '../lib/servers.mjs';
import { getRequest } from '../lib/users.mjs';

/**
 * One instance vs two on the same PostgreSQL database (the one just seeded to the
 * largest size): GET /Users/{id} for BENCH_DURATION s and POST /Users for SCALE_USERS
 * new users, first against `server` alone with all the connections, then against
 * `server` and a second instance, one autocannon run per instance with half the
 * connections each, in parallel; req/s summed, CPU summed over the instances.
 */
export async function scalingRun(backend, server, { api, auth, w, report }) {
  const probe = backend.pg.probe;
  const usersAtStart = w.ids.length;
  log(`\nScaling: PostgreSQL, one instance vs two on the same database (${fmtInt(usersAtStart)} users) …`);
  const split = (n) => [Math.max(1, Math.ceil(n / 2)), Math.max(1, Math.floor(n / 2))];
  const getReq = [getRequest(() => `${api}/Users/${w.randomId()}`)];
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
      const r = await warmThenMeasure(
        servers.map((s, i) => ({ url: s.baseUrl, connections: conns[i], headers: auth, requests: getReq })),
        { pids, pgProbe: probe },
      );
      const flagged = reportAll(report, what, r, servers, marks);
      rows.push({ op: 'GET /Users/{id}', n, r, flagged, conns });
      log(`  GET /Users/{id}, ${n} instance(s), connections ${conns.join(' + ')}: ${fmtInt(r.reqPerSec)} req/s${n > 1 ? ` (${r.perTarget.map(fmtInt).join(' + ')})` : ''}, ${fmtLatencyCpu(r)}${fmtPgCost(r)}`);
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
      log(`  POST /Users, ${n} instance(s), connections ${conns.join(' + ')}: ${fmtInt(w.ids.length - before)} users in ${r.elapsedS.toFixed(1)} s = ${fmtInt(r.reqPerSec)} users/s, ${fmtLatencyCpu(r)}${fmtPgCost(r)}`);
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
