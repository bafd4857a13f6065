/**
 * Issue 4 acceptance: two Rollcall server processes on one database, requests
 * spread over both as a load balancer would. Uniqueness, member changes and ETag
 * checks must hold because the database enforces them, not because one process
 * happens to serialise its own requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRollcall } from '../../src/rollcall.js';
import { call, type Cluster, startCluster } from './instances.js';

const user = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  active: true,
  ...extra,
});

describe('two instances on one database', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(2, { mappingKey: 'externalId' });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
  });

  const on = (i: number, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    call(c.scim(i % 2) + path, c.token, method, body, headers);

  it('both instances serve the freshly migrated database', async () => {
    for (const i of [0, 1]) expect((await on(i, 'GET', '/Users?count=1')).status).toBe(200);
  });

  it('50 concurrent POSTs of one userName: exactly one 201, the rest 409 uniqueness, one row', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => on(i, 'POST', '/Users', user('same.person@example.com', { externalId: `ext-${i}` }))));
    const created = replies.filter((r) => r.status === 201);
    const conflicts = replies.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(conflicts).toHaveLength(49);
    for (const r of conflicts) {
      expect(r.body.scimType).toBe('uniqueness');
      expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error', 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    }
    for (const i of [0, 1]) {
      const list = await on(i, 'GET', `/Users?filter=${encodeURIComponent('userName eq "same.person@example.com"')}`);
      expect(list.body.totalResults).toBe(1);
      expect(list.body.Resources[0].id).toBe(created[0].body.id);
    }
  });

  it('50 concurrent POSTs of one externalId (the mapping key) under different userNames: one 201, one row', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => on(i, 'POST', '/Users', user(`key-race-${i}@example.com`, { externalId: 'shared-key' }))));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 409 && r.body.scimType === 'uniqueness')).toHaveLength(49);
    const list = await on(0, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "shared-key"')}`);
    expect(list.body.totalResults).toBe(1);
  });

  it('20 concurrent PATCHes adding different members to one group: every member present', async () => {
    const members = await Promise.all(Array.from({ length: 20 }, (_, i) => on(i, 'POST', '/Users', user(`member-${i}@example.com`))));
    for (const m of members) expect(m.status).toBe(201);
    const group = await on(0, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Race group' });
    expect(group.status).toBe(201);
    // Entra ID's form: one add per request, sent in parallel.
    const patches = await Promise.all(
      members.map((m, i) =>
        on(i, 'PATCH', `/Groups/${group.body.id}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'Add', path: 'members', value: [{ value: m.body.id }] }],
        }),
      ),
    );
    for (const p of patches) expect([200, 204]).toContain(p.status);
    for (const i of [0, 1]) {
      const g = await on(i, 'GET', `/Groups/${group.body.id}`);
      expect(new Set(g.body.members.map((x: { value: string }) => x.value))).toEqual(new Set(members.map((m) => m.body.id)));
    }
    // Each user shows the group, and the group's version moved once per change.
    const u = await on(1, 'GET', `/Users/${members[7].body.id}`);
    expect(u.body.groups.map((g: { value: string }) => g.value)).toEqual([group.body.id]);
  });

  it('two concurrent PUTs with the same If-Match: one succeeds, the other 412 (10 rounds)', async () => {
    const created = await on(0, 'POST', '/Users', user('etag.race@example.com', { displayName: 'v0' }));
    let etag = created.headers.get('etag')!;
    expect(etag).toBeTruthy();
    for (let round = 1; round <= 10; round++) {
      const replies = await Promise.all(
        [0, 1].map((i) =>
          on(i, 'PUT', `/Users/${created.body.id}`, user('etag.race@example.com', { displayName: `round ${round} from ${i}` }), { 'if-match': etag }),
        ),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 412]);
      const winner = replies.find((r) => r.status === 200)!;
      const loser = replies.find((r) => r.status === 412)!;
      expect(loser.body.status).toBe('412');
      const now = await on(round, 'GET', `/Users/${created.body.id}`);
      expect(now.body.displayName).toBe(winner.body.displayName);
      etag = now.headers.get('etag')!;
      expect(etag).toBe(winner.headers.get('etag'));
    }
  });

  it('group PATCHes with the same If-Match on both instances: one 2xx, one 412', async () => {
    const g = await on(0, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'ETag group' });
    const etag = g.headers.get('etag')!;
    const replies = await Promise.all(
      [0, 1].map((i) =>
        on(i, 'PATCH', `/Groups/${g.body.id}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'displayName', value: `ETag group ${i}` }],
        }, { 'if-match': etag }),
      ),
    );
    expect(replies.map((r) => (r.status < 300 ? 'ok' : r.status)).sort()).toEqual(['ok', 412].sort());
  });
});

describe('two instances, exclusive groups', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(2, { exclusiveGroups: true });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
  });

  it('the same user added to two groups at once on two instances ends up in exactly one', async () => {
    const on = (i: number, method: string, path: string, body?: unknown) => call(c.scim(i) + path, c.token, method, body);
    for (let round = 0; round < 8; round++) {
      const u = await on(0, 'POST', '/Users', user(`exclusive-${round}@example.com`));
      const groups = await Promise.all(
        [0, 1].map((i) => on(i, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Team ${round}-${i}` })),
      );
      const replies = await Promise.all(
        [0, 1].map((i) =>
          on(i, 'PATCH', `/Groups/${groups[i].body.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'add', path: 'members', value: [{ value: u.body.id }] }],
          }),
        ),
      );
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((s) => s === 409)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200 || s === 204)).toHaveLength(1);
      const after = await on(1, 'GET', `/Users/${u.body.id}`);
      expect(after.body.groups).toHaveLength(1);
    }
  });
});

describe('purge with two workers on one database', () => {
  it('splits the work: every expired user purged exactly once, none twice', async () => {
    const c = await startCluster(0, { retentionDays: 1 });
    try {
      const clock = { now: new Date('2026-01-01T00:00:00Z') };
      const open = () => createRollcall({ databaseUrl: c.database.url, publicUrl: 'http://127.0.0.1', clock: () => clock.now });
      const [a, b] = [await open(), await open()];
      const grant = await a.connections.authenticate(c.connectionId, c.token);
      const ctx = { connectionId: c.connectionId, baseUrl: 'http://127.0.0.1/scim/v2', ...grant! };
      for (let i = 0; i < 1200; i += 100) {
        const made = await Promise.all(Array.from({ length: 100 }, (_, j) => a.users.create(ctx, user(`purge-${i + j}@example.com`))));
        await Promise.all(made.map((m) => a.users.delete(ctx, m.row.id)));
      }
      const later = new Date('2026-01-03T00:00:00Z');
      const [ra, rb] = await Promise.all([a.purge(later), b.purge(later)]);
      expect(ra.purged + rb.purged).toBe(1200);
      expect((await a.purge(later)).purged).toBe(0);
      await a.close();
      await b.close();
    } finally {
      await c.close();
    }
  });
});

describe('rate limit over two server processes', () => {
  it('ROLLCALL_RATE_LIMIT counts the requests of both: exactly the limit pass, the rest get 429', async () => {
    const c = await startCluster(2, {}, { ROLLCALL_RATE_LIMIT: '40' });
    try {
      // All requests inside one minute: start afresh if this one is about to end.
      const left = 60_000 - (Date.now() % 60_000);
      if (left < 15_000) await new Promise((r) => setTimeout(r, left + 100));
      const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => call(c.scim(i % 2) + '/Users?count=1', c.token, 'GET')));
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(40);
      expect(statuses.filter((s) => s === 429)).toHaveLength(60);
      const refused = replies.find((r) => r.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.body.status).toBe('429');
    } finally {
      await c.close();
    }
  }, 120_000);
});
