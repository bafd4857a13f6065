/**
 * An Okta provisioning cycle replayed with the request shapes Okta sends
 * (User-Agent `Okta SCIM Client 1.0.0`, Content-Type application/json), asserting
 * what Rollcall stored after each step.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type TestApp, type TestConnection } from '../support/app.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

const OKTA_HEADERS = { 'user-agent': 'Okta SCIM Client 1.0.0', accept: 'application/scim+json' };

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** Okta's client: its User-Agent on every call, plain application/json bodies. */
function okta(conn: TestConnection) {
  const c = scimClient(t.app, conn, OKTA_HEADERS);
  const withBody = { 'content-type': 'application/json' };
  return {
    get: (url: string) => c.get(url),
    post: (url: string, body: unknown) => c.post(url, body, withBody),
    put: (url: string, body: unknown) => c.put(url, body, withBody),
    patch: (url: string, body: unknown) => c.patch(url, body, withBody),
    delete: (url: string) => c.delete(url),
  };
}
type Okta = ReturnType<typeof okta>;

const enc = encodeURIComponent;
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

function oktaUser(login: string, given: string, family: string) {
  return {
    schemas: [CORE_USER],
    userName: login,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: login, type: 'work' }],
    displayName: `${given} ${family}`,
    locale: 'en-US',
    externalId: `00u${login.replace(/[^a-z0-9]/gi, '').slice(0, 17)}`,
    groups: [],
    password: '1mz050nq',
    active: true,
  };
}

async function existence(o: Okta, login: string) {
  const res = await o.get(`/Users?filter=${enc(`userName eq "${login}"`)}&startIndex=1&count=100`);
  expect(res.status, res.text).toBe(200);
  return res.body as any;
}

async function createUser(o: Okta, login: string, given = 'Test', family = 'User') {
  const res = await o.post('/Users', oktaUser(login, given, family));
  expect(res.status, res.text).toBe(201);
  return res.body as any;
}

async function groupMembers(o: Okta, id: string): Promise<string[]> {
  const res = await o.get(`/Groups/${id}`);
  expect(res.status, res.text).toBe(200);
  return ((res.body.members ?? []) as any[]).map((m) => m.value).sort();
}

function expectNoPassword(text: string) {
  expect(text).not.toMatch(/password/i);
  expect(text).not.toContain('1mz050nq');
}

