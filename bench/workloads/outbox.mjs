/** The outbox cost workload: POST /Users on SQLite with ROLLCALL_EVENTS off vs on. */
import { createConnection } from '../../test/conformance/server-process.mjs';
import { OUTBOX_ROUNDS, OUTBOX_USERS, SEED_CONNECTIONS, SEED_TIMEOUT_S } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, log } from '../lib/format.mjs';
import { load, problems } from '../lib/load.mjs';
import { alternatingRounds } from '../lib/servers.mjs';
import { createUserRequest } from '../lib/users.mjs';

/**
 * What storing events costs POST /Users: ROLLCALL_EVENTS=off vs =on, each round
 * creating OUTBOX_USERS users on an empty database.
 */
export async function outboxRun() {
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
            createUserRequest(`/scim/v2/${conn.id}/Users`, { authorization: `Bearer ${conn.token}` }, () => ++n, (status, body) => {
              if (status !== 201 && bad.length < 3) bad.push(`${status} ${String(body).slice(0, 200)}`);
            }),
          ],
        },
      ],
      { pids: [server.child.pid], stopAfterS: SEED_TIMEOUT_S },
    );
    if (problems(r)) throw new Error(`outbox run (events ${mode}): ${problems(r)}; ${bad.join('; ')}`);
    log(`  round ${round}, events ${mode}: ${fmtInt(r.reqPerSec)} users/s, ${fmtLatencyCpu(r)}`);
    return { perSec: r.reqPerSec, cpuUsPerReq: r.cpuUsPerReq, p50: r.p50, p99: r.p99 };
  });
  return { users: OUTBOX_USERS, ...measured };
}
