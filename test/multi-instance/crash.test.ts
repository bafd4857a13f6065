/**
 * Durability: a server killed with SIGKILL in the middle of a stream of creates.
 * Every create that was answered 201 must be there after a restart — the answer
 * is sent only after the commit (group commit included). Runs on both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRollcall } from '../../src/rollcall.js';
import { call, type Cluster, startCluster } from './instances.js';
import { tenantOf } from '../../src/store/tenant.js';

const TOTAL = 5000;
const IN_FLIGHT = 16;
const KILL_AFTER = 2000;

describe('SIGKILL during a stream of creates', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(1);
  }, 120_000);
  afterAll(async () => {
    await c?.close();
  });

  it(`every user answered 201 before the kill is stored after a restart`, async () => {
    const server = c.servers[0];
    const url = c.scim(0) + '/Users';
    const acknowledged = new Map<string, string>(); // id -> userName
    let failed = 0;
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < TOTAL) {
        const n = next++;
        const userName = `crash-${n}@example.com`;
        try {
          const r = await call(url, c.token, 'POST', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, externalId: `crash-${n}` });
          if (r.status === 201) acknowledged.set(r.body.id, userName);
          else failed++;
        } catch {
          failed++; // the connection died with the server: no answer, no promise made
        }
        if (!killed && acknowledged.size >= KILL_AFTER) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const exit = await server.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(failed).toBeGreaterThan(0); // the kill really happened mid-stream

    // Restart on the same database; the new server answers for every acknowledged user.
    const restarted = await c.start();
    const base = `${restarted.baseUrl}/scim/v2/${c.connectionId}`;
    const rc = await createRollcall({ databaseUrl: c.database.url, publicUrl: 'http://127.0.0.1' });
    try {
      const rows = await rc.database.db.selectFrom('users').select(['id', 'user_name']).where('tenant', '=', tenantOf(c.connectionId)).execute();
      const stored = new Map(rows.map((r) => [r.id, r.user_name]));
      const lost = [...acknowledged].filter(([id, name]) => stored.get(id) !== name);
      expect(lost).toEqual([]);
      // Nothing is stored twice, and unanswered creates are either stored once or not at all.
      expect(new Set(rows.map((r) => r.user_name)).size).toBe(rows.length);
    } finally {
      await rc.close();
    }
    // The most recent acknowledgements are the ones at risk: read them back over HTTP.
    const latest = [...acknowledged.keys()].slice(-50);
    for (const id of latest) {
      const r = await call(`${base}/Users/${id}`, c.token, 'GET');
      expect(r.status).toBe(200);
      expect(r.body.userName).toBe(acknowledged.get(id));
    }
  }, 180_000);
});
