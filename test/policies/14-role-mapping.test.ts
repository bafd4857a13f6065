/**
 * Roles from IdP groups (setting `roleMapping`): ordered rules naming a group by
 * displayName or externalId, the first rule whose group the user is in wins, else
 * defaultRole. The role follows joins, leaves, group renames and deletions and a
 * new mapping; each change is one `user.role_changed` event and a history entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RollcallEvent } from '../../src/events/types.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { CORE_GROUP, connect, createUser, hostRecord, patch, type Setup } from './helpers.js';

let t: TestApp;
let s: Setup;
let cursor: string | undefined;

const RULES = [
  { group: 'Rollcall Admins', role: 'admin' },
  { group: 'ext-editors-7', role: 'editor' },
];

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, { defaultRole: 'learner', roleMapping: RULES }, 'Roles');
});
afterAll(async () => {
  await t?.close();
});

async function newEvents(): Promise<RollcallEvent[]> {
  const out: RollcallEvent[] = [];
  for (;;) {
    const page = await t.rc.events.feed({ after: cursor, limit: 1000 });
    out.push(...page.events);
    cursor = page.next;
    if (page.events.length < 1000) return out;
  }
}
const roleChanges = async () =>
  (await newEvents()).filter((e) => e.type === 'user.role_changed').map((e) => ({ id: (e.data as any).id, role: (e.data as any).role, previousRole: (e.data as any).previousRole }));

let n = 0;
async function user(setup = s) {
  return createUser(setup.c, { userName: `role${++n}@acme.com` });
}
async function group(displayName: string, extra: Record<string, unknown> = {}, setup = s) {
  const res = await setup.c.post('/Groups', { schemas: [CORE_GROUP], displayName, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body;
}
const role = async (id: string, setup = s) => (await hostRecord(setup, id)).app.role;
const join = (groupId: string, userId: string, setup = s) => setup.c.patch(`/Groups/${groupId}`, patch({ op: 'add', path: 'members', value: [{ value: userId }] }));
const leave = (groupId: string, userId: string, setup = s) => setup.c.patch(`/Groups/${groupId}`, patch({ op: 'remove', path: `members[value eq "${userId}"]` }));

describe('roleMapping', () => {
  beforeAll(async () => {
    await newEvents();
  });

  it('a new user without a matching group gets defaultRole', async () => {
    const u = await user();
    expect(await role(u.id)).toBe('learner');
    expect(await roleChanges()).toEqual([]);
  });

  it('a rule by displayName (any case): joining gives the role, leaving takes it back', async () => {
    const u = await user();
    const g = await group('ROLLCALL admins');
    await newEvents();
    expect([200, 204]).toContain((await join(g.id, u.id)).status);
    expect(await role(u.id)).toBe('admin');
    expect(await roleChanges()).toEqual([{ id: u.id, role: 'admin', previousRole: 'learner' }]);
    expect([200, 204]).toContain((await leave(g.id, u.id)).status);
    expect(await role(u.id)).toBe('learner');
    expect(await roleChanges()).toEqual([{ id: u.id, role: 'learner', previousRole: 'admin' }]);
    // The user view the console shows, with the change in its history.
    const key = (await t.rc.admin.ensure()).token;
    expect(key).toBeTruthy();
    const headers = { authorization: `Bearer ${key}` };
    {
      const view = await t.app.inject({ method: 'GET', url: `/api/v1/users/${u.id}`, headers });
      expect(view.json().role).toBe('learner');
      const history = (await t.app.inject({ method: 'GET', url: `/api/v1/users/${u.id}/history`, headers })).json().history;
      expect(history.filter((h: any) => h.type === 'role_changed').map((h: any) => h.changes[0])).toEqual([
        { path: 'role', before: 'learner', after: 'admin' },
        { path: 'role', before: 'admin', after: 'learner' },
      ]);
    }
  });

  it('a rule by externalId; a group pushed with its members (POST) sets their roles at once', async () => {
    const a = await user();
    const b = await user();
    await newEvents();
    await group('Editors of the year', { externalId: 'ext-editors-7', members: [{ value: a.id }, { value: b.id }] });
    expect([await role(a.id), await role(b.id)]).toEqual(['editor', 'editor']);
    expect((await roleChanges()).map((c) => c.role)).toEqual(['editor', 'editor']);
  });

  it('the first matching rule wins, in the order of the rules', async () => {
    const u = await user();
    // Its externalId is not the rule's (a near miss does not match).
    const editors = await group('Editors B', { externalId: 'ext-editors-7x' });
    const admins = (await s.c.get(`/Groups?filter=${encodeURIComponent('displayName eq "ROLLCALL admins"')}`)).body.Resources[0];
    const editorGroup = (await s.c.get(`/Groups?filter=${encodeURIComponent('displayName eq "Editors of the year"')}`)).body.Resources[0];
    await join(editorGroup.id, u.id);
    expect(await role(u.id)).toBe('editor');
    await join(admins.id, u.id);
    expect(await role(u.id)).toBe('admin');
    await leave(admins.id, u.id);
    expect(await role(u.id)).toBe('editor');
    await join(editors.id, u.id);
    expect(await role(u.id)).toBe('editor');
    await leave(editorGroup.id, u.id);
    expect(await role(u.id)).toBe('learner');
  });

  it('renaming a group into or out of a rule, or deleting it, moves the role', async () => {
    const v = await user();
    const named = await group('Soon admins', { members: [{ value: v.id }] });
    expect(await role(v.id)).toBe('learner');
    // Free the name the rule uses (an earlier test's group holds it; it has no members now).
    const admins = (await s.c.get(`/Groups?filter=${encodeURIComponent('displayName eq "ROLLCALL admins"')}`)).body.Resources[0];
    expect((await s.c.delete(`/Groups/${admins.id}`)).status).toBe(204);
    expect((await s.c.patch(`/Groups/${named.id}`, patch({ op: 'replace', path: 'displayName', value: 'Rollcall Admins' }))).status).toBeLessThan(300);
    expect(await role(v.id)).toBe('admin');
    expect((await s.c.patch(`/Groups/${named.id}`, patch({ op: 'replace', path: 'displayName', value: 'Former admins' }))).status).toBeLessThan(300);
    expect(await role(v.id)).toBe('learner');
    expect((await s.c.put(`/Groups/${named.id}`, { schemas: [CORE_GROUP], displayName: 'Rollcall Admins', members: [{ value: v.id }] })).status).toBe(200);
    expect(await role(v.id)).toBe('admin');
    await newEvents();
    expect((await s.c.delete(`/Groups/${named.id}`)).status).toBe(204);
    expect(await role(v.id)).toBe('learner');
    expect(await roleChanges()).toEqual([{ id: v.id, role: 'learner', previousRole: 'admin' }]);
  });
});

describe('roleMapping set or changed later', () => {
  it('applies to the users already there', async () => {
    const later = await connect(t, { defaultRole: 'member' }, 'Roles later');
    const a = await user(later);
    const b = await user(later);
    const g = await group('Managers', { members: [{ value: a.id }] }, later);
    // Without rules, membership does not move roles.
    expect([await role(a.id, later), await role(b.id, later)]).toEqual(['member', 'member']);
    await newEvents();
    await t.rc.connections.configure(later.conn.id, { roleMapping: [{ group: 'managers', role: 'manager' }] });
    expect([await role(a.id, later), await role(b.id, later)]).toEqual(['manager', 'member']);
    expect(await roleChanges()).toEqual([{ id: a.id, role: 'manager', previousRole: 'member' }]);
    // The connection's next requests see the new rules.
    expect((await later.c.patch(`/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: b.id }] }))).status).toBeLessThan(300);
    expect(await role(b.id, later)).toBe('manager');
  });

  it('cleared rules give everyone defaultRole again', async () => {
    const c = await connect(t, { defaultRole: 'member', roleMapping: [{ group: 'Leads', role: 'lead' }] }, 'Roles cleared');
    const a = await user(c);
    await group('Leads', { members: [{ value: a.id }] }, c);
    expect(await role(a.id, c)).toBe('lead');
    await t.rc.connections.configure(c.conn.id, { roleMapping: [] });
    expect(await role(a.id, c)).toBe('member');
  });

  it("a user write puts back a role a concurrent write copied from before a recomputation", async () => {
    const c = await connect(t, { defaultRole: 'member', roleMapping: [{ group: 'Leads', role: 'lead' }] }, 'Roles lost update');
    const a = await user(c);
    await group('Leads', { members: [{ value: a.id }] }, c);
    // What a PATCH that read the row before the recomputation would have written.
    const row = await t.rc.database.db.selectFrom('users').select('app').where('id', '=', a.id).executeTakeFirstOrThrow();
    await t.rc.database.db.updateTable('users').set({ app: JSON.stringify({ ...JSON.parse(row.app), role: 'member' }) }).where('id', '=', a.id).execute();
    expect((await c.c.patch(`/Users/${a.id}`, patch({ op: 'replace', path: 'title', value: 'Lead engineer' }))).status).toBeLessThan(300);
    expect(await role(a.id, c)).toBe('lead');
  });

  it('refuses rules without a group or role, naming the problem', async () => {
    await expect(t.rc.connections.configure(s.conn.id, { roleMapping: [{ group: '', role: 'x' }] })).rejects.toThrow(/roleMapping\[0\]\.group/);
    await expect(t.rc.connections.configure(s.conn.id, { roleMapping: [{ group: 'x' }] })).rejects.toThrow(/roleMapping\[0\]\.role/);
    await expect(t.rc.connections.configure(s.conn.id, { roleMapping: [{ group: 'x', role: 'y', extra: 1 }] })).rejects.toThrow(/unknown key/);
  });
});
