/**
 * Issue 5: every change produces its event, in the same transaction as the
 * change, with the resource as the host application sees it. Read back through
 * the events feed (what a polling host app does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScimClient, type TestApp, type TestConnection, scimClient, startTestApp } from '../support/app.js';
import type { RollcallEvent } from '../../src/events/types.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let conn: TestConnection;
let scim: ScimClient;
let cursor: string | undefined;
const clock = { now: new Date('2026-03-01T09:00:00Z') };

/** Events committed since the last call. */
async function newEvents(): Promise<RollcallEvent[]> {
  const out: RollcallEvent[] = [];
  for (;;) {
    const page = await t.rc.events.feed({ after: cursor, limit: 1000 });
    out.push(...page.events);
    cursor = page.next;
    if (page.events.length < 1000) return out;
  }
}
const types = (evs: RollcallEvent[]) => evs.map((e) => e.type);

beforeAll(async () => {
  t = await startTestApp({ clock: () => clock.now });
  conn = await t.connection('Events', {
    settings: { defaultLanguage: 'de', defaultRole: 'learner', retentionDays: 30 },
    workspace: 'acme-hq',
  });
  scim = scimClient(t.app, conn);
  await newEvents(); // skip anything from set-up
});
afterAll(async () => {
  await t?.close();
});

describe('user events', () => {
  let id: string;

  it('POST /Users → user.created with the host view (role, workspace, normalised language)', async () => {
    const r = await scim.post('/Users', {
      schemas: [USER],
      userName: 'ada@example.com',
      externalId: 'ada-1',
      displayName: 'Ada',
      preferredLanguage: 'en_gb',
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
    });
    expect(r.status).toBe(201);
    id = r.body.id;
    const [e, ...rest] = await newEvents();
    expect(rest).toEqual([]);
    expect(Object.keys(e).sort()).toEqual(['connectionId', 'data', 'id', 'occurredAt', 'organizationId', 'sequence', 'type']);
    expect(e.type).toBe('user.created');
    expect(e.connectionId).toBe(conn.id);
    expect(e.organizationId).toBe(conn.organizationId);
    expect(e.occurredAt).toBe('2026-03-01T09:00:00.000Z');
    expect(e.data).toMatchObject({
      id,
      userName: 'ada@example.com',
      externalId: 'ada-1',
      active: true,
      state: 'active',
      email: 'ada@example.com',
      workspace: 'acme-hq',
      role: 'learner',
      language: 'en-GB',
    });
  });

  it('a PATCH of attributes → user.updated with the changes before and after', async () => {
    const r = await scim.patch(`/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Ada L.' },
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Research' },
      ],
    });
    expect(r.status).toBe(200);
    const evs = await newEvents();
    expect(types(evs)).toEqual(['user.updated']);
    expect(evs[0].data.changes).toEqual(
      expect.arrayContaining([
        { path: 'displayName', before: 'Ada', after: 'Ada L.' },
        { path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', before: null, after: 'Research' },
      ]),
    );
    expect((evs[0].data.changes as unknown[]).length).toBe(2);
  });

  it('a PATCH that changes nothing emits nothing', async () => {
    const r = await scim.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: 'Ada L.' }] });
    expect(r.status).toBe(200);
    expect(await newEvents()).toEqual([]);
  });

  it('active false → user.deactivated, active true → user.reactivated (no user.updated for active alone)', async () => {
    await scim.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    let evs = await newEvents();
    expect(types(evs)).toEqual(['user.deactivated']);
    expect(evs[0].data).toMatchObject({ id, active: false, state: 'deactivated' });
    await scim.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: true }] });
    evs = await newEvents();
    expect(types(evs)).toEqual(['user.reactivated']);
  });

  it('a refused write (409, 400) emits nothing', async () => {
    expect((await scim.post('/Users', { schemas: [USER], userName: 'ADA@example.com' })).status).toBe(409);
    expect((await scim.post('/Users', { schemas: [USER] })).status).toBe(400);
    expect(await newEvents()).toEqual([]);
  });

  it('DELETE → member_removed for each group left, then user.deleted; the same key again → user.restored', async () => {
    const g = await scim.post('/Groups', { schemas: [GROUP], displayName: 'Readers', members: [{ value: id }] });
    expect(g.status).toBe(201);
    expect(types(await newEvents())).toEqual(['group.created', 'group.member_added']);
    expect((await scim.delete(`/Users/${id}`)).status).toBe(204);
    const evs = await newEvents();
    expect(types(evs)).toEqual(['group.member_removed', 'user.deleted']);
    expect(evs[0].data).toMatchObject({ group: { id: g.body.id, displayName: 'Readers' }, user: { id, userName: 'ada@example.com' } });
    expect(evs[1].data).toMatchObject({ id, state: 'deleted' });
    const again = await scim.post('/Users', { schemas: [USER], userName: 'ada@example.com', externalId: 'ada-1' });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(id);
    expect(types(await newEvents())).toEqual(['user.restored']);
  });

  it('purge → user.purged', async () => {
    const u = await scim.post('/Users', { schemas: [USER], userName: 'gone@example.com' });
    await scim.delete(`/Users/${u.body.id}`);
    await newEvents();
    const report = await t.rc.purge(new Date('2026-04-15T00:00:00Z'));
    expect(report.purged).toBe(1);
    const evs = await newEvents();
    expect(types(evs)).toEqual(['user.purged']);
    expect(evs[0].data).toMatchObject({ id: u.body.id, userName: 'gone@example.com' });
  });
});

describe('group events', () => {
  it('create with members, rename, remove a member, delete', async () => {
    const a = await scim.post('/Users', { schemas: [USER], userName: 'g-a@example.com' });
    const b = await scim.post('/Users', { schemas: [USER], userName: 'g-b@example.com' });
    await newEvents();
    const g = await scim.post('/Groups', { schemas: [GROUP], displayName: 'Team', members: [{ value: a.body.id }, { value: b.body.id }] });
    let evs = await newEvents();
    expect(types(evs)).toEqual(['group.created', 'group.member_added', 'group.member_added']);
    expect(evs[0].data).toMatchObject({ id: g.body.id, displayName: 'Team' });
    expect(evs.slice(1).map((e) => (e.data.user as { id: string }).id).sort()).toEqual([a.body.id, b.body.id].sort());

    await scim.patch(`/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Team B' },
        { op: 'Remove', path: `members[value eq "${a.body.id}"]` },
      ],
    });
    evs = await newEvents();
    expect(types(evs).sort()).toEqual(['group.member_removed', 'group.updated']);
    const updated = evs.find((e) => e.type === 'group.updated')!;
    expect(updated.data.changes).toEqual([{ path: 'displayName', before: 'Team', after: 'Team B' }]);
    const removed = evs.find((e) => e.type === 'group.member_removed')!;
    expect(removed.data).toMatchObject({ group: { id: g.body.id, displayName: 'Team B' }, user: { id: a.body.id, userName: 'g-a@example.com' } });

    expect((await scim.delete(`/Groups/${g.body.id}`)).status).toBe(204);
    evs = await newEvents();
    expect(types(evs)).toEqual(['group.deleted']);
    expect(evs[0].data).toMatchObject({ id: g.body.id, displayName: 'Team B' });
  });
});

