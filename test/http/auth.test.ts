/**
 * Authentication and tenant isolation: every connection sees only its own
 * resources, with its own token, also when requests for two connections are
 * interleaved in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type TestApp, type TestConnection } from '../support/app.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let t: TestApp;
let A: TestConnection;
let B: TestConnection;

beforeAll(async () => {
  t = await startTestApp();
  A = await t.connection('Tenant A');
  B = await t.connection('Tenant B');
});
afterAll(async () => {
  await t?.close();
});

function expect401(res: { status: number; headers: Record<string, unknown>; body: any; text: string }) {
  expect(res.status, res.text).toBe(401);
  expect(String(res.headers['www-authenticate'] ?? '')).toMatch(/^Bearer/);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
  expect(res.body.status).toBe('401');
  expect(res.body.detail).toEqual(expect.any(String));
}

describe('authentication', () => {
  it('refuses a request without a token with 401 and WWW-Authenticate: Bearer', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${A.base}/Users` });
    expect401({ status: res.statusCode, headers: res.headers, body: JSON.parse(res.body), text: res.body });
  });

  it('refuses a non-Bearer Authorization header', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${A.base}/Users`, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expect401({ status: res.statusCode, headers: res.headers, body: JSON.parse(res.body), text: res.body });
  });

  it('refuses a wrong token with 401', async () => {
    const res = await scimClient(t.app, { ...A, token: A.token + 'x' }).get('/Users');
    expect401(res);
    const empty = await scimClient(t.app, { ...A, token: '' }).get('/Users');
    expect401(empty);
  });

  it("refuses connection A's token on connection B's URL with 401, for reads and writes", async () => {
    const crossed = scimClient(t.app, { ...B, token: A.token });
    expect401(await crossed.get('/Users'));
    expect401(await crossed.get('/ServiceProviderConfig'));
    expect401(await crossed.post('/Users', { schemas: [CORE_USER], userName: 'intruder@x.test' }));
    // nothing was written to either connection
    for (const conn of [A, B]) {
      const res = await scimClient(t.app, conn).get(`/Users?filter=${encodeURIComponent('userName eq "intruder@x.test"')}`);
      expect(res.body.totalResults).toBe(0);
    }
  });

  it('refuses an unknown connection id with 401 (no probing of connection ids)', async () => {
    expect401(await scimClient(t.app, { ...A, base: '/scim/v2/00000000-0000-0000-0000-000000000000' }).get('/Users'));
  });

  it('accepts the scheme name in any case', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${A.base}/Users`, headers: { authorization: `bearer ${A.token}` } });
    expect(res.statusCode).toBe(200);
  });

  it("answers 404 for A's resource ids under B's URL with B's token, and leaves A's resources alone", async () => {
    const a = scimClient(t.app, A);
    const b = scimClient(t.app, B);
    const user = await a.post('/Users', { schemas: [CORE_USER], userName: 'owned.by.a@x.test', displayName: 'A user' });
    expect(user.status).toBe(201);
    const group = await a.post('/Groups', { displayName: 'A group', members: [{ value: user.body.id }] });
    expect(group.status, group.text).toBe(201);
    const uid = user.body.id;
    const gid = group.body.id;
    // Joining the group changed the user's `groups`, hence its version: read it now.
    const before = await a.get(`/Users/${uid}`);

    const attempts = [
      await b.get(`/Users/${uid}`),
      await b.put(`/Users/${uid}`, { schemas: [CORE_USER], userName: 'hijacked@x.test' }),
      await b.patch(`/Users/${uid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }),
      await b.delete(`/Users/${uid}`),
      await b.get(`/Groups/${gid}`),
      await b.put(`/Groups/${gid}`, { displayName: 'hijacked group', members: [] }),
      await b.patch(`/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }),
      await b.delete(`/Groups/${gid}`),
    ];
    for (const res of attempts) {
      expect(res.status, res.text).toBe(404);
      expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    }

    // B's lists and filters do not see A's resources
    expect((await b.get(`/Users?filter=${encodeURIComponent(`id eq "${uid}"`)}`)).body.totalResults).toBe(0);
    expect((await b.get(`/Groups?filter=${encodeURIComponent(`id eq "${gid}"`)}`)).body.totalResults).toBe(0);

    // A's user cannot be made a member of B's group
    const bGroup = await b.post('/Groups', { displayName: 'B group', members: [{ value: uid }] });
    expect(bGroup.status).toBe(400);
    expect(bGroup.body.scimType).toBe('invalidValue');

    // A's resources are unchanged
    const after = await a.get(`/Users/${uid}`);
    expect(after.status).toBe(200);
    expect(after.body.userName).toBe('owned.by.a@x.test');
    expect(after.body.active).toBe(true);
    expect(after.body.meta.version).toBe(before.body.meta.version);
    const g = await a.get(`/Groups/${gid}`);
    expect(g.body.displayName).toBe('A group');
    expect(g.body.members.map((m: any) => m.value)).toEqual([uid]);
  });

  it('allows the same userName in two connections', async () => {
    const a = await scimClient(t.app, A).post('/Users', { userName: 'shared.name@x.test' });
    const b = await scimClient(t.app, B).post('/Users', { userName: 'shared.name@x.test' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
  });
});

describe('tenant isolation under concurrency', () => {
  it('200 interleaved concurrent POST /Users over two connections: each lists exactly its own 100', async () => {
    const c1 = await t.connection('Concurrent 1');
    const c2 = await t.connection('Concurrent 2');
    const k1 = scimClient(t.app, c1);
    const k2 = scimClient(t.app, c2);

    const jobs: Promise<{ conn: TestConnection; res: Awaited<ReturnType<typeof k1.post>> }>[] = [];
    for (let i = 0; i < 100; i++) {
      jobs.push(k1.post('/Users', { userName: `c1-user-${i}@one.test`, externalId: `one-${i}` }).then((res) => ({ conn: c1, res })));
      jobs.push(k2.post('/Users', { userName: `c2-user-${i}@two.test`, externalId: `two-${i}` }).then((res) => ({ conn: c2, res })));
      // reads in flight too
      if (i % 10 === 0) jobs.push(k1.get('/Users?count=1').then((res) => ({ conn: c1, res })));
    }
    const results = await Promise.all(jobs);
    for (const { conn, res } of results) {
      expect(res.status, res.text).toBeLessThan(300);
      if (res.status === 201) expect(res.body.meta.location).toContain(`/scim/v2/${conn.id}/Users/`);
    }

    for (const [client, own, other] of [
      [k1, 'c1-', 'c2-'],
      [k2, 'c2-', 'c1-'],
    ] as const) {
      const res = await client.get('/Users?count=1000');
      expect(res.status).toBe(200);
      expect(res.body.totalResults).toBe(100);
      const names: string[] = res.body.Resources.map((r: any) => r.userName);
      expect(names.length).toBe(100);
      expect(names.every((n) => n.startsWith(own))).toBe(true);
      expect(names.some((n) => n.startsWith(other))).toBe(false);
      expect(new Set(names).size).toBe(100);
      for (const r of res.body.Resources) {
        const one = await client.get(`/Users/${r.id}`);
        expect(one.status).toBe(200);
      }
    }
  });
});
