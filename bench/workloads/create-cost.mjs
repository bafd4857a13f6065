/**
 * What one server setting costs POST /Users on SQLite: the setting off vs on,
 * alternating rounds, each creating `users` users on a fresh database. The outbox
 * (ROLLCALL_EVENTS) and the provisioning log (ROLLCALL_REQUEST_LOG) are measured so.
 */
import { createConnection } from '../../test/conformance/server-process.mjs';
import { OUTBOX_ROUNDS, SEED_CONNECTIONS, SEED_TIMEOUT_S } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, log } from '../lib/format.mjs';
import { load, problems } from '../lib/load.mjs';
import { alternatingRounds } from '../lib/servers.mjs';
import { createUserRequest } from '../lib/users.mjs';

/**
 * `variable` is switched off/on; `fixed` is the rest of the environment (the other
 * setting held still, so each run measures one thing).
 */
export async function createCostRun({ name, what, variable, fixed = {}, users }) {
  log(`\n${what} cost: POST /Users of ${fmtInt(users)} users on a fresh SQLite database, ${variable} off vs on, ${OUTBOX_ROUNDS} rounds …`);
  const measured = await alternatingRounds(name, OUTBOX_ROUNDS, (mode) => ({ ...fixed, [variable]: mode }), async (server, mode, round) => {
    const conn = await createConnection(server, name);
    let n = 0;
    const bad = [];
    const r = await load(
      [
        {
          url: server.baseUrl,
          connections: SEED_CONNECTIONS,
          amount: users,
          requests: [
            createUserRequest(`/scim/v2/${conn.id}/Users`, { authorization: `Bearer ${conn.token}` }, () => ++n, (status, body) => {
              if (status !== 201 && bad.length < 3) bad.push(`${status} ${String(body).slice(0, 200)}`);
            }),
          ],
        },
      ],
      { pids: [server.child.pid], stopAfterS: SEED_TIMEOUT_S },
    );
    if (problems(r)) throw new Error(`${name} run (${variable}=${mode}): ${problems(r)}; ${bad.join('; ')}`);
    log(`  round ${round}, ${variable}=${mode}: ${fmtInt(r.reqPerSec)} users/s, ${fmtLatencyCpu(r)}`);
    return { perSec: r.reqPerSec, cpuUsPerReq: r.cpuUsPerReq, p50: r.p50, p99: r.p99 };
  });
  return { users, ...measured };
}
