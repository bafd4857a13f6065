/**
 * Policy 8 — group rules. After every create or update, a user whose attribute
 * matches a rule is added to the named group (created if missing). Rules only
 * add: a later change of the attribute does not remove the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { ENTERPRISE, connect, createGroup, createUser, expectPatched, expectRefusedUnchanged, getUser, groupByName, patch, snapshot, type Setup } from './helpers.js';

const RULES = [
  { when: { attribute: 'title', in: ['X'] }, addTo: 'Y' },
  { when: { attribute: 'title', in: ['A', 'B'] }, addTo: 'C' },
  { when: { attribute: `${ENTERPRISE}:department`, in: ['Sales'] }, addTo: 'Sales Team' },
];

let t: TestApp;
let s: Setup;

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, { groupRules: RULES, domains: ['acme.com'] }, 'Group rules');
});
afterAll(async () => {
  await t?.close();
});

const groupNames = async (id: string) => ((await getUser(s.c, id)).groups ?? []).map((g: any) => g.display).sort();

describe('policy 8: group rules', () => {
  it('a user matching no rule creates no group', async () => {
    const u = await createUser(s.c, { userName: 'none@acme.com', title: 'Z' });
    expect(await groupNames(u.id)).toEqual([]);
    expect((await snapshot(s.c)).groups.totalResults).toBe(0);
  });

  it('a refused user creates no group either', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName: 'out@other.org', title: 'X' }), 400, 'invalidValue');
    expect(await groupByName(s.c, 'Y')).toBeUndefined();
  });

  it('create: matching user joins the named group, created when missing', async () => {
    const u = await createUser(s.c, { userName: 'x1@acme.com', title: 'X' });
    const y = await groupByName(s.c, 'Y');
    expect(y, 'group Y was not created').toBeDefined();
    expect(y.displayName).toBe('Y');
    expect(y.memberIds).toEqual([u.id]);
    expect(await groupNames(u.id)).toEqual(['Y']);
  });

  it('a rule with several values; the existing group is reused, not duplicated', async () => {
    const a = await createUser(s.c, { userName: 'a1@acme.com', title: 'A' });
    const b = await createUser(s.c, { userName: 'b1@acme.com', title: 'B' });
    const c = await groupByName(s.c, 'C');
    expect(c.memberIds).toEqual([a.id, b.id].sort());
    const list = await s.c.get(`/Groups?filter=${encodeURIComponent('displayName eq "C"')}`);
    expect(list.body.totalResults).toBe(1);
  });

  it('a rule on an extension attribute (enterprise department)', async () => {
    const u = await createUser(s.c, { userName: 'seller@acme.com', [ENTERPRISE]: { department: 'Sales' } });
    expect((await groupByName(s.c, 'Sales Team')).memberIds).toEqual([u.id]);
  });

  it('a group that already exists (created over SCIM, other case) is used by the rule', async () => {
    const x = await connect(t, { groupRules: [{ when: { attribute: 'title', in: ['Dev'] }, addTo: 'Developers' }] }, 'Rules existing group');
    const g = await createGroup(x.c, 'developers');
    const u = await createUser(x.c, { userName: 'dev@acme.com', title: 'Dev' });
    const groups = await x.c.get('/Groups');
    expect(groups.body.totalResults).toBe(1);
    const got = await x.c.get(`/Groups/${g.id}`);
    expect(got.body.members.map((m: any) => m.value)).toEqual([u.id]);
  });

  it('update: a PATCH (Entra Replace) that makes a user match adds it', async () => {
    const u = await createUser(s.c, { userName: 'late@acme.com', title: 'Z' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'title', value: 'X' })));
    expect((await groupByName(s.c, 'Y')).memberIds).toContain(u.id);
    expect(await groupNames(u.id)).toEqual(['Y']);
  });

  it('update: a PUT (Okta) that makes a user match adds it', async () => {
    const u = await createUser(s.c, { userName: 'okta@acme.com' });
    const put = await s.c.put(`/Users/${u.id}`, { userName: 'okta@acme.com', title: 'B' });
    expect(put.status, put.text).toBe(200);
    expect((await groupByName(s.c, 'C')).memberIds).toContain(u.id);
  });

  it('rules only add: changing the attribute later does not remove the user from the group', async () => {
    const u = await createUser(s.c, { userName: 'mover@acme.com', title: 'X' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'title', value: 'A' })));
    expect(await groupNames(u.id)).toEqual(['C', 'Y']);
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Remove', path: 'title' })));
    const put = await s.c.put(`/Users/${u.id}`, { userName: 'mover@acme.com', title: 'Z' });
    expect(put.status, put.text).toBe(200);
    expect(await groupNames(u.id)).toEqual(['C', 'Y']);
    expect((await groupByName(s.c, 'Y')).memberIds).toContain(u.id);
  });

  it('a user removed from the group by the IdP is added again only on its next write that matches', async () => {
    const u = await createUser(s.c, { userName: 'again@acme.com', title: 'X' });
    const y = await groupByName(s.c, 'Y');
    expectPatched(await s.c.patch(`/Groups/${y.id}`, patch({ op: 'remove', path: `members[value eq "${u.id}"]` })));
    expect(await groupNames(u.id)).toEqual([]);
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'displayName', value: 'Again' })));
    expect(await groupNames(u.id)).toEqual(['Y']);
  });

  it('settings refuse a rule on an unusable attribute or with a wrong shape, with a clear message', async () => {
    const before = (await t.rc.connections.show(s.conn.id))!.settings;
    await expect(t.rc.connections.configure(s.conn.id, { groupRules: [{ when: { attribute: 'name', in: ['x'] }, addTo: 'G' }] })).rejects.toThrow(/groupRules\[0\]/);
    await expect(t.rc.connections.configure(s.conn.id, { groupRules: [{ when: { attribute: 'title', in: [] }, addTo: 'G' }] })).rejects.toThrow(/groupRules/);
    await expect(t.rc.connections.configure(s.conn.id, { groupRules: [{ when: { attribute: 'title', in: ['x'] } }] })).rejects.toThrow(/addTo/);
    await expect(t.rc.connections.configure(s.conn.id, { groupRules: [{ when: { attribute: 'title', in: ['x'] }, addTo: 'G', removeFrom: 'H' }] })).rejects.toThrow(/removeFrom/);
    expect((await t.rc.connections.show(s.conn.id))!.settings).toEqual(before);
  });
});
