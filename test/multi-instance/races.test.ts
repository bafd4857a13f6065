/**
 * Races between writers on one database (found in review, kept as regressions):
 * two Rollcall instances in this process with their own pools, interleaving
 * writes that start from users with writes that start from groups. On SQLite the
 * one writer serialises everything; the same expectations must hold there too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import type { RequestContext } from '../../src/directory/context.js';
import pg from 'pg';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/databases.js';

const P = (ops: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops });

let database: TestDatabase | undefined;
let instances: Rollcall[] = [];
afterEach(async () => {
  await Promise.all(instances.map((i) => i.close()));
  instances = [];
  await database?.drop();
});

async function two(settings: unknown = {}): Promise<{ a: Rollcall; b: Rollcall; ctx: RequestContext }> {
  database = await freshDatabase('rollcall-races-');
  const a = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test' });
  const b = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test' });
  instances = [a, b];
  const conn = await a.connections.create({ name: 'Races', settings });
  const ctx: RequestContext = { connectionId: conn.id, baseUrl: conn.scimUrl, organizationId: conn.organizationId, workspace: 'default', settings: conn.settings };
  return { a, b, ctx };
}

describe('races between user-first and group-first writes', () => {
  it('renames and member adds over two instances all succeed (deadlocks are retried, writes split)', async () => {
    const { a, b, ctx } = await two();
    const users: string[] = [];
    for (let i = 0; i < 60; i++) users.push((await a.users.create(ctx, { userName: `u${i}@x.test` })).row.id);
    const groups: string[] = [];
    for (let i = 0; i < 4; i++) groups.push((await a.groups.create(ctx, { displayName: `g${i}`, members: users.slice(0, 30).map((value) => ({ value })) })).row.id);
    const ops: (() => Promise<unknown>)[] = [];
    users.slice(0, 30).forEach((u, i) => ops.push(() => (i % 2 ? a : b).users.patch(ctx, u, P([{ op: 'replace', path: 'displayName', value: `New ${i}` }]))));
    users.slice(30).forEach((u, i) => groups.forEach((g, j) => ops.push(() => ((i + j) % 2 ? b : a).groups.patch(ctx, g, P([{ op: 'add', path: 'members', value: [{ value: u }] }])))));
    // A fixed shuffle: the interleaving differs from run to run only by timing.
    ops.sort((x, y) => ((ops.indexOf(x) * 7919) % 97) - ((ops.indexOf(y) * 7919) % 97));
    const results = await Promise.allSettled(ops.map((f) => f()));
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed.map((f) => String(f.reason?.code ?? f.reason?.message))).toEqual([]);
    const members = await a.groups.membersOf(groups);
    for (const g of groups) expect(members.get(g)).toHaveLength(60);
    expect((await a.users.get(ctx, users[3])).row.display_name).toBe('New 3');
  });

  it('a user deleted while being added to a group is never left a member', async () => {
    const { a, b, ctx } = await two();
    const g = (await a.groups.create(ctx, { displayName: 'g' })).row.id;
    for (let i = 0; i < 40; i++) {
      const u = (await a.users.create(ctx, { userName: `d${i}@x.test` })).row.id;
      const [del, add] = await Promise.allSettled([
        a.users.delete(ctx, u),
        b.groups.patch(ctx, g, P([{ op: 'add', path: 'members', value: [{ value: u }] }])),
      ]);
      expect(del.status).toBe('fulfilled');
      // The add either came first (and the delete then removed the membership) or was refused: 400, the user is gone.
      if (add.status === 'rejected') expect(add.reason?.status).toBe(400);
      const left = (await a.groups.membersOf([g])).get(g) ?? [];
      expect(left.map((m) => m.value)).not.toContain(u);
    }
  });

  it('a group rule adding to a group deleted at the same moment never fails the user write', async () => {
    const { a, b, ctx } = await two({ groupRules: [{ when: { attribute: 'title', in: ['Dev'] }, addTo: 'Developers' }] });
    for (let i = 0; i < 30; i++) {
      const g = (await a.groups.create(ctx, { displayName: 'Developers' })).row.id;
      const [create, del] = await Promise.allSettled([a.users.create(ctx, { userName: `r${i}@x.test`, title: 'Dev' }), b.groups.delete(ctx, g)]);
      expect(create.status, create.status === 'rejected' ? String(create.reason) : '').toBe('fulfilled');
      expect(del.status).toBe('fulfilled');
      // Whichever came second: the rule's group exists now with the user, or was deleted with the user in it.
      const now = await a.groups.list(ctx, { startIndex: 1, count: 10 });
      for (const rec of now.records) await a.groups.delete(ctx, rec.row.id);
    }
  });

  it('purging a deactivated member says which groups it left', async () => {
    const clock = { now: new Date('2026-02-01T00:00:00Z') };
    database = await freshDatabase('rollcall-races-');
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', clock: () => clock.now });
    instances = [rc];
    const conn = await rc.connections.create({ name: 'Purge', settings: { retentionDays: 1, purgeDeactivated: true } });
    const ctx: RequestContext = { connectionId: conn.id, baseUrl: conn.scimUrl, organizationId: conn.organizationId, settings: conn.settings };
    const u = (await rc.users.create(ctx, { userName: 'leaver@x.test' })).row.id;
    const g = (await rc.groups.create(ctx, { displayName: 'Team', members: [{ value: u }] })).row.id;
    await rc.users.patch(ctx, u, P([{ op: 'replace', path: 'active', value: false }]));
    const before = (await rc.events.feed({ limit: 1000 })).next;
    clock.now = new Date('2026-02-05T00:00:00Z');
    expect((await rc.purge()).purged).toBe(1);
    const evs = (await rc.events.feed({ after: before, limit: 1000 })).events;
    expect(evs.map((e) => e.type)).toEqual(['group.member_removed', 'user.purged']);
    expect(evs[0].data).toMatchObject({ group: { id: g, displayName: 'Team' }, user: { id: u, userName: 'leaver@x.test' } });
  });

  // Regression: a worker that found the first chunk held by another worker took
  // "fewer than a chunk claimed" for "nothing left" and stopped, leaving the rest.
  it.skipIf(!onPostgres)('a purge moves past users another worker holds and purges the rest', async () => {
    const clock = { now: new Date('2026-03-01T00:00:00Z') };
    database = await freshDatabase('rollcall-races-');
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', clock: () => clock.now });
    instances = [rc];
    const conn = await rc.connections.create({ name: 'Sweep', settings: { retentionDays: 1 } });
    const ctx: RequestContext = { connectionId: conn.id, baseUrl: conn.scimUrl, organizationId: conn.organizationId, settings: conn.settings };
    for (let i = 0; i < 1200; i += 100) {
      const made = await Promise.all(Array.from({ length: 100 }, (_, j) => rc.users.create(ctx, { userName: `sweep${i + j}@x.test` })));
      await Promise.all(made.map((m) => rc.users.delete(ctx, m.row.id)));
    }
    clock.now = new Date('2026-03-05T00:00:00Z');
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      // Another worker's claim: the first 500 in the purge's own order.
      await other.query('begin');
      const held = await other.query(`select id from users where state = 'deleted' order by id limit 500 for update`);
      expect(held.rowCount).toBe(500);
      expect((await rc.purge()).purged).toBe(700);
      await other.query('commit');
    } finally {
      await other.end();
    }
    expect((await rc.purge()).purged).toBe(500);
    expect((await rc.purge()).purged).toBe(0);
  });
});
