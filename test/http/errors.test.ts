/**
 * Error answers: status, scimType, SCIM error document and content type, never a
 * stack trace or a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type ScimResponse, type TestApp, type TestConnection } from '../support/app.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let conn: TestConnection;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  conn = await t.connection('Errors');
  c = scimClient(t.app, conn);
});
afterAll(async () => {
  await t?.close();
});

const filter = (f: string) => `filter=${encodeURIComponent(f)}`;
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

/** Every error: the SCIM error document, status as a string, a detail, scim+json, no internals. */
function expectScimError(res: ScimResponse, status: number, scimType?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.body, res.text).toBeDefined();
  expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
  expect(res.body.status).toBe(String(status));
  expect(typeof res.body.detail).toBe('string');
  expect(res.body.detail.length).toBeGreaterThan(0);
  if (scimType) expect(res.body.scimType).toBe(scimType);
  expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|stack/i);
}

async function newUser(userName: string, extra: Record<string, unknown> = {}) {
  const res = await c.post('/Users', { schemas: [CORE_USER], userName, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body as any;
}

describe('request body errors', () => {
  it('malformed JSON → 400 invalidSyntax', async () => {
    expectScimError(await c.post('/Users', '{"userName": "broken@x.test",'), 400, 'invalidSyntax');
    expectScimError(await c.post('/Users', '{not json}'), 400, 'invalidSyntax');
    expectScimError(await c.request('PATCH', '/Users/whatever', '{"Operations": ['), 400, 'invalidSyntax');
  });

  it('a JSON body that is not an object → 400 invalidSyntax', async () => {
    expectScimError(await c.post('/Users', '[]'), 400, 'invalidSyntax');
    expectScimError(await c.post('/Users', '"userName"'), 400, 'invalidSyntax');
  });

  it('wrong types → 400 invalidSyntax, nothing stored', async () => {
    expectScimError(await c.post('/Users', { userName: 'maybe@x.test', active: 'maybe' }), 400, 'invalidSyntax');
    expectScimError(await c.post('/Users', { userName: {} }), 400, 'invalidSyntax');
    expectScimError(await c.post('/Users', { userName: 'arr@x.test', name: 'not-an-object' }), 400, 'invalidSyntax');
    expectScimError(await c.post('/Users', { userName: 'emails@x.test', emails: [{ value: { nested: true } }] }), 400, 'invalidSyntax');
    const list = await c.get(`/Users?${filter('userName eq "maybe@x.test" or userName eq "arr@x.test" or userName eq "emails@x.test"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('missing or empty userName → 400', async () => {
    const missing = await c.post('/Users', { schemas: [CORE_USER], displayName: 'No Name' });
    expectScimError(missing, 400);
    expect(['invalidValue', 'invalidSyntax']).toContain(missing.body.scimType);
    expectScimError(await c.post('/Users', { userName: '' }), 400);
    expectScimError(await c.post('/Users', { userName: null }), 400);
    expectScimError(await c.post('/Groups', { members: [] }), 400);
  });

  it('duplicate userName in a different case → 409 uniqueness, on POST, PUT and PATCH', async () => {
    const first = await newUser('Case.Dup@x.test');
    expectScimError(await c.post('/Users', { userName: 'case.dup@X.TEST' }), 409, 'uniqueness');
    const other = await newUser('other.dup@x.test');
    expectScimError(await c.put(`/Users/${other.id}`, { userName: 'CASE.DUP@x.test' }), 409, 'uniqueness');
    expectScimError(await c.patch(`/Users/${other.id}`, patch({ op: 'replace', path: 'userName', value: 'case.DUP@x.test' })), 409, 'uniqueness');
    expect((await c.get(`/Users/${other.id}`)).body.userName).toBe('other.dup@x.test');
    // changing only the case of one's own userName is fine
    const self = await c.patch(`/Users/${first.id}`, patch({ op: 'replace', path: 'userName', value: 'CASE.DUP@x.test' }));
    expect(self.status, self.text).toBe(200);
    expect((await c.get(`/Users/${first.id}`)).body.userName).toBe('CASE.DUP@x.test');
  });

  it('uniqueness and eq fold non-ASCII case too', async () => {
    const u = await newUser('ÉLODIE.ÇA@x.test');
    expectScimError(await c.post('/Users', { userName: 'élodie.ça@X.TEST' }), 409, 'uniqueness');
    const found = await c.get(`/Users?${filter('userName eq "élodie.ça@x.test"')}`);
    expect(found.body.Resources.map((r: any) => r.id)).toEqual([u.id]);
    const co = await c.get(`/Users?${filter('userName co "lodie.ç"')}`);
    expect(co.body.Resources.map((r: any) => r.id)).toEqual([u.id]);
  });

  it('schemas that is not an array of strings → 400 invalidSyntax', async () => {
    expectScimError(await c.post('/Users', { schemas: 'urn:ietf:params:scim:schemas:core:2.0:User', userName: 'schemas@x.test' }), 400, 'invalidSyntax');
  });

  it('duplicate group displayName → 409 uniqueness', async () => {
    expect((await c.post('/Groups', { displayName: 'Dup Group' })).status).toBe(201);
    expectScimError(await c.post('/Groups', { displayName: 'Dup Group' }), 409, 'uniqueness');
  });

  it('group member that is not a user of the connection → 400 invalidValue; a group as member → 400 invalidValue', async () => {
    expectScimError(await c.post('/Groups', { displayName: 'Ghost Members', members: [{ value: 'no-such-user' }] }), 400, 'invalidValue');
    const g = await c.post('/Groups', { displayName: 'Parent' });
    const child = await c.post('/Groups', { displayName: 'Child' });
    expectScimError(await c.patch(`/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: child.body.id }] })), 400, 'invalidValue');
    expectScimError(await c.patch(`/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: 'no-such-user' }] })), 400, 'invalidValue');
    expect((await c.get(`/Groups/${g.body.id}`)).body.members ?? []).toEqual([]);
    expect((await c.get(`/Groups?${filter('displayName eq "Ghost Members"')}`)).body.totalResults).toBe(0);
  });

  it('text/plain body → 415', async () => {
    expectScimError(await c.post('/Users', 'userName=x', { 'content-type': 'text/plain' }), 415);
    expectScimError(await c.post('/Users', '<user/>', { 'content-type': 'application/xml' }), 415);
  });

  it('accepts application/scim+json and application/json with a charset', async () => {
    expect((await c.post('/Users', { userName: 'charset1@x.test' }, { 'content-type': 'application/scim+json; charset=utf-8' })).status).toBe(201);
    expect((await c.post('/Users', { userName: 'charset2@x.test' }, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
  });

  it('body over the limit (>10 MB) → 413', async () => {
    const big = JSON.stringify({ userName: 'big@x.test', displayName: 'x'.repeat(11 * 1024 * 1024) });
    expect(big.length).toBeGreaterThan(10 * 1024 * 1024);
    expectScimError(await c.post('/Users', big), 413);
    expect((await c.get(`/Users?${filter('userName eq "big@x.test"')}`)).body.totalResults).toBe(0);
  });
});

describe('filter errors', () => {
  it('invalid filter → 400 invalidFilter', async () => {
    for (const f of ['userName eq', 'userName xx "a"', '(userName eq "a"', 'userName eq "a" and', 'emails[type eq "work"', '"a" eq userName', 'userName eq "unterminated']) {
      expectScimError(await c.get(`/Users?${filter(f)}`), 400, 'invalidFilter');
    }
  });

  it('over-long and over-deep filters → 400 invalidFilter', async () => {
    const long = Array.from({ length: 400 }, (_, i) => `userName eq "user${i}@example.com"`).join(' or ');
    expect(long.length).toBeGreaterThan(10_000);
    expectScimError(await c.post('/Users/.search', { filter: long }), 400, 'invalidFilter');
    const deep = '('.repeat(200) + 'userName eq "x"' + ')'.repeat(200);
    expectScimError(await c.get(`/Users?${filter(deep)}`), 400, 'invalidFilter');
  });

  it('a flat chain of 100 or-terms (no parentheses, well under the length cap) is not "nested too deeply"', async () => {
    const u = await newUser('w77@x.test');
    const wide = Array.from({ length: 100 }, (_, i) => `userName eq "w${i}@x.test"`).join(' or ');
    expect(wide.length).toBeLessThan(10_000);
    const ok = await c.post('/Users/.search', { filter: wide });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.Resources.map((r: any) => r.id)).toEqual([u.id]);
    const and = Array.from({ length: 70 }, () => 'userName pr').join(' and ');
    const ok2 = await c.get(`/Users?${filter(and)}&count=0`);
    expect(ok2.status, ok2.text).toBe(200);
  });

  it('unknown filter attribute → 400 invalidFilter', async () => {
    expectScimError(await c.get(`/Users?${filter('favouriteColour eq "blue"')}`), 400, 'invalidFilter');
    expectScimError(await c.get(`/Users?${filter('name.nickname eq "x"')}`), 400, 'invalidFilter');
    expectScimError(await c.get(`/Groups?${filter('userName eq "x"')}`), 400, 'invalidFilter');
    expectScimError(await c.get(`/Users?${filter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize eq "x"')}`), 400, 'invalidFilter');
  });

  it('invalid filter through POST /.search → 400 invalidFilter', async () => {
    expectScimError(await c.post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq' }), 400, 'invalidFilter');
  });

  it('a huge startIndex is an empty page or a 400, never a 500', async () => {
    for (const url of ['/Users?startIndex=100000000000000000000', '/Users?startIndex=9223372036854775807', '/Groups?startIndex=100000000000000000000']) {
      const res = await c.get(url);
      expect(res.status, `${url}: ${res.text}`).not.toBe(500);
      if (res.status === 200) expect(res.body.Resources ?? []).toEqual([]);
      else expectScimError(res, 400);
    }
    const search = await c.post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], startIndex: 1e20 });
    expect(search.status, search.text).not.toBe(500);
  });

  it('bad startIndex/count/sortOrder → 400, never 500', async () => {
    expectScimError(await c.get('/Users?count=abc'), 400);
    expectScimError(await c.get('/Users?startIndex=1.5'), 400);
    expectScimError(await c.get('/Users?sortBy=userName&sortOrder=sideways'), 400);
    expectScimError(await c.get('/Users?sortBy=noSuchAttr'), 400);
  });

  it('id eq X and members eq Y on /Groups → 200 with the right answer or 400 invalidFilter, never 500', async () => {
    const u = await newUser('member.check@x.test');
    const other = await newUser('not.member@x.test');
    const g = await c.post('/Groups', { displayName: 'Member Check', members: [{ value: u.id }] });
    expect(g.status).toBe(201);
    for (const [member, expected] of [
      [u.id, 1],
      [other.id, 0],
    ] as const) {
      const res = await c.get(`/Groups?excludedAttributes=members&${filter(`id eq "${g.body.id}" and members eq "${member}"`)}`);
      if (res.status === 400) expectScimError(res, 400, 'invalidFilter');
      else {
        expect(res.status, res.text).toBe(200);
        expect(res.body.totalResults).toBe(expected);
      }
    }
    const mv = await c.get(`/Groups?${filter(`members.value eq "${u.id}"`)}`);
    expect([200, 400]).toContain(mv.status);
    if (mv.status === 200) expect(mv.body.Resources.map((r: any) => r.id)).toEqual([g.body.id]);
  });
});

