/**
 * Policy 7 — groups. No nested groups: a member that is a group is 400
 * invalidValue. With `exclusiveGroups`, adding a user who already belongs to
 * another group is 409 uniqueness naming that group, whatever the form:
 * POST /Groups, PUT, PATCH add (Entra and Okta shapes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { CORE_GROUP, connect, createGroup, createUser, expectPatched, expectRefusedUnchanged, getGroup, getUser, groupByName, patch, type Setup } from './helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('policy 7: no nested groups', () => {
  let s: Setup;
  let u1: string;
  let parent: any;
  let child: any;
  beforeAll(async () => {
    s = await connect(t, {}, 'Nested');
    u1 = (await createUser(s.c, { userName: 'n1@acme.com' })).id;
    parent = await createGroup(s.c, 'Parent', [u1]);
    child = await createGroup(s.c, 'Child');
  });

  it('POST /Groups with a group as member is 400 invalidValue; the group is not created', async () => {
    await expectRefusedUnchanged(
      s.c,
      () => s.c.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Nest', members: [{ value: u1 }, { value: child.id }] }),
      400,
      'invalidValue',
      /nested|group/i,
    );
    expect(await groupByName(s.c, 'Nest')).toBeUndefined();
  });

  it('a member declared with type "Group" is refused even before the id is looked up', async () => {
    await expectRefusedUnchanged(
      s.c,
      () => s.c.post('/Groups', { displayName: 'Nest2', members: [{ value: child.id, type: 'Group' }] }),
      400,
      'invalidValue',
    );
  });

  it('PATCH add (Entra "Add", Okta add, no-path add) of a group is 400 invalidValue; members unchanged', async () => {
    for (const body of [
      patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: child.id }] }),
      patch({ op: 'add', path: 'members', value: [{ value: child.id, display: 'Child' }] }),
      patch({ op: 'add', value: { members: [{ value: child.id }] } }),
      patch({ op: 'replace', path: 'members', value: [{ value: u1 }, { value: child.id }] }),
      patch({ op: 'add', path: 'members', value: [{ value: parent.id }] }),
    ]) {
      await expectRefusedUnchanged(s.c, () => s.c.patch(`/Groups/${parent.id}`, body), 400, 'invalidValue');
    }
    expect((await getGroup(s.c, parent.id)).memberIds).toEqual([u1]);
  });

  it('PUT with a group member is 400 invalidValue; name and members unchanged', async () => {
    await expectRefusedUnchanged(
      s.c,
      () => s.c.put(`/Groups/${parent.id}`, { displayName: 'Parent renamed', members: [{ value: child.id }] }),
      400,
      'invalidValue',
    );
    const g = await getGroup(s.c, parent.id);
    expect(g.displayName).toBe('Parent');
    expect(g.memberIds).toEqual([u1]);
  });
});

describe('policy 7: exclusive groups', () => {
  let s: Setup;
  let u1: string;
  let u2: string;
  let u3: string;
  let alpha: any;
  let beta: any;
  beforeAll(async () => {
    s = await connect(t, { exclusiveGroups: true }, 'Exclusive');
    u1 = (await createUser(s.c, { userName: 'x1@acme.com' })).id;
    u2 = (await createUser(s.c, { userName: 'x2@acme.com' })).id;
    u3 = (await createUser(s.c, { userName: 'x3@acme.com' })).id;
    alpha = await createGroup(s.c, 'Alpha Team', [u1]);
    beta = await createGroup(s.c, 'Beta', [u2]);
  });

  it('POST /Groups with a member of another group is 409 uniqueness naming that group; nothing created', async () => {
    await expectRefusedUnchanged(
      s.c,
      () => s.c.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Gamma', members: [{ value: u3 }, { value: u1 }] }),
      409,
      'uniqueness',
      'Alpha Team',
    );
    expect(await groupByName(s.c, 'Gamma')).toBeUndefined();
  });

  it.each([
    ['Entra Add with path', () => patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: 'U1' }] })],
    ['Okta add with display', () => patch({ op: 'add', path: 'members', value: [{ value: 'U1', display: 'x1' }] })],
    ['add without path', () => patch({ op: 'add', value: { members: [{ value: 'U1' }] } })],
    ['Okta replace of the whole member list', () => patch({ op: 'replace', path: 'members', value: [{ value: 'U2' }, { value: 'U1' }] })],
    ['Okta rename + remove + add', () =>
      patch(
        { op: 'replace', value: { id: 'BETA', displayName: 'Beta renamed' } },
        { op: 'remove', path: 'members[value eq "U2"]' },
        { op: 'add', path: 'members', value: [{ value: 'U1' }] },
      )],
    ['bare id string (Microsoft reference collection)', () => patch({ op: 'add', path: 'members', value: 'U1' })],
  ])('PATCH %s is 409 uniqueness naming the group; Beta unchanged', async (_n, make) => {
    const body = JSON.parse(JSON.stringify(make()).replaceAll('U1', u1).replaceAll('U2', u2).replaceAll('BETA', beta.id));
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Groups/${beta.id}`, body), 409, 'uniqueness', 'Alpha Team');
    const g = await getGroup(s.c, beta.id);
    expect(g.displayName).toBe('Beta');
    expect(g.memberIds).toEqual([u2]);
  });

  it('PUT /Groups (Okta wizard apps) with a member of another group is 409 naming it; Beta unchanged', async () => {
    await expectRefusedUnchanged(
      s.c,
      () => s.c.put(`/Groups/${beta.id}`, { schemas: [CORE_GROUP], displayName: 'Beta', members: [{ value: u2 }, { value: u1 }] }),
      409,
      'uniqueness',
      'Alpha Team',
    );
    expect((await getGroup(s.c, beta.id)).memberIds).toEqual([u2]);
  });

  it('re-adding a member to its own group and PUT of its own group are fine', async () => {
    expectPatched(await s.c.patch(`/Groups/${alpha.id}`, patch({ op: 'Add', path: 'members', value: [{ value: u1 }] })));
    const put = await s.c.put(`/Groups/${alpha.id}`, { displayName: 'Alpha Team', members: [{ value: u1 }, { value: u3 }] });
    expect(put.status, put.text).toBe(200);
    expect((await getGroup(s.c, alpha.id)).memberIds).toEqual([u1, u3].sort());
    expectPatched(await s.c.patch(`/Groups/${alpha.id}`, patch({ op: 'remove', path: `members[value eq "${u3}"]` })));
  });

  it('a user can move after leaving its group (remove, then add)', async () => {
    expectPatched(await s.c.patch(`/Groups/${alpha.id}`, patch({ op: 'Remove', path: 'members', value: [{ value: u1 }] })));
    expectPatched(await s.c.patch(`/Groups/${beta.id}`, patch({ op: 'Add', path: 'members', value: [{ value: u1 }] })));
    expect((await getGroup(s.c, beta.id)).memberIds).toEqual([u1, u2].sort());
    const groups = (await getUser(s.c, u1)).groups.map((g: any) => g.display);
    expect(groups).toEqual(['Beta']);
  });

  it('the user’s groups attribute never lists two groups', async () => {
    for (const id of [u1, u2, u3]) expect(((await getUser(s.c, id)).groups ?? []).length).toBeLessThanOrEqual(1);
  });

  it('concurrent adds of one user to two groups: exactly one succeeds', async () => {
    const free = (await createUser(s.c, { userName: 'race@acme.com' })).id;
    const g1 = await createGroup(s.c, 'Race 1');
    const g2 = await createGroup(s.c, 'Race 2');
    const results = await Promise.all([
      s.c.patch(`/Groups/${g1.id}`, patch({ op: 'Add', path: 'members', value: [{ value: free }] })),
      s.c.patch(`/Groups/${g2.id}`, patch({ op: 'Add', path: 'members', value: [{ value: free }] })),
      s.c.put(`/Groups/${g1.id}`, { displayName: 'Race 1', members: [{ value: free }] }),
      s.c.put(`/Groups/${g2.id}`, { displayName: 'Race 2', members: [{ value: free }] }),
    ]);
    expect(results.every((r) => [200, 204, 409].includes(r.status)), results.map((r) => r.text).join('\n')).toBe(true);
    expect((await getUser(s.c, free)).groups).toHaveLength(1);
  });

  it('without exclusiveGroups (default) a user may be in several groups', async () => {
    const x = await connect(t, {}, 'Not exclusive');
    const u = (await createUser(x.c, { userName: 'many@acme.com' })).id;
    const a = await createGroup(x.c, 'A', [u]);
    await createGroup(x.c, 'B', [u]);
    const c = await createGroup(x.c, 'C');
    expectPatched(await x.c.patch(`/Groups/${c.id}`, patch({ op: 'Add', path: 'members', value: [{ value: u }] })));
    expect((await getUser(x.c, u)).groups).toHaveLength(3);
    expect((await getGroup(x.c, a.id)).memberIds).toEqual([u]);
  });

  it('settings refuse a non-boolean exclusiveGroups', async () => {
    await expect(t.rc.connections.configure(s.conn.id, { exclusiveGroups: 1 })).rejects.toThrow(/exclusiveGroups/);
    expect((await t.rc.connections.show(s.conn.id))!.settings.exclusiveGroups).toBe(true);
  });
});
