/** The rate-limit cost workload: GET /Users/{id} on SQLite with ROLLCALL_RATE_LIMIT off vs on. */
import { createConnection } from '../../test/conformance/server-process.mjs';
import { CONNECTIONS, RATE_LIMIT_ON, RATE_ROUNDS, RATE_USERS, SEED_CONNECTIONS, SEED_TIMEOUT_S } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, log } from '../lib/format.mjs';
import { load, problems, warmThenMeasure } from '../lib/load.mjs';
import { alternatingRounds } from '../lib/servers.mjs';
import { createUserRequest, getRequest } from '../lib/users.mjs';

/**
 * What the rate limit costs a request it lets through: ROLLCALL_RATE_LIMIT unset vs
 * set far above this load, each round answering GET /Users/{id} over RATE_USERS
 * users for BENCH_DURATION s.
 */
export async function rateLimitRun() {
  log(`\nRate limit cost: GET /Users/{id} on a fresh SQLite database of ${fmtInt(RATE_USERS)} users, ROLLCALL_RATE_LIMIT off vs ${fmtInt(RATE_LIMIT_ON)}/min, ${RATE_ROUNDS} rounds …`);
  const env = (mode) => (mode === 'on' ? { ROLLCALL_RATE_LIMIT: String(RATE_LIMIT_ON) } : {});
  return alternatingRounds('rate', RATE_ROUNDS, env, async (server, mode, round) => {
    const conn = await createConnection(server, 'rate');
    const api = `/scim/v2/${conn.id}`;
    const headers = { authorization: `Bearer ${conn.token}`, 'content-type': 'application/scim+json' };
    const ids = [];
    let n = 0;
    const seeded = await load(
      [{ url: server.baseUrl, connections: SEED_CONNECTIONS, amount: RATE_USERS, requests: [createUserRequest(`${api}/Users`, headers, () => ++n, (status, body) => status === 201 && ids.push(JSON.parse(body).id))] }],
      { stopAfterS: SEED_TIMEOUT_S },
    );
    if (problems(seeded)) throw new Error(`rate-limit run (seeding, limit ${mode}): ${problems(seeded)}`);
    const get = [getRequest(() => `${api}/Users/${ids[(Math.random() * ids.length) | 0]}`, headers)];
    const r = await warmThenMeasure([{ url: server.baseUrl, connections: CONNECTIONS, requests: get }], { pids: [server.child.pid] });
    if (problems(r)) throw new Error(`rate-limit run (limit ${mode}): ${problems(r)}`);
    log(`  round ${round}, limit ${mode}: ${fmtInt(r.reqPerSec)} req/s, ${fmtLatencyCpu(r)}`);
    return { perSec: r.reqPerSec, cpuUsPerReq: r.cpuUsPerReq, p50: r.p50, p99: r.p99 };
  });
}
