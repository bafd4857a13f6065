/** ETags (RFC 7644 §3.14): W/"<version>" on every resource answer; If-Match and If-None-Match. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const ETAG = /^W\/"[^"]+"$/;

let t: TestApp;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('ETags'));
});
afterAll(async () => {
  await t?.close();
});

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

describe('users', () => {
  it('sends an ETag header equal to meta.version on POST, GET, PUT and PATCH; it changes on every write', async () => {
    const post = await c.post('/Users', { schemas: [CORE_USER], userName: 'etag1@x.test', displayName: 'One' });
    expect(post.status).toBe(201);
    expect(post.headers.etag).toMatch(ETAG);
    expect(post.headers.etag).toBe(post.body.meta.version);
    const id = post.body.id;

    const get = await c.get(`/Users/${id}`);
    expect(get.headers.etag).toBe(post.headers.etag);
    expect(get.body.meta.version).toBe(post.headers.etag);

    const put = await c.put(`/Users/${id}`, { schemas: [CORE_USER], userName: 'etag1@x.test', displayName: 'Two' });
    expect(put.status).toBe(200);
    expect(put.headers.etag).toMatch(ETAG);
    expect(put.headers.etag).not.toBe(post.headers.etag);
    expect(put.headers.etag).toBe(put.body.meta.version);

    const p = await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Three' }));
    expect(p.status).toBe(200);
    expect(p.headers.etag).toMatch(ETAG);
    expect(p.headers.etag).not.toBe(put.headers.etag);
    expect((await c.get(`/Users/${id}`)).headers.etag).toBe(p.headers.etag);
  });

  it('If-Match with a stale version → 412 on PUT, PATCH and DELETE, and nothing changes', async () => {
    const post = await c.post('/Users', { userName: 'etag2@x.test', displayName: 'Original' });
    const stale = post.headers.etag as string;
    const id = post.body.id;
    const upd = await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Current' }));
    const current = upd.headers.etag as string;
    expect(current).not.toBe(stale);

    for (const res of [
      await c.put(`/Users/${id}`, { userName: 'etag2@x.test', displayName: 'Lost Update' }, { 'if-match': stale }),
      await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Lost Update' }), { 'if-match': stale }),
      await c.delete(`/Users/${id}`, { 'if-match': stale }),
    ]) {
      expect(res.status, res.text).toBe(412);
      expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
      expect(res.body.status).toBe('412');
    }
    const after = await c.get(`/Users/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.displayName).toBe('Current');
    expect(after.headers.etag).toBe(current);

    // the current version (or *) is accepted
    const ok = await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Matched' }), { 'if-match': current });
    expect(ok.status).toBe(200);
    expect((await c.get(`/Users/${id}`)).body.displayName).toBe('Matched');
    const put = await c.put(`/Users/${id}`, { userName: 'etag2@x.test', displayName: 'Star' }, { 'if-match': '*' });
    expect(put.status).toBe(200);
    const del = await c.delete(`/Users/${id}`, { 'if-match': put.headers.etag as string });
    expect(del.status).toBe(204);
    expect((await c.get(`/Users/${id}`)).status).toBe(404);
  });

  it('If-None-Match with the current version → 304 without a body; a stale one → 200', async () => {
    const post = await c.post('/Users', { userName: 'etag3@x.test' });
    const id = post.body.id;
    const nm = await c.get(`/Users/${id}`, { 'if-none-match': post.headers.etag as string });
    expect(nm.status).toBe(304);
    expect(nm.text).toBe('');
    expect(nm.headers.etag).toBe(post.headers.etag);

    await c.patch(`/Users/${id}`, patch({ op: 'add', path: 'nickName', value: 'Nick' }));
    const changed = await c.get(`/Users/${id}`, { 'if-none-match': post.headers.etag as string });
    expect(changed.status).toBe(200);
    expect(changed.body.nickName).toBe('Nick');
  });
});

describe('groups', () => {
  it('ETag on POST/GET/PUT; stale If-Match → 412 on PUT, PATCH, DELETE and nothing changes; If-None-Match → 304', async () => {
    const u = await c.post('/Users', { userName: 'etag-member@x.test' });
    const post = await c.post('/Groups', { displayName: 'ETag Group' });
    expect(post.status).toBe(201);
    expect(post.headers.etag).toMatch(ETAG);
    expect(post.headers.etag).toBe(post.body.meta.version);
    const id = post.body.id;
    const stale = post.headers.etag as string;

    const get = await c.get(`/Groups/${id}`);
    expect(get.headers.etag).toBe(stale);
    expect((await c.get(`/Groups/${id}`, { 'if-none-match': stale })).status).toBe(304);

    const put = await c.put(`/Groups/${id}`, { displayName: 'ETag Group', members: [{ value: u.body.id }] });
    expect(put.status).toBe(200);
    expect(put.headers.etag).toMatch(ETAG);
    expect(put.headers.etag).not.toBe(stale);
    const current = put.headers.etag as string;

    for (const res of [
      await c.put(`/Groups/${id}`, { displayName: 'Lost', members: [] }, { 'if-match': stale }),
      await c.patch(`/Groups/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Lost' }), { 'if-match': stale }),
      await c.patch(`/Groups/${id}`, patch({ op: 'remove', path: 'members' }), { 'if-match': stale }),
      await c.delete(`/Groups/${id}`, { 'if-match': stale }),
    ]) {
      expect(res.status, res.text).toBe(412);
      expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    }
    const after = await c.get(`/Groups/${id}`);
    expect(after.body.displayName).toBe('ETag Group');
    expect(after.body.members.map((m: any) => m.value)).toEqual([u.body.id]);
    expect(after.headers.etag).toBe(current);

    // a membership PATCH moves the version too
    const p = await c.patch(`/Groups/${id}`, patch({ op: 'remove', path: 'members' }), { 'if-match': current });
    expect(p.status).toBe(204);
    expect(p.headers.etag).toMatch(ETAG);
    expect(p.headers.etag).not.toBe(current);
    expect((await c.get(`/Groups/${id}`)).headers.etag).toBe(p.headers.etag);
  });
});

describe('ETags follow membership changes', () => {
  it('deleting a member user changes the group representation, so its ETag must change', async () => {
    const u1 = await c.post('/Users', { userName: 'etag-m1@x.test' });
    const u2 = await c.post('/Users', { userName: 'etag-m2@x.test' });
    const g = await c.post('/Groups', { displayName: 'ETag Members', members: [{ value: u1.body.id }, { value: u2.body.id }] });
    expect(g.status).toBe(201);
    const before = await c.get(`/Groups/${g.body.id}`);
    expect(before.body.members).toHaveLength(2);
    const old = before.headers.etag as string;

    expect((await c.delete(`/Users/${u1.body.id}`)).status).toBe(204);

    const after = await c.get(`/Groups/${g.body.id}`);
    expect(after.body.members.map((m: any) => m.value)).toEqual([u2.body.id]);
    expect(after.headers.etag).not.toBe(old);
    const cached = await c.get(`/Groups/${g.body.id}`, { 'if-none-match': old });
    expect(cached.status).toBe(200);
    expect(cached.body.members.map((m: any) => m.value)).toEqual([u2.body.id]);
  });

  it("joining a group changes the user's groups attribute, so the user's ETag must change", async () => {
    const u = await c.post('/Users', { userName: 'etag-joiner@x.test' });
    const old = u.headers.etag as string;
    const g = await c.post('/Groups', { displayName: 'ETag Joined' });
    const add = await c.patch(`/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: u.body.id }] }));
    expect(add.status).toBe(204);
    const now = await c.get(`/Users/${u.body.id}`);
    expect(now.body.groups.map((x: any) => x.value)).toEqual([g.body.id]);
    const cached = await c.get(`/Users/${u.body.id}`, { 'if-none-match': old });
    expect(cached.status).toBe(200);
    expect(cached.body.groups.map((x: any) => x.value)).toEqual([g.body.id]);
  });
});
