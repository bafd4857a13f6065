/** Group rules through HTTP: uniqueness, membership validation, atomicity of PUT and PATCH. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

let t: TestApp;
let c: ScimClient;
const users: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('Groups'));
  for (let i = 0; i < 6; i++) {
    const res = await c.post('/Users', { userName: `gm${i}@x.test`, displayName: `GM ${i}` });
    expect(res.status).toBe(201);
    users.push(res.body.id);
  }
});
afterAll(async () => {
  await t?.close();
});

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

async function group(id: string) {
  const res = await c.get(`/Groups/${id}`);
  expect(res.status, res.text).toBe(200);
  return { ...res.body, memberIds: ((res.body.members ?? []) as any[]).map((m) => m.value).sort() } as any;
}

describe('groups', () => {
  it('displayName is unique case-insensitively on POST, PUT and PATCH', async () => {
    const a = await c.post('/Groups', { displayName: 'Unique Name' });
    expect(a.status).toBe(201);
    expect((await c.post('/Groups', { displayName: 'UNIQUE name' })).status).toBe(409);
    const b = await c.post('/Groups', { displayName: 'Other Name' });
    const put = await c.put(`/Groups/${b.body.id}`, { displayName: 'unique NAME' });
    expect(put.status, put.text).toBe(409);
    expect(put.body.scimType).toBe('uniqueness');
    const p = await c.patch(`/Groups/${b.body.id}`, patch({ op: 'replace', path: 'displayName', value: 'Unique Name' }));
    expect(p.status, p.text).toBe(409);
    expect(p.body.scimType).toBe('uniqueness');
    expect((await group(b.body.id)).displayName).toBe('Other Name');
  });

  it('duplicate member ids in one request are stored once', async () => {
    const g = await c.post('/Groups', { displayName: 'Dups', members: [{ value: users[0] }, { value: users[0] }, { value: users[1] }] });
    expect(g.status, g.text).toBe(201);
    expect((await group(g.body.id)).memberIds).toEqual([users[0], users[1]].sort());
    const p = await c.patch(`/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: users[2] }, { value: users[2] }] }));
    expect(p.status, p.text).toBe(204);
    expect((await group(g.body.id)).memberIds).toEqual([users[0], users[1], users[2]].sort());
    const put = await c.put(`/Groups/${g.body.id}`, { displayName: 'Dups', members: [{ value: users[3] }, { value: users[3] }] });
    expect(put.status, put.text).toBe(200);
    expect((await group(g.body.id)).memberIds).toEqual([users[3]]);
  });

  it('a PATCH whose member op fails changes nothing (rename included)', async () => {
    const g = (await c.post('/Groups', { displayName: 'Atomic Patch', members: [{ value: users[0] }] })).body;
    const res = await c.patch(
      `/Groups/${g.id}`,
      patch(
        { op: 'replace', path: 'displayName', value: 'Atomic Patch Renamed' },
        { op: 'remove', path: `members[value eq "${users[0]}"]` },
        { op: 'add', path: 'members', value: [{ value: users[1] }, { value: 'not-a-user' }] },
      ),
    );
    expect(res.status, res.text).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const after = await group(g.id);
    expect(after.displayName).toBe('Atomic Patch');
    expect(after.memberIds).toEqual([users[0]]);
    expect(after.meta.version).toBe(g.meta.version);
  });

  it('a PUT with an invalid member changes nothing', async () => {
    const g = (await c.post('/Groups', { displayName: 'Atomic Put', members: [{ value: users[0] }] })).body;
    const res = await c.put(`/Groups/${g.id}`, { displayName: 'Atomic Put Renamed', members: [{ value: users[1] }, { value: 'not-a-user' }] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const after = await group(g.id);
    expect(after.displayName).toBe('Atomic Put');
    expect(after.memberIds).toEqual([users[0]]);
    expect(after.meta.version).toBe(g.meta.version);
  });

  it('a deleted user cannot be added; members typed Group are refused', async () => {
    const u = (await c.post('/Users', { userName: 'soon.gone@x.test' })).body;
    expect((await c.delete(`/Users/${u.id}`)).status).toBe(204);
    const g = (await c.post('/Groups', { displayName: 'No Ghosts' })).body;
    const res = await c.patch(`/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: u.id }] }));
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const typed = await c.patch(`/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: users[0], type: 'Group' }] }));
    expect(typed.status).toBe(400);
    expect(typed.body.scimType).toBe('invalidValue');
    expect((await group(g.id)).memberIds).toEqual([]);
  });

  it('removing a non-member is a no-op; remove with a value list removes exactly those', async () => {
    const g = (await c.post('/Groups', { displayName: 'Removals', members: users.slice(0, 4).map((value) => ({ value })) })).body;
    const none = await c.patch(`/Groups/${g.id}`, patch({ op: 'remove', path: `members[value eq "${users[5]}"]` }));
    expect(none.status, none.text).toBe(204);
    expect((await group(g.id)).memberIds).toEqual(users.slice(0, 4).sort());
    const two = await c.patch(`/Groups/${g.id}`, patch({ op: 'remove', path: 'members', value: [{ value: users[0] }, { value: users[2] }] }));
    expect(two.status, two.text).toBe(204);
    expect((await group(g.id)).memberIds).toEqual([users[1], users[3]].sort());
    const or = await c.patch(`/Groups/${g.id}`, patch({ op: 'remove', path: `members[value eq "${users[1]}" or value eq "${users[3]}"]` }));
    expect(or.status, or.text).toBe(204);
    expect((await group(g.id)).memberIds).toEqual([]);
  });

  it('deleting a group leaves its users in place', async () => {
    const g = (await c.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Short Lived', members: [{ value: users[4] }] })).body;
    expect((await c.delete(`/Groups/${g.id}`)).status).toBe(204);
    expect((await c.get(`/Groups/${g.id}`)).status).toBe(404);
    const u = await c.get(`/Users/${users[4]}`);
    expect(u.status).toBe(200);
    expect((u.body.groups ?? []).map((x: any) => x.value)).not.toContain(g.id);
    // the name is free again
    expect((await c.post('/Groups', { displayName: 'Short Lived' })).status).toBe(201);
  });

  it('concurrent membership PATCHes on one group all land', async () => {
    const g = (await c.post('/Groups', { displayName: 'Concurrent Members' })).body;
    const results = await Promise.all(users.map((u) => c.patch(`/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: u }] }))));
    for (const r of results) expect(r.status, r.text).toBe(204);
    expect((await group(g.id)).memberIds).toEqual([...users].sort());
  });
});