describe('Okta: users', () => {
  let o: Okta;
  beforeAll(async () => {
    o = okta(await t.connection('Okta users'));
  });

  it('existence check, create with placeholder password, GET back; password never returned', async () => {
    const login = 'test.user@okta.local';
    const before = await existence(o, login);
    expect(before).toEqual({ schemas: [LIST], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });

    const created = await o.post('/Users', oktaUser(login, 'Test', 'User'));
    expect(created.status, created.text).toBe(201);
    expect(created.headers.location).toBe(created.body.meta.location);
    expectNoPassword(created.text);

    const id = created.body.id;
    const got = await o.get(`/Users/${id}`);
    expect(got.status).toBe(200);
    expectNoPassword(got.text);
    expect(got.body.userName).toBe(login);
    expect(got.body.name).toEqual({ givenName: 'Test', familyName: 'User' });
    expect(got.body.emails).toEqual([{ primary: true, value: login, type: 'work' }]);
    expect(got.body.displayName).toBe('Test User');
    expect(got.body.locale).toBe('en-US');
    expect(got.body.externalId).toBe('00utestuseroktalocal');
    expect(got.body.active).toBe(true);
    expect(got.body.groups ?? []).toEqual([]);

    const after = await existence(o, login);
    expect(after.totalResults).toBe(1);
    expect(after.itemsPerPage).toBe(1);
    expect(after.startIndex).toBe(1);
    expect(after.Resources[0].id).toBe(id);
    expectNoPassword(JSON.stringify(after));

    // '+' for spaces, as form-encoding HTTP clients write it
    const plus = await o.get(`/Users?filter=userName+eq+%22${enc(login)}%22&startIndex=1&count=100`);
    expect(plus.status, plus.text).toBe(200);
    expect(plus.body.totalResults).toBe(1);

    const all = await o.get('/Users?startIndex=1&count=100');
    expectNoPassword(all.text);
    const attrs = await o.get(`/Users/${id}?attributes=password,userName`);
    expect(attrs.status).toBe(200);
    expectNoPassword(attrs.text);
  });

  it('profile update: GET, then PUT of the whole user', async () => {
    const login = 'profile.user@okta.local';
    const created = await createUser(o, login, 'Pro', 'File');
    const got = await o.get(`/Users/${created.id}`);
    const body = {
      ...got.body,
      name: { givenName: 'Another', middleName: 'Test', familyName: 'User' },
      displayName: 'Another User',
      locale: 'fr-FR',
      emails: [{ primary: true, value: login, type: 'work', display: login }],
      groups: [],
    };
    const put = await o.put(`/Users/${created.id}`, body);
    expect(put.status, put.text).toBe(200);
    expect(put.body.id).toBe(created.id);
    expect(put.headers.etag).toBe(put.body.meta.version);

    const after = await o.get(`/Users/${created.id}`);
    expect(after.body.name).toEqual({ givenName: 'Another', middleName: 'Test', familyName: 'User' });
    expect(after.body.displayName).toBe('Another User');
    expect(after.body.locale).toBe('fr-FR');
    expect(after.body.emails).toEqual([{ primary: true, value: login, type: 'work', display: login }]);
    expect(after.body.userName).toBe(login);
    expect(after.body.externalId).toBe(created.externalId);
    expect(after.body.meta.created).toBe(created.meta.created);
    expect(after.body.active).toBe(true);

    // PUT is a replacement: an attribute left out is removed
    const { locale: _drop, ...withoutLocale } = after.body;
    const put2 = await o.put(`/Users/${created.id}`, withoutLocale);
    expect(put2.status, put2.text).toBe(200);
    expect((await o.get(`/Users/${created.id}`)).body).not.toHaveProperty('locale');
  });

  it('deactivates with a no-path PATCH {"op":"replace","value":{"active":false}} and reactivates', async () => {
    const login = 'deact.user@okta.local';
    const created = await createUser(o, login);
    const res = await o.patch(`/Users/${created.id}`, patch({ op: 'replace', value: { active: false } }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.active).toBe(false);

    const got = await o.get(`/Users/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    expect(got.body.userName).toBe(login);
    expect(got.body.displayName).toBe('Test User');
    const listed = await existence(o, login);
    expect(listed.totalResults).toBe(1);
    expect(listed.Resources[0].active).toBe(false);

    const re = await o.patch(`/Users/${created.id}`, patch({ op: 'replace', value: { active: true } }));
    expect(re.status, re.text).toBe(200);
    expect((await o.get(`/Users/${created.id}`)).body.active).toBe(true);
  });

  it('wizard-style deactivation and reactivation by PUT with active false / true', async () => {
    const login = 'wizard.user@okta.local';
    const created = await createUser(o, login);
    const cur = (await o.get(`/Users/${created.id}`)).body;
    const put = await o.put(`/Users/${created.id}`, { ...cur, active: false, password: 'placeholder' });
    expect(put.status, put.text).toBe(200);
    expect(put.body.active).toBe(false);
    expectNoPassword(put.text);
    const got = await o.get(`/Users/${created.id}`);
    expect(got.body.active).toBe(false);
    expect(got.body.name).toEqual({ givenName: 'Test', familyName: 'User' });
    expect((await o.get(`/Users?filter=${enc('active eq false')}&startIndex=1&count=100`)).body.Resources.map((r: any) => r.id)).toContain(created.id);

    const put2 = await o.put(`/Users/${created.id}`, { ...got.body, active: true });
    expect(put2.status, put2.text).toBe(200);
    expect((await o.get(`/Users/${created.id}`)).body.active).toBe(true);
  });

  it('answers 409 for a duplicate userName with a SCIM error', async () => {
    const login = 'dup.user@okta.local';
    await createUser(o, login);
    const dup = await o.post('/Users', oktaUser(login, 'Dup', 'Licate'));
    expect(dup.status).toBe(409);
    expect(dup.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    expect(dup.body.status).toBe('409');
    expect(dup.body.scimType).toBe('uniqueness');
    expect(dup.body.detail).toEqual(expect.any(String));
    expect((await existence(o, login)).totalResults).toBe(1);
  });

  it('answers 404 with the SCIM error schema and a detail for unknown ids', async () => {
    const unknown = randomUUID();
    for (const res of [
      await o.get(`/Users/${unknown}`),
      await o.put(`/Users/${unknown}`, oktaUser('ghost@okta.local', 'G', 'H')),
      await o.patch(`/Users/${unknown}`, patch({ op: 'replace', value: { active: false } })),
      await o.get(`/Groups/${unknown}`),
      await o.patch(`/Groups/${unknown}`, patch({ op: 'replace', value: { displayName: 'x' } })),
    ]) {
      expect(res.status, res.text).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
      expect(res.body.status).toBe('404');
      expect(res.body.detail).toEqual(expect.any(String));
      expect(res.body.detail.length).toBeGreaterThan(0);
    }
    // the failed PUT created nothing
    expect((await existence(o, 'ghost@okta.local')).totalResults).toBe(0);
  });

  it('answers 401 for a bad token', async () => {
    const conn = await t.connection('Okta 401');
    const bad = okta({ ...conn, token: 'not-the-token' });
    const res = await bad.get(`/Users?filter=${enc('userName eq "a@b.c"')}&startIndex=1&count=100`);
    expect(res.status).toBe(401);
    expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    expect(res.body.status).toBe('401');
    const post = await bad.post('/Users', oktaUser('nope@okta.local', 'N', 'O'));
    expect(post.status).toBe(401);
    expect((await existence(okta(conn), 'nope@okta.local')).totalResults).toBe(0);
  });
});

describe('Okta: group push', () => {
  let o: Okta;
  const users: any[] = [];
  beforeAll(async () => {
    o = okta(await t.connection('Okta groups'));
    for (let i = 0; i < 5; i++) users.push(await createUser(o, `member${i}@okta.local`, `Member${i}`, 'Okta'));
  });

  async function lookupGroup(name: string) {
    const res = await o.get(`/Groups?filter=${enc(`displayName eq "${name}"`)}&startIndex=1&count=100`);
    expect(res.status, res.text).toBe(200);
    return res.body as any;
  }

  it('pushes a group, finds it by displayName, renames it along with membership ops, replaces members, PUTs the full list', async () => {
    const before = await lookupGroup('Test SCIMv2');
    expect(before.totalResults).toBe(0);
    expect(before.Resources).toEqual([]);

    const created = await o.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Test SCIMv2', members: [] });
    expect(created.status, created.text).toBe(201);
    const gid = created.body.id;
    expect(created.body.displayName).toBe('Test SCIMv2');
    expect(created.body.members ?? []).toEqual([]);

    const found = await lookupGroup('Test SCIMv2');
    expect(found.totalResults).toBe(1);
    expect(found.startIndex).toBe(1);
    expect(found.itemsPerPage).toBe(1);
    expect(found.Resources[0].id).toBe(gid);

    // add two members
    const add = await o.patch(
      `/Groups/${gid}`,
      patch({ op: 'add', path: 'members', value: [{ value: users[0].id, display: users[0].userName }, { value: users[1].id, display: users[1].userName }] }),
    );
    expect(add.status, add.text).toBe(204);
    expect(await groupMembers(o, gid)).toEqual([users[0].id, users[1].id].sort());

    // rename sent with membership ops: remove one, add another
    const upd = await o.patch(
      `/Groups/${gid}`,
      patch(
        { op: 'replace', value: { id: gid, displayName: 'Test SCIMv2 Renamed' } },
        { op: 'remove', path: `members[value eq "${users[0].id}"]` },
        { op: 'add', path: 'members', value: [{ value: users[2].id, display: users[2].userName }] },
      ),
    );
    expect(upd.status, upd.text).toBe(204);
    const g = await o.get(`/Groups/${gid}`);
    expect(g.body.displayName).toBe('Test SCIMv2 Renamed');
    expect(g.body.id).toBe(gid);
    expect(((g.body.members ?? []) as any[]).map((m) => m.value).sort()).toEqual([users[1].id, users[2].id].sort());
    expect((await lookupGroup('Test SCIMv2 Renamed')).Resources.map((r: any) => r.id)).toEqual([gid]);
    expect((await lookupGroup('Test SCIMv2')).totalResults).toBe(0);

    // rename alone (the op Okta sends with an unchanged name too)
    const same = await o.patch(`/Groups/${gid}`, patch({ op: 'replace', value: { id: gid, displayName: 'Test SCIMv2 Renamed' } }));
    expect(same.status, same.text).toBe(204);
    expect(await groupMembers(o, gid)).toEqual([users[1].id, users[2].id].sort());

    // whole-list replace
    const rep = await o.patch(
      `/Groups/${gid}`,
      patch({ op: 'replace', path: 'members', value: [{ value: users[3].id, display: users[3].userName }, { value: users[4].id, display: users[4].userName }] }),
    );
    expect(rep.status, rep.text).toBe(204);
    expect(await groupMembers(o, gid)).toEqual([users[3].id, users[4].id].sort());

    // user side: groups attribute follows
    const u3 = await o.get(`/Users/${users[3].id}`);
    expect((u3.body.groups ?? []).map((x: any) => x.value)).toEqual([gid]);
    const u1 = await o.get(`/Users/${users[1].id}`);
    expect(u1.body.groups ?? []).toEqual([]);

    // wizard-built apps: PUT with the full member list
    const put = await o.put(`/Groups/${gid}`, {
      schemas: [CORE_GROUP],
      id: gid,
      displayName: 'Test SCIMv2 Renamed',
      members: [users[0], users[1], users[4]].map((u) => ({ value: u.id, display: u.userName })),
    });
    expect(put.status, put.text).toBe(200);
    expect(((put.body.members ?? []) as any[]).map((m) => m.value).sort()).toEqual([users[0].id, users[1].id, users[4].id].sort());
    expect(await groupMembers(o, gid)).toEqual([users[0].id, users[1].id, users[4].id].sort());

    // PUT with an empty list empties the group
    const empty = await o.put(`/Groups/${gid}`, { schemas: [CORE_GROUP], displayName: 'Test SCIMv2 Renamed', members: [] });
    expect(empty.status, empty.text).toBe(200);
    expect(await groupMembers(o, gid)).toEqual([]);
  });

  it('answers 409 for a duplicate group displayName', async () => {
    const first = await o.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Okta Dup Group', members: [] });
    expect(first.status).toBe(201);
    const dup = await o.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Okta Dup Group', members: [] });
    expect(dup.status).toBe(409);
    expect(dup.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    expect(dup.body.status).toBe('409');
    expect(dup.body.scimType).toBe('uniqueness');
    expect((await lookupGroup('Okta Dup Group')).totalResults).toBe(1);
  });
});

describe('Okta: paging over ~250 users', () => {
  it('pages with count=100 and startIndex +100; numbers are integers; no user twice, none missed', async () => {
    const conn = await t.connection('Okta paging');
    const o = okta(conn);
    const N = 250;
    const ids = new Set<string>();
    for (let i = 0; i < N; i++) ids.add((await createUser(o, `page${String(i).padStart(3, '0')}@okta.local`)).id);

    const seen: string[] = [];
    const pages: any[] = [];
    for (let start = 1; start <= N; start += 100) {
      const res = await o.get(`/Users?startIndex=${start}&count=100`);
      expect(res.status, res.text).toBe(200);
      pages.push(res.body);
      seen.push(...res.body.Resources.map((r: any) => r.id));
    }
    expect(pages.map((p) => p.startIndex)).toEqual([1, 101, 201]);
    expect(pages.map((p) => p.itemsPerPage)).toEqual([100, 100, 50]);
    for (const p of pages) {
      expect(p.schemas).toEqual([LIST]);
      expect(p.totalResults).toBe(N);
      for (const k of ['totalResults', 'itemsPerPage', 'startIndex']) {
        expect(typeof p[k]).toBe('number');
        expect(Number.isInteger(p[k])).toBe(true);
      }
      expect(p.Resources.length).toBe(p.itemsPerPage);
    }
    expect(seen.length).toBe(N);
    expect(new Set(seen)).toEqual(ids);

    // past the end: empty page, still well-formed
    const past = await o.get('/Users?startIndex=301&count=100');
    expect(past.status).toBe(200);
    expect(past.body.totalResults).toBe(N);
    expect(past.body.itemsPerPage).toBe(0);
    expect(past.body.startIndex).toBe(301);
    expect(past.body.Resources ?? []).toEqual([]);
  });
});
