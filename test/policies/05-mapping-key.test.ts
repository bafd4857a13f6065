/**
 * Policy 5 — mapping key. A POST whose key already exists is 409 uniqueness
 * (never a duplicate account). With `lockMappingKey`, a change of the key on an
 * existing user — PATCH with path, without path, Entra's capitalised ops, or
 * PUT — is 400 mutability; re-sending the same value is not a change. The
 * defaults stay plain SCIM: the key is userName (RFC 7643 makes only userName
 * unique) and unlocked. The externalId-keyed tests say mappingKey externalId.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { CORE_USER, ENTERPRISE, connect, createUser, expectPatched, expectRefusedUnchanged, findUsers, getUser, patch, snapshot, type Setup } from './helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('policy 5: duplicates of the mapping key are 409', () => {
  it('externalId as key: a second POST with the same externalId is 409 uniqueness, no second account', async () => {
    const s = await connect(t, { mappingKey: 'externalId' }, 'Dup externalId');
    const u = await createUser(s.c, { externalId: 'emp-1', userName: 'one@acme.com' });
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { externalId: 'emp-1', userName: 'another@acme.com' }), 409, 'uniqueness', 'emp-1');
    expect((await findUsers(s.c, 'externalId eq "emp-1"')).map((x) => x.id)).toEqual([u.id]);
    expect(await findUsers(s.c, 'userName eq "another@acme.com"')).toEqual([]);
  });

  it('externalId: a deactivated user still holds its key (409, not a second account)', async () => {
    const s = await connect(t, { mappingKey: 'externalId' }, 'Dup deactivated');
    const u = await createUser(s.c, { externalId: 'emp-2', userName: 'two@acme.com' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'False' })));
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { externalId: 'emp-2', userName: 'two.new@acme.com' }), 409, 'uniqueness');
  });

  it('externalId: changing a user’s externalId to one another user holds is 409 (PATCH and PUT)', async () => {
    const s = await connect(t, { mappingKey: 'externalId' }, 'Dup by change');
    await createUser(s.c, { externalId: 'held', userName: 'holder@acme.com' });
    const b = await createUser(s.c, { externalId: 'mine', userName: 'b@acme.com' });
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Users/${b.id}`, patch({ op: 'replace', path: 'externalId', value: 'held' })), 409, 'uniqueness');
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${b.id}`, { externalId: 'held', userName: 'b@acme.com' }), 409, 'uniqueness');
    expect((await getUser(s.c, b.id)).externalId).toBe('mine');
  });

  it('externalId: concurrent POSTs with the same externalId create exactly one account', async () => {
    const s = await connect(t, { mappingKey: 'externalId' }, 'Dup concurrent');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => s.c.post('/Users', { externalId: 'race-1', userName: `race${i}@acme.com` })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201), JSON.stringify(statuses)).toHaveLength(1);
    expect(statuses.filter((x) => x === 409)).toHaveLength(11);
    expect(await findUsers(s.c, 'externalId eq "race-1"')).toHaveLength(1);
    expect((await snapshot(s.c)).users.totalResults).toBe(1);
  });

  it('userName as key: a second POST with the same userName (any case, other externalId) is 409', async () => {
    const s = await connect(t, { mappingKey: 'userName' }, 'Dup userName');
    await createUser(s.c, { externalId: 'a-1', userName: 'Same.Person@acme.com' });
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { externalId: 'a-2', userName: 'same.person@ACME.com' }), 409, 'uniqueness');
    expect(await findUsers(s.c, 'externalId eq "a-2"')).toEqual([]);
  });
});

describe('policy 5: lockMappingKey with externalId', () => {
  let s: Setup;
  let id: string;
  beforeAll(async () => {
    s = await connect(t, { mappingKey: 'externalId', lockMappingKey: true }, 'Locked externalId');
    const u = await createUser(s.c, {
      schemas: [CORE_USER, ENTERPRISE],
      externalId: 'k-1',
      userName: 'locked@acme.com',
      displayName: 'Locked',
      [ENTERPRISE]: { employeeNumber: '1001' },
    });
    id = u.id;
  });

  const refusals: [string, () => unknown][] = [
    ['PATCH replace with path', () => patch({ op: 'replace', path: 'externalId', value: 'k-2' })],
    ['PATCH Entra "Replace" with path', () => patch({ op: 'Replace', path: 'externalId', value: 'k-2' })],
    ['PATCH add with path', () => patch({ op: 'add', path: 'externalId', value: 'k-2' })],
    ['PATCH Entra "Add" with path', () => patch({ op: 'Add', path: 'externalId', value: 'k-2' })],
    ['PATCH replace without path', () => patch({ op: 'replace', value: { externalId: 'k-2' } })],
    ['PATCH Entra "Replace" without path with other attributes', () => patch({ op: 'Replace', value: { displayName: 'Changed', externalId: 'k-2' } })],
    ['PATCH add without path', () => patch({ op: 'add', value: { externalId: 'k-2' } })],
    ['PATCH without path, key spelt "ExternalId"', () => patch({ op: 'Replace', value: { ExternalId: 'k-2' } })],
    ['PATCH with path spelt "EXTERNALID"', () => patch({ op: 'Replace', path: 'EXTERNALID', value: 'k-2' })],
    ['PATCH remove of the key', () => patch({ op: 'remove', path: 'externalId' })],
    ['PATCH with a valid change first, then the key', () => patch({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'externalId', value: 'k-2' })],
    ['PATCH with only a case change (externalId is caseExact)', () => patch({ op: 'replace', path: 'externalId', value: 'K-1' })],
  ];

  it.each(refusals)('%s is 400 mutability and changes nothing', async (_name, body) => {
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Users/${id}`, body()), 400, 'mutability', /externalId/);
    const u = await getUser(s.c, id);
    expect(u.externalId).toBe('k-1');
    expect(u.displayName).toBe('Locked');
  });

  it('PUT with another externalId is 400 mutability and changes nothing', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${id}`, { externalId: 'k-2', userName: 'locked@acme.com', displayName: 'Changed' }), 400, 'mutability', /externalId/);
    expect((await getUser(s.c, id)).externalId).toBe('k-1');
  });

  it('PUT without externalId (removing the key) is 400 mutability and changes nothing', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${id}`, { userName: 'locked@acme.com', displayName: 'Changed' }), 400, 'mutability');
    expect((await getUser(s.c, id)).externalId).toBe('k-1');
  });

  it('re-sending the same value (Entra re-sends every mapped attribute) is accepted with the other changes', async () => {
    let res = await s.c.patch(
      `/Users/${id}`,
      patch(
        { op: 'Replace', path: 'externalId', value: 'k-1' },
        { op: 'Replace', path: 'displayName', value: 'Locked Again' },
        { op: 'Replace', path: `${ENTERPRISE}:employeeNumber`, value: '1002' },
      ),
    );
    expectPatched(res);
    let u = await getUser(s.c, id);
    expect(u.displayName).toBe('Locked Again');
    expect(u[ENTERPRISE].employeeNumber).toBe('1002');
    res = await s.c.patch(`/Users/${id}`, patch({ op: 'replace', value: { externalId: 'k-1', displayName: 'Locked 3' } }));
    expectPatched(res);
    res = await s.c.put(`/Users/${id}`, { externalId: 'k-1', userName: 'locked@acme.com', displayName: 'Locked 4' });
    expect(res.status, res.text).toBe(200);
    u = await getUser(s.c, id);
    expect(u.externalId).toBe('k-1');
    expect(u.displayName).toBe('Locked 4');
  });

  it('the userName is not locked when the key is externalId', async () => {
    const res = await s.c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'userName', value: 'renamed@acme.com' }));
    expectPatched(res);
    expect((await getUser(s.c, id)).userName).toBe('renamed@acme.com');
  });

  it('a user created without externalId may receive one (the key is not set yet), then it is locked', async () => {
    const u = await createUser(s.c, { userName: 'late.key@acme.com' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'add', path: 'externalId', value: 'late-1' })));
    expect((await getUser(s.c, u.id)).externalId).toBe('late-1');
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', path: 'externalId', value: 'late-2' })), 400, 'mutability');
  });
});

describe('policy 5: lockMappingKey with userName as the key', () => {
  let s: Setup;
  let id: string;
  beforeAll(async () => {
    s = await connect(t, { mappingKey: 'userName', lockMappingKey: true }, 'Locked userName');
    id = (await createUser(s.c, { externalId: 'x-1', userName: 'key.user@acme.com', displayName: 'Key' })).id;
  });

  it.each([
    ['PATCH replace with path', () => patch({ op: 'replace', path: 'userName', value: 'other@acme.com' })],
    ['PATCH Entra "Replace" with path', () => patch({ op: 'Replace', path: 'userName', value: 'other@acme.com' })],
    ['PATCH without path', () => patch({ op: 'replace', value: { userName: 'other@acme.com', displayName: 'Changed' } })],
    ['PATCH Entra "Add" without path', () => patch({ op: 'Add', value: { userName: 'other@acme.com' } })],
  ])('%s is 400 mutability and changes nothing', async (_n, body) => {
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Users/${id}`, body()), 400, 'mutability', /userName/);
    expect((await getUser(s.c, id)).userName).toBe('key.user@acme.com');
  });

  it('PUT with another userName is 400 mutability', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${id}`, { externalId: 'x-1', userName: 'other@acme.com' }), 400, 'mutability', /userName/);
  });

  it('the same userName re-sent is accepted; externalId is not locked when the key is userName', async () => {
    expectPatched(await s.c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'userName', value: 'key.user@acme.com' }, { op: 'Replace', path: 'displayName', value: 'Key 2' })));
    expectPatched(await s.c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'externalId', value: 'x-2' })));
    const u = await getUser(s.c, id);
    expect(u.displayName).toBe('Key 2');
    expect(u.externalId).toBe('x-2');
    const put = await s.c.put(`/Users/${id}`, { externalId: 'x-2', userName: 'key.user@acme.com', displayName: 'Key 3' });
    expect(put.status, put.text).toBe(200);
  });
});

describe('policy 5: defaults stay plain SCIM', () => {
  it('userName is the mapping key by default: a second user with the same userName is 409 uniqueness, two users may share an externalId', async () => {
    const s = await connect(t, {}, 'Default key');
    expect((await t.rc.connections.show(s.conn.id))!.settings).toMatchObject({ mappingKey: 'userName', lockMappingKey: false });
    const u = await createUser(s.c, { externalId: 'shared', userName: 'first@acme.com' });
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { externalId: 'other', userName: 'FIRST@acme.com' }), 409, 'uniqueness');
    expect(await findUsers(s.c, 'externalId eq "other"')).toEqual([]);
    const v = await createUser(s.c, { externalId: 'shared', userName: 'second@acme.com' });
    expect((await findUsers(s.c, 'externalId eq "shared"')).map((x) => x.id).sort()).toEqual([u.id, v.id].sort());
  });

  it('lockMappingKey defaults to false: the default key userName can change by PATCH (all forms) and PUT', async () => {
    const s = await connect(t, {}, 'Unlocked userName');
    const u = await createUser(s.c, { externalId: 'n-1', userName: 'name.1@acme.com' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', path: 'userName', value: 'name.2@acme.com' })));
    expect((await getUser(s.c, u.id)).userName).toBe('name.2@acme.com');
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', value: { userName: 'name.3@acme.com' } })));
    expect((await getUser(s.c, u.id)).userName).toBe('name.3@acme.com');
    const put = await s.c.put(`/Users/${u.id}`, { externalId: 'n-1', userName: 'name.4@acme.com' });
    expect(put.status, put.text).toBe(200);
    expect((await getUser(s.c, u.id)).userName).toBe('name.4@acme.com');
    expect((await snapshot(s.c)).users.totalResults).toBe(1);
  });

  it('with mappingKey externalId, lockMappingKey still defaults to false and externalId can change by PATCH (all forms) and PUT', async () => {
    const s = await connect(t, { mappingKey: 'externalId' }, 'Unlocked');
    expect((await t.rc.connections.show(s.conn.id))!.settings).toMatchObject({ mappingKey: 'externalId', lockMappingKey: false });
    const u = await createUser(s.c, { externalId: 'u-1', userName: 'free@acme.com' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', path: 'externalId', value: 'u-2' })));
    expect((await getUser(s.c, u.id)).externalId).toBe('u-2');
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', value: { externalId: 'u-3' } })));
    expect((await getUser(s.c, u.id)).externalId).toBe('u-3');
    const put = await s.c.put(`/Users/${u.id}`, { externalId: 'u-4', userName: 'free@acme.com' });
    expect(put.status, put.text).toBe(200);
    expect((await getUser(s.c, u.id)).externalId).toBe('u-4');
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'remove', path: 'externalId' })));
    expect((await getUser(s.c, u.id)).externalId).toBeUndefined();
    const snap = await snapshot(s.c);
    expect(snap.users.totalResults).toBe(1);
  });

  it('settings refuse an unknown mappingKey with a clear message', async () => {
    const s = await connect(t, {}, 'Bad key');
    await expect(t.rc.connections.configure(s.conn.id, { mappingKey: 'email' })).rejects.toThrow(/mappingKey/);
    await expect(t.rc.connections.configure(s.conn.id, { lockMappingKey: 'true' })).rejects.toThrow(/lockMappingKey/);
    expect((await t.rc.connections.show(s.conn.id))!.settings).toMatchObject({ mappingKey: 'userName', lockMappingKey: false });
  });
});
