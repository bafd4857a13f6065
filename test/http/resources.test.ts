/**
 * Resource semantics through HTTP: password write-only, read-only attributes
 * ignored, null as unassigned, booleans as strings, unknown attributes ignored, a
 * user's groups, status codes and bodies of each method.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL, scimClient, startTestApp, type ScimClient, type TestApp, type TestConnection } from '../support/app.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

let t: TestApp;
let conn: TestConnection;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  conn = await t.connection('Resources');
  c = scimClient(t.app, conn);
});
afterAll(async () => {
  await t?.close();
});

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
const enc = encodeURIComponent;

async function get(id: string) {
  const res = await c.get(`/Users/${id}`);
  expect(res.status, res.text).toBe(200);
  return res.body as any;
}

describe('password', () => {
  it('is accepted on POST/PUT/PATCH and never returned by any GET, list, search or write answer', async () => {
    const secret = 'S3cr3t-Passw0rd!';
    const post = await c.post('/Users', { schemas: [CORE_USER], userName: 'pw@x.test', password: secret });
    expect(post.status, post.text).toBe(201);
    const id = post.body.id;
    const answers = [
      post,
      await c.get(`/Users/${id}`),
      await c.get(`/Users/${id}?attributes=password`),
      await c.get(`/Users/${id}?attributes=userName,password`),
      await c.get('/Users'),
      await c.get(`/Users?filter=${enc('userName eq "pw@x.test"')}&attributes=password`),
      await c.post('/Users/.search', { schemas: [SEARCH], attributes: ['password', 'userName'] }),
      await c.post('/.search', { schemas: [SEARCH] }),
      await c.put(`/Users/${id}`, { userName: 'pw@x.test', password: secret + '2' }),
      await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'password', value: secret + '3' })),
      await c.patch(`/Users/${id}`, patch({ op: 'replace', value: { password: secret + '4', displayName: 'PW' } })),
    ];
    for (const res of answers) {
      expect(res.status, res.text).toBeLessThan(300);
      expect(res.text).not.toContain(secret);
      expect(res.text).not.toMatch(/"password"/i);
    }
    expect((await get(id)).displayName).toBe('PW');
  });

  it('cannot be filtered on to probe it', async () => {
    await c.post('/Users', { userName: 'pw2@x.test', password: 'probe-me' });
    const res = await c.get(`/Users?filter=${enc('password eq "probe-me"')}`);
    if (res.status === 200) expect(res.body.totalResults).toBe(0);
    else expect(res.status).toBe(400);
  });
});

describe('read-only and unknown attributes', () => {
  it('ignores groups, id and meta on POST; ignores unknown attributes', async () => {
    const g = await c.post('/Groups', { displayName: 'RO Group' });
    expect(g.status).toBe(201);
    const post = await c.post('/Users', {
      schemas: [CORE_USER],
      id: 'client-chosen-id',
      userName: 'ro@x.test',
      groups: [{ value: g.body.id, display: 'RO Group' }],
      meta: { resourceType: 'User', created: '2001-01-01T00:00:00Z', version: 'W/"999"' },
      favouriteColour: 'blue',
      name: { givenName: 'R', shoeSize: 44 },
      [ENTERPRISE]: { department: 'D', manager: { value: 'm1', displayName: 'Ignored Read-Only' } },
    });
    expect(post.status, post.text).toBe(201);
    expect(post.body.id).not.toBe('client-chosen-id');
    expect(post.body.meta.created).not.toBe('2001-01-01T00:00:00Z');
    expect(post.body.meta.version).not.toBe('W/"999"');
    const u = await get(post.body.id);
    expect(u.groups ?? []).toEqual([]);
    expect(u).not.toHaveProperty('favouriteColour');
    expect(u.name).toEqual({ givenName: 'R' });
    expect(u[ENTERPRISE]).toEqual({ department: 'D', manager: { value: 'm1' } });
    expect((await c.get('/Users/client-chosen-id')).status).toBe(404);
    const members = (await c.get(`/Groups/${g.body.id}`)).body.members ?? [];
    expect(members).toEqual([]);
  });
});

describe('null and empty values', () => {
  it('treats null as unassigned on POST and removes an attribute on PUT with null', async () => {
    const post = await c.post('/Users', {
      userName: 'null@x.test',
      displayName: null,
      nickName: 'Nick',
      title: null,
      name: { givenName: 'Nu', familyName: null },
      emails: null,
      phoneNumbers: [],
      [ENTERPRISE]: { department: null },
    });
    expect(post.status, post.text).toBe(201);
    const u = await get(post.body.id);
    expect(u).not.toHaveProperty('displayName');
    expect(u).not.toHaveProperty('title');
    expect(u).not.toHaveProperty('emails');
    expect(u).not.toHaveProperty('phoneNumbers');
    expect(u).not.toHaveProperty(ENTERPRISE);
    expect(u.schemas).toEqual([CORE_USER]);
    expect(u.name).toEqual({ givenName: 'Nu' });
    expect(u.nickName).toBe('Nick');
    // stored as absent: `pr` does not match, `eq null` semantics aside
    const res = await c.get(`/Users?filter=${enc('userName eq "null@x.test" and displayName pr')}`);
    expect(res.body.totalResults).toBe(0);

    const put = await c.put(`/Users/${u.id}`, { userName: 'null@x.test', nickName: null, name: { givenName: 'Nu' } });
    expect(put.status).toBe(200);
    expect(await get(u.id)).not.toHaveProperty('nickName');
  });

  it('PATCH replace with null value, and remove, unassign an attribute', async () => {
    const post = await c.post('/Users', { userName: 'null2@x.test', nickName: 'N', title: 'T' });
    const id = post.body.id;
    const r1 = await c.patch(`/Users/${id}`, patch({ op: 'remove', path: 'nickName' }));
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body).not.toHaveProperty('nickName');
    expect(await get(id)).not.toHaveProperty('nickName');
    expect((await get(id)).title).toBe('T');
  });
});

describe('booleans as strings', () => {
  it('"active":"True" / "false" on POST and PUT store booleans', async () => {
    const a = await c.post('/Users', { userName: 'bool1@x.test', active: 'True' });
    expect(a.status, a.text).toBe(201);
    expect(a.body.active).toBe(true);
    expect((await get(a.body.id)).active).toBe(true);

    const b = await c.post('/Users', { userName: 'bool2@x.test', active: 'false', emails: [{ value: 'b2@x.test', primary: 'True' }] });
    expect(b.status, b.text).toBe(201);
    const bu = await get(b.body.id);
    expect(bu.active).toBe(false);
    expect(bu.emails).toEqual([{ value: 'b2@x.test', primary: true }]);
    expect((await c.get(`/Users?filter=${enc('active eq false and userName eq "bool2@x.test"')}`)).body.totalResults).toBe(1);

    const put = await c.put(`/Users/${a.body.id}`, { userName: 'bool1@x.test', active: 'FALSE' });
    expect(put.status).toBe(200);
    expect((await get(a.body.id)).active).toBe(false);
  });

  it('a user created without active is active', async () => {
    const res = await c.post('/Users', { userName: 'noactive@x.test' });
    expect(res.body.active).toBe(true);
  });
});

describe("a user's groups", () => {
  it('lists the groups the user is a member of, read back after membership changes', async () => {
    const u = (await c.post('/Users', { userName: 'member@x.test', displayName: 'Member' })).body;
    const g1 = (await c.post('/Groups', { displayName: 'Alpha', members: [{ value: u.id }] })).body;
    const g2 = (await c.post('/Groups', { displayName: 'Beta' })).body;
    const add = await c.patch(`/Groups/${g2.id}`, patch({ op: 'add', path: 'members', value: [{ value: u.id }] }));
    expect(add.status, add.text).toBe(204);

    const got = await get(u.id);
    expect(got.groups).toHaveLength(2);
    const byId = Object.fromEntries(got.groups.map((x: any) => [x.value, x]));
    expect(byId[g1.id].display).toBe('Alpha');
    expect(byId[g2.id].display).toBe('Beta');
    expect(byId[g1.id].$ref).toBe(`${PUBLIC_URL}${conn.base}/Groups/${g1.id}`);

    // in lists too, and the group's members carry the user's display
    const list = await c.get(`/Users?filter=${enc('userName eq "member@x.test"')}`);
    expect(list.body.Resources[0].groups.map((x: any) => x.value).sort()).toEqual([g1.id, g2.id].sort());
    const g = await c.get(`/Groups/${g1.id}`);
    expect(g.body.members).toEqual([{ value: u.id, $ref: `${PUBLIC_URL}${conn.base}/Users/${u.id}`, display: 'Member', type: 'User' }]);

    // excludedAttributes=groups drops it
    expect((await c.get(`/Users/${u.id}?excludedAttributes=groups`)).body).not.toHaveProperty('groups');

    await c.delete(`/Groups/${g1.id}`);
    const rm = await c.patch(`/Groups/${g2.id}`, patch({ op: 'remove', path: 'members' }));
    expect(rm.status, rm.text).toBe(204);
    expect((await get(u.id)).groups ?? []).toEqual([]);
  });

  it('PATCH of a user cannot write groups', async () => {
    const u = (await c.post('/Users', { userName: 'rogroups@x.test' })).body;
    const g = (await c.post('/Groups', { displayName: 'Gamma' })).body;
    const res = await c.patch(`/Users/${u.id}`, patch({ op: 'add', path: 'groups', value: [{ value: g.id }] }));
    expect([200, 400]).toContain(res.status);
    if (res.status === 400) expect(res.body.scimType).toBe('mutability');
    expect((await get(u.id)).groups ?? []).toEqual([]);
    expect((await c.get(`/Groups/${g.id}`)).body.members ?? []).toEqual([]);
  });
});

describe('methods', () => {
  it('POST 201 with Location; user PATCH 200 with the full user; group PATCH 204, or 200 with attributes; DELETE 204', async () => {
    const post = await c.post('/Users', { userName: 'methods@x.test', name: { givenName: 'M' } });
    expect(post.status).toBe(201);
    expect(post.headers.location).toBe(`${PUBLIC_URL}${conn.base}/Users/${post.body.id}`);
    const p = await c.patch(`/Users/${post.body.id}`, patch({ op: 'add', path: 'title', value: 'Boss' }));
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ userName: 'methods@x.test', title: 'Boss', name: { givenName: 'M' }, active: true });
    expect(p.body.meta.location).toBe(post.headers.location);

    const g = await c.post('/Groups', { displayName: 'Methods' });
    expect(g.headers.location).toBe(`${PUBLIC_URL}${conn.base}/Groups/${g.body.id}`);
    const gp = await c.patch(`/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: post.body.id }] }));
    expect(gp.status).toBe(204);
    expect(gp.text).toBe('');
    const gp2 = await c.patch(`/Groups/${g.body.id}?excludedAttributes=members`, patch({ op: 'replace', path: 'displayName', value: 'Methods 2' }));
    expect(gp2.status).toBe(200);
    expect(gp2.body.displayName).toBe('Methods 2');
    expect(gp2.body).not.toHaveProperty('members');
    const gp3 = await c.patch(`/Groups/${g.body.id}?attributes=members`, patch({ op: 'remove', path: 'members' }));
    expect(gp3.status).toBe(200);
    expect(gp3.body.members ?? []).toEqual([]);

    expect((await c.delete(`/Groups/${g.body.id}`)).status).toBe(204);
    expect((await c.delete(`/Users/${post.body.id}`)).status).toBe(204);
  });

  it('with externalId as the mapping key, a deleted user’s userName can be reused by another person; the old id stays 404', async () => {
    // With the default key (userName) the same userName would restore the deleted user instead (policy 9).
    const k = scimClient(t.app, await t.connection('externalId key, reuse', { settings: { mappingKey: 'externalId' } }));
    const first = await k.post('/Users', { userName: 'reuse@x.test' });
    expect((await k.delete(`/Users/${first.body.id}`)).status).toBe(204);
    const second = await k.post('/Users', { userName: 'reuse@x.test' });
    expect(second.status, second.text).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect((await k.get(`/Users/${first.body.id}`)).status).toBe(404);
    expect((await k.patch(`/Users/${first.body.id}`, patch({ op: 'add', path: 'title', value: 'x' }))).status).toBe(404);
  });

  it('userName is the default mapping key: a second user with the same userName is a conflict; two users may share an externalId', async () => {
    const dup = await c.post('/Users', { userName: 'key-a@x.test', externalId: 'key-a' });
    const again = await c.post('/Users', { userName: 'KEY-A@x.test', externalId: 'key-b' });
    expect(dup.status).toBe(201);
    expect(again.status).toBe(409);
    expect(again.body.scimType).toBe('uniqueness');
    expect((await c.get(`/Users?filter=${enc('userName eq "key-a@x.test"')}`)).body.totalResults).toBe(1);
    const a = await c.post('/Users', { userName: 'ext-a@x.test', externalId: 'same' });
    const b = await c.post('/Users', { userName: 'ext-b@x.test', externalId: 'same' });
    expect(a.status).toBe(201);
    expect(b.status, b.text).toBe(201);
    expect((await c.get(`/Users?filter=${enc('externalId eq "same"')}`)).body.totalResults).toBe(2);
  });

  it('with externalId as the mapping key, a second user with it is a conflict', async () => {
    const k = scimClient(t.app, await t.connection('externalId key', { settings: { mappingKey: 'externalId' } }));
    const a = await k.post('/Users', { userName: 'ext-a@x.test', externalId: 'same' });
    const b = await k.post('/Users', { userName: 'ext-b@x.test', externalId: 'same' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(409);
    expect(b.body.scimType).toBe('uniqueness');
    expect((await k.get(`/Users?filter=${enc('externalId eq "same"')}`)).body.totalResults).toBe(1);
  });

  it('with userName as the mapping key, externalId is not unique', async () => {
    const conn = await t.connection('userName key', { settings: { mappingKey: 'userName' } });
    const k = scimClient(t.app, conn);
    expect((await k.post('/Users', { userName: 'ext-a@x.test', externalId: 'same' })).status).toBe(201);
    expect((await k.post('/Users', { userName: 'ext-b@x.test', externalId: 'same' })).status).toBe(201);
    expect((await k.get(`/Users?filter=${enc('externalId eq "same"')}`)).body.totalResults).toBe(2);
  });
});