describe('PATCH errors', () => {
  let user: any;
  beforeAll(async () => {
    user = await newUser('patch.errors@x.test', { displayName: 'Patch Errors', emails: [{ type: 'work', value: 'pe@x.test' }] });
  });

  async function unchanged() {
    const now = await c.get(`/Users/${user.id}`);
    expect(now.body.meta.version).toBe(user.meta.version);
    expect(now.body.displayName).toBe('Patch Errors');
  }

  it('bad path → 400 invalidPath', async () => {
    for (const path of ['emails[type eq "work"', 'name..givenName', 'emails[type eq "work"].', '[value eq "x"]']) {
      expectScimError(await c.patch(`/Users/${user.id}`, patch({ op: 'replace', path, value: 'x' })), 400, 'invalidPath');
    }
    await unchanged();
  });

  it('remove without path → 400 noTarget', async () => {
    expectScimError(await c.patch(`/Users/${user.id}`, patch({ op: 'remove' })), 400, 'noTarget');
    await unchanged();
  });

  it('PATCH of id → 400 mutability', async () => {
    expectScimError(await c.patch(`/Users/${user.id}`, patch({ op: 'replace', path: 'id', value: 'another-id' })), 400, 'mutability');
    await unchanged();
  });

  it('unknown op, missing Operations → 400', async () => {
    expectScimError(await c.patch(`/Users/${user.id}`, patch({ op: 'frobnicate', path: 'displayName', value: 'x' })), 400);
    expectScimError(await c.patch(`/Users/${user.id}`, { schemas: [PATCH_OP] }), 400);
    expectScimError(await c.patch(`/Users/${user.id}`, { schemas: [PATCH_OP], Operations: 'nope' }), 400);
    await unchanged();
  });

  it('a failing op makes the whole PATCH fail (atomic)', async () => {
    const res = await c.patch(
      `/Users/${user.id}`,
      patch({ op: 'replace', path: 'displayName', value: 'Half Applied' }, { op: 'replace', path: 'active', value: 'maybe' }),
    );
    expect(res.status).toBe(400);
    expectScimError(res, 400);
    await unchanged();
  });
});

describe('routing errors', () => {
  it('unknown endpoint → 404 SCIM error', async () => {
    expectScimError(await c.get('/Widgets'), 404);
    expectScimError(await c.post('/Widgets', { a: 1 }), 404);
    expectScimError(await c.get('/Users/some/deep/path'), 404);
  });

  it('unknown user and group ids → 404 SCIM error', async () => {
    expectScimError(await c.get('/Users/00000000-0000-0000-0000-000000000000'), 404);
    expectScimError(await c.delete('/Groups/00000000-0000-0000-0000-000000000000'), 404);
    expectScimError(await c.get('/Schemas/urn:nope'), 404);
  });

  it('bulk is not supported → 501 SCIM error', async () => {
    expectScimError(await c.post('/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }), 501);
  });
});