describe('connection and ordering', () => {
  it('token rotation → connection.token_rotated, without the token', async () => {
    const rotated = await t.rc.connections.rotateToken(conn.id, 60);
    const evs = await newEvents();
    expect(types(evs)).toEqual(['connection.token_rotated']);
    expect(JSON.stringify(evs[0])).not.toContain(rotated!.token);
    expect(evs[0].data).toMatchObject({ connection: { id: conn.id }, previousValidUntil: rotated!.previousValidUntil });
    conn = { ...conn, token: rotated!.token };
    scim = scimClient(t.app, conn);
  });

  it('concurrent writes in one batch: events of the failed ones are dropped, sequences increase per organisation', async () => {
    const other = await t.connection('Other org');
    const otherScim = scimClient(t.app, other);
    await newEvents();
    const replies = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => scim.post('/Users', { schemas: [USER], userName: `batch-${i % 20}@example.com` })),
      ...Array.from({ length: 10 }, (_, i) => otherScim.post('/Users', { schemas: [USER], userName: `other-${i}@example.com` })),
    ]);
    expect(replies.filter((r) => r.status === 201)).toHaveLength(30);
    expect(replies.filter((r) => r.status === 409)).toHaveLength(10);
    const evs = await newEvents();
    expect(evs).toHaveLength(30);
    expect(new Set(evs.map((e) => e.id)).size).toBe(30);
    const created = new Set(replies.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(new Set(evs.map((e) => e.data.id))).toEqual(created);
    for (const org of [conn.organizationId, other.organizationId]) {
      const seqs = evs.filter((e) => e.organizationId === org).map((e) => e.sequence);
      expect(seqs.length).toBeGreaterThan(0);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
    }
  });
});
