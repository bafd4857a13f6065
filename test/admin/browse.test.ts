/**
 * Browsing a connection through the admin API: users and groups in newest-first
 * keyset pages with search and state; one user in any state with its groups; a
 * user's history, each entry linked to the logged SCIM request. Both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp, type TestConnection, type ScimClient } from '../support/app.js';

let now = new Date('2026-05-04T09:00:00.000Z');
let t: TestApp;
let key = '';
let conn: TestConnection;
let scim: ScimClient;
const ids: Record<string, string> = {};

async function api(url: string) {
  const res = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
  return { status: res.statusCode, body: JSON.parse(res.body) as any, text: res.body };
}

const tick = () => {
  now = new Date(now.getTime() + 1000);
};

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  t.rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
  key = (await t.rc.admin.ensure()).token!;
  conn = await t.connection('Browse');
  scim = scimClient(t.app, conn, { 'user-agent': 'Okta SCIM Client 1.0.0' });
  const people = [
    ['ada', 'Ada Lovelace'],
    ['alan', 'Alan Turing'],
    ['grace', 'Grace Hopper'],
    ['edsger', 'Edsger Dijkstra'],
    ['barbara', 'Barbara Liskov'],
  ];
  for (const [name, display] of people) {
    tick();
    const r = await scim.post('/Users', { userName: `${name}@example.com`, displayName: display, externalId: `ext_${name}`, emails: [{ value: `${name}@example.com`, primary: true }] });
    expect(r.status).toBe(201);
    ids[name] = r.body.id;
  }
});
afterAll(async () => {
  await t?.close();
});

describe('users of a connection', () => {
  it('pages newest first with a cursor that stays valid', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api(`/api/v1/connections/${conn.id}/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.users.map((u: any) => u.userName));
      cursor = r.body.next;
    } while (cursor);
    expect(seen).toEqual(['barbara@example.com', 'edsger@example.com', 'grace@example.com', 'alan@example.com', 'ada@example.com']);
    const first = (await api(`/api/v1/connections/${conn.id}/users?limit=1`)).body.users[0];
    expect(first).toMatchObject({ id: ids.barbara, connectionId: conn.id, state: 'active', email: 'barbara@example.com', displayName: 'Barbara Liskov', groups: [] });
  });

  it('searches userName, displayName and externalId, case-insensitively and literally', async () => {
    const names = async (q: string) => (await api(`/api/v1/connections/${conn.id}/users?search=${encodeURIComponent(q)}`)).body.users.map((u: any) => u.userName);
    expect(await names('HOPPER')).toEqual(['grace@example.com']);
    expect(await names('al')).toEqual(['alan@example.com']);
    expect(await names('EXT_ED')).toEqual(['edsger@example.com']);
    expect(await names('%')).toEqual([]);
    expect(await names('_')).toEqual(['barbara@example.com', 'edsger@example.com', 'grace@example.com', 'alan@example.com', 'ada@example.com']);
  });

  it('filters by state: active, deactivated, deleted (still restorable)', async () => {
    tick();
    expect((await scim.patch(`/Users/${ids.alan}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200);
    tick();
    expect((await scim.delete(`/Users/${ids.edsger}`)).status).toBe(204);
    const by = async (state: string) => (await api(`/api/v1/connections/${conn.id}/users?state=${state}`)).body.users.map((u: any) => u.userName);
    expect(await by('active')).toEqual(['barbara@example.com', 'grace@example.com', 'ada@example.com']);
    expect(await by('deactivated')).toEqual(['alan@example.com']);
    expect(await by('deleted')).toEqual(['edsger@example.com']);
    const deleted = await api(`/api/v1/users/${ids.edsger}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ state: 'deleted', connectionId: conn.id });
    expect(deleted.body.deletedAt).toBe(now.toISOString());
  });

  it('refuses bad queries and unknown ids', async () => {
    for (const q of ['state=gone', 'limit=0', 'cursor=%21%21', 'colour=red']) {
      const r = await api(`/api/v1/connections/${conn.id}/users?${q}`);
      expect(r.status, q).toBe(400);
    }
    expect((await api(`/api/v1/connections/${conn.id}/users?cursor=bm9wZQ`)).body.error.code).toBe('ROLLCALL_INVALID_CURSOR');
    expect((await api(`/api/v1/connections/nope/users`)).status).toBe(404);
    expect((await api(`/api/v1/users/nope`)).status).toBe(404);
    expect((await api(`/api/v1/users/nope/history`)).status).toBe(404);
  });
});

describe('groups of a connection', () => {
  it('list newest first with member counts and search; a user shows its groups', async () => {
    tick();
    const staff = await scim.post('/Groups', { displayName: 'Staff', members: [{ value: ids.ada }, { value: ids.grace }] });
    expect(staff.status).toBe(201);
    ids.staff = staff.body.id;
    tick();
    expect((await scim.post('/Groups', { displayName: 'Admins' })).status).toBe(201);
    const groups = (await api(`/api/v1/connections/${conn.id}/groups`)).body.groups;
    expect(groups.map((g: any) => [g.displayName, g.memberCount])).toEqual([
      ['Admins', 0],
      ['Staff', 2],
    ]);
    expect((await api(`/api/v1/connections/${conn.id}/groups?search=sta`)).body.groups.map((g: any) => g.displayName)).toEqual(['Staff']);
    const page = await api(`/api/v1/connections/${conn.id}/groups?limit=1`);
    expect(page.body.groups).toHaveLength(1);
    expect((await api(`/api/v1/connections/${conn.id}/groups?limit=1&cursor=${page.body.next}`)).body.groups[0].displayName).toBe('Staff');
    expect((await api(`/api/v1/users/${ids.ada}`)).body.groups).toEqual([{ id: ids.staff, displayName: 'Staff' }]);
  });
});

describe('a user\'s history', () => {
  it('lists what happened, oldest first, each entry linked to its logged request', async () => {
    tick();
    expect((await scim.patch(`/Users/${ids.ada}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Analyst' }] })).status).toBe(200);
    tick();
    expect((await scim.patch(`/Users/${ids.ada}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200);
    tick();
    expect((await scim.patch(`/Users/${ids.ada}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: true }] })).status).toBe(200);
    tick();
    expect((await scim.patch(`/Groups/${ids.staff}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${ids.ada}"]` }] })).status).toBe(204);
    tick();
    expect((await scim.delete(`/Users/${ids.ada}`)).status).toBe(204);

    const r = await api(`/api/v1/users/${ids.ada}/history`);
    expect(r.status).toBe(200);
    const h = r.body.history;
    expect(h.map((e: any) => e.type)).toEqual(['created', 'joined_group', 'updated', 'deactivated', 'reactivated', 'left_group', 'deleted']);
    expect(h[1].group).toEqual({ id: ids.staff, displayName: 'Staff' });
    expect(h[2].changes).toEqual([{ path: 'title', before: null, after: 'Analyst' }]);
    const ats = h.map((e: any) => e.at);
    expect([...ats].sort()).toEqual(ats);
    // Each entry names the SCIM request that caused it; the log has that request.
    const expected: [string, string][] = [
      ['POST', `/scim/v2/${conn.id}/Users`],
      ['POST', `/scim/v2/${conn.id}/Groups`],
      ['PATCH', `/scim/v2/${conn.id}/Users/${ids.ada}`],
      ['PATCH', `/scim/v2/${conn.id}/Users/${ids.ada}`],
      ['PATCH', `/scim/v2/${conn.id}/Users/${ids.ada}`],
      ['PATCH', `/scim/v2/${conn.id}/Groups/${ids.staff}`],
      ['DELETE', `/scim/v2/${conn.id}/Users/${ids.ada}`],
    ];
    for (const [i, entry] of h.entries()) {
      expect(entry.requestId, entry.type).toMatch(/^[0-9a-f-]{36}$/);
      const logged = await api(`/api/v1/connections/${conn.id}/requests/${entry.requestId}`);
      expect(logged.status, entry.type).toBe(200);
      expect([logged.body.method, logged.body.path]).toEqual(expected[i]);
    }
  });

  it('keeps the purge, and outlives the purged user while its events are kept', async () => {
    const report = await t.rc.purge(new Date(now.getTime() + 31 * 86_400_000));
    expect(report.purged).toBeGreaterThanOrEqual(1);
    expect((await api(`/api/v1/users/${ids.ada}`)).status).toBe(404);
    const h = (await api(`/api/v1/users/${ids.ada}/history`)).body.history;
    expect(h[h.length - 1].type).toBe('purged');
    expect(h[h.length - 1].requestId).toBeUndefined();
  });
});
