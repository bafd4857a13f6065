/**
 * Cost bounds (scim/limits.ts): one authenticated client must not be able to stall
 * the shared server or bloat its storage. Each limit is tried over HTTP as an
 * attacker with a valid token would, on every backend: the refusal is SCIM's 400
 * naming the limit, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';
import { loadConfig } from '../../src/config.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const LIMITS = 'urn:rollcall:params:scim:schemas:extension:limits:1.0';

let t: TestApp;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('Limits'));
});
afterAll(async () => {
  await t?.close();
});

function expectRefusal(res: { status: number; body: any; text: string }, scimType: string, code: string, detail: RegExp) {
  expect(res.status, res.text.slice(0, 300)).toBe(400);
  expect(res.body.scimType).toBe(scimType);
  expect(res.body['urn:rollcall:params:scim:api:messages:2.0:Error'].code).toBe(code);
  expect(res.body.detail).toMatch(detail);
}

describe('PATCH cost bounds', () => {
  it('a PATCH of 5,000 operations on a user (~300 kB, under the body limit) is refused as too many, nothing changed', async () => {
    const u = await c.post('/Users', { userName: 'many.ops@x.test' });
    const Operations = Array.from({ length: 5000 }, (_, i) => ({ op: 'add', path: 'emails', value: [{ value: `e${i}@x.test` }] }));
    const body = JSON.stringify({ schemas: [PATCH_OP], Operations });
    expect(body.length).toBeLessThan(400_000);
    const res = await c.patch(`/Users/${u.body.id}`, body);
    expectRefusal(res, 'tooMany', 'ROLLCALL_PATCH_TOO_MANY_OPERATIONS', /at most 100 operations/);
    expect((await c.get(`/Users/${u.body.id}`)).body.emails).toBeUndefined();
  });

  it("the issue's attack: 100 operations each appending 200 e-mails is refused before any runs (20,000 values), nothing changed", async () => {
    const u = await c.post('/Users', { userName: 'appender@x.test', emails: [{ value: 'appender@x.test', primary: true }] });
    const Operations = Array.from({ length: 100 }, (_, i) => ({
      op: 'add',
      path: 'emails',
      value: Array.from({ length: 200 }, (_, j) => ({ value: `e${i}-${j}@x.test` })),
    }));
    const res = await c.patch(`/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations });
    expectRefusal(res, 'tooMany', 'ROLLCALL_PATCH_TOO_MANY_VALUES', /carries 20000 values; at most 1000 .*ROLLCALL_MAX_PATCH_VALUES/);
    expect((await c.get(`/Users/${u.body.id}`)).body.emails).toHaveLength(1);
  });

  it('operations that grow a list past its cap are refused at the operation that crosses it, nothing changed', async () => {
    const u = await c.post('/Users', { userName: 'grower@x.test', emails: [{ value: 'grower@x.test', primary: true }] });
    const Operations = Array.from({ length: 10 }, (_, i) => ({ op: 'add', path: 'emails', value: Array.from({ length: 20 }, (_, j) => ({ value: `g${i}-${j}@x.test` })) }));
    const res = await c.patch(`/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations });
    expectRefusal(res, 'invalidValue', 'ROLLCALL_TOO_MANY_VALUES', /^Operations\[4\]: Attribute 'emails' has 101 values; at most 100/);
    expect((await c.get(`/Users/${u.body.id}`)).body.emails).toHaveLength(1);
  });

  it('operations on group members do not count against the operation cap (the member cap bounds them)', async () => {
    const users: string[] = [];
    for (let i = 0; i < 150; i++) users.push((await c.post('/Users', { userName: `op-member${i}@x.test` })).body.id);
    const g = await c.post('/Groups', { displayName: 'Many member operations' });
    const add = await c.patch(`/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: users.map((value) => ({ op: 'add', path: 'members', value: [{ value }] })) });
    expect(add.status, add.text.slice(0, 200)).toBeLessThan(300);
    const remove = await c.patch(`/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: users.slice(0, 120).map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })) });
    expect(remove.status, remove.text.slice(0, 200)).toBeLessThan(300);
    expect((await c.get(`/Groups/${g.body.id}`)).body.members).toHaveLength(30);
    const renames = Array.from({ length: 101 }, (_, i) => ({ op: 'replace', path: 'displayName', value: `Name ${i}` }));
    expectRefusal(await c.patch(`/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: renames }), 'tooMany', 'ROLLCALL_PATCH_TOO_MANY_OPERATIONS', /this one has 101/);
  });

  it('values up to the cap in one operation are applied', async () => {
    const u = await c.post('/Users', { userName: 'one.op@x.test' });
    const res = await c.patch(`/Users/${u.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'emails', value: Array.from({ length: 100 }, (_, i) => ({ value: `e${i}@x.test` })) }],
    });
    expect(res.status).toBe(200);
    expect(res.body.emails).toHaveLength(100);
  });

  it('a changed value longer than the cap is refused; identifiers have a lower cap than other strings', async () => {
    const u = await c.post('/Users', { userName: 'lengths@x.test' });
    const patch = (path: string, value: unknown) => c.patch(`/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] });
    expectRefusal(await patch('userName', `${'u'.repeat(1100)}@x.test`), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'userName' is 1107 characters long; an identifier may have at most 1024 \(ROLLCALL_MAX_IDENTIFIER_LENGTH\)/);
    expectRefusal(await patch('externalId', 'x'.repeat(1025)), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'externalId'/);
    expect((await patch('title', 't'.repeat(5000))).status).toBe(200);
    expectRefusal(await patch('title', 't'.repeat(70_000)), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'title' is 70000 characters long; a value may have at most 65536 \(ROLLCALL_MAX_VALUE_LENGTH\)/);
    const got = await c.get(`/Users/${u.body.id}`);
    expect(got.body.userName).toBe('lengths@x.test');
    expect(got.body.title).toHaveLength(5000);
  });
});

describe('POST and PUT cost bounds', () => {
  it('a long userName, a long title and too many e-mails are refused naming the limit; a 1 MB userName, a 9 MB title and 100,000 e-mails pass the body limit first, nothing stored', async () => {
    expectRefusal(await c.post('/Users', { userName: 'u'.repeat(2000) }), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'userName' is 2000 characters/);
    expectRefusal(await c.post('/Users', { userName: 'title@x.test', title: 't'.repeat(70_000) }), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'title'/);
    const emails = Array.from({ length: 1000 }, (_, i) => ({ value: `e${i}@x.test` }));
    expectRefusal(await c.post('/Users', { userName: 'mails@x.test', emails }), 'invalidValue', 'ROLLCALL_TOO_MANY_VALUES', /'emails' has 1000 values; at most 100 are accepted \(ROLLCALL_MAX_VALUES_PER_ATTRIBUTE\)/);
    // The issue's sizes are over the 1 MiB body limit: refused before they are parsed.
    for (const body of [{ userName: 'u'.repeat(1024 * 1024) }, { userName: 'big@x.test', title: 't'.repeat(9 * 1024 * 1024) }, { userName: 'many@x.test', emails: Array.from({ length: 100_000 }, (_, i) => ({ value: `e${i}@x.test` })) }]) {
      const res = await c.post('/Users', body);
      expect(res.status).toBe(413);
      expect(res.body['urn:rollcall:params:scim:api:messages:2.0:Error'].code).toBe('ROLLCALL_BODY_TOO_LARGE');
    }
    const list = await c.get(`/Users?filter=${encodeURIComponent('userName eq "title@x.test" or userName eq "mails@x.test" or userName eq "big@x.test" or userName eq "many@x.test"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('the caps hold inside extension attributes and sub-attributes, and on PUT', async () => {
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    expectRefusal(await c.post('/Users', { userName: 'ext@x.test', [ENT]: { department: 'd'.repeat(70_000) } }), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', new RegExp(`'${ENT}:department'`));
    expectRefusal(await c.post('/Users', { userName: 'mgr@x.test', [ENT]: { manager: { value: 'm'.repeat(2000) } } }), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /manager\.value' is 2000 characters long; an identifier/);
    expectRefusal(await c.post('/Users', { userName: 'name@x.test', name: { givenName: 'g'.repeat(70_000) } }), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'name\.givenName'/);
    const u = await c.post('/Users', { userName: 'put@x.test' });
    expectRefusal(await c.put(`/Users/${u.body.id}`, { userName: 'put@x.test', phoneNumbers: Array.from({ length: 101 }, (_, i) => ({ value: `+49 ${i}` })) }), 'invalidValue', 'ROLLCALL_TOO_MANY_VALUES', /'phoneNumbers' has 101 values/);
    expect((await c.get(`/Users/${u.body.id}`)).body.phoneNumbers).toBeUndefined();
  });

  it("a group's displayName is an identifier; members are capped per request, not per group", async () => {
    expectRefusal(await c.post('/Groups', { displayName: 'g'.repeat(1025) }), 'invalidValue', 'ROLLCALL_VALUE_TOO_LONG', /'displayName'/);
    const members = Array.from({ length: 1001 }, (_, i) => ({ value: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
    expectRefusal(await c.post('/Groups', { displayName: 'Too many', members }), 'invalidValue', 'ROLLCALL_TOO_MANY_MEMBERS', /names 1001 group members; at most 1000/);
    const g = await c.post('/Groups', { displayName: 'Paged in' });
    expect(g.status).toBe(201);
    const users = [];
    for (let i = 0; i < 3; i++) users.push((await c.post('/Users', { userName: `member${i}@x.test` })).body.id);
    const add = await c.patch(`/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: users.map((value) => ({ value })) }] });
    expect(add.status, add.text).toBeLessThan(300);
    expect((await c.get(`/Groups/${g.body.id}`)).body.members).toHaveLength(3);
  });
});

describe('list and search cost bounds', () => {
  it('excludedAttributes with 100,000 entries is refused before it is split; repeats are removed before counting', async () => {
    const huge = Array.from({ length: 100_000 }, () => 'title').join(',');
    const res = await c.post('/Users/.search', { schemas: [SEARCH], excludedAttributes: huge });
    expectRefusal(res, 'invalidValue', 'ROLLCALL_TOO_MANY_PROJECTION_ATTRIBUTES', /'excludedAttributes' lists more than 1000 entries; at most 100/);
    expectRefusal(await c.post('/Users/.search', { schemas: [SEARCH], attributes: Array.from({ length: 1001 }, () => 'title') }), 'invalidValue', 'ROLLCALL_TOO_MANY_PROJECTION_ATTRIBUTES', /more than 1000 entries/);
    // 500 repeats of two attributes is two attributes.
    const u = await c.post('/Users', { userName: 'projected@x.test', title: 'Boss', displayName: 'P' });
    const repeated = Array.from({ length: 500 }, () => 'title,DisplayName').join(',');
    const got = await c.get(`/Users/${u.body.id}?excludedAttributes=${repeated}`);
    expect(got.status, got.text.slice(0, 200)).toBe(200);
    expect(got.body.title).toBeUndefined();
    expect(got.body.displayName).toBeUndefined();
    expect(got.body.userName).toBe('projected@x.test');
    const distinct = Array.from({ length: 101 }, (_, i) => `attr${i}`).join(',');
    expectRefusal(await c.get(`/Users?attributes=${distinct}`), 'invalidValue', 'ROLLCALL_TOO_MANY_PROJECTION_ATTRIBUTES', /'attributes' lists 101 distinct attributes/);
  });

  it('a filter of more than 100 terms, deeper than 20 levels or longer than 10,000 characters is refused with invalidFilter', async () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `displayName co "x${i}"`).join(' or ');
    expect((await c.get(`/Users?filter=${encodeURIComponent(terms(100))}`)).status).toBe(200);
    expectRefusal(await c.get(`/Users?filter=${encodeURIComponent(Array.from({ length: 500 }, () => 'id pr').join(' or '))}`), 'invalidFilter', 'ROLLCALL_FILTER_TOO_COMPLEX', /more than 100 terms \(ROLLCALL_MAX_FILTER_TERMS\)/);
    expectRefusal(await c.get(`/Users?filter=${encodeURIComponent(`${'('.repeat(21)}userName pr${')'.repeat(21)}`)}`), 'invalidFilter', 'ROLLCALL_FILTER_TOO_COMPLEX', /deeper than 20 levels/);
    // An escaped U+0000 in a filter string: refused alike on every backend (PostgreSQL cannot compare it).
    expectRefusal(await c.post('/Users/.search', { schemas: [SEARCH], filter: 'userName eq "a\\u0000"' }), 'invalidFilter', 'ROLLCALL_INVALID_FILTER_SYNTAX', /U\+0000/);
    const long = await c.post('/Users/.search', { schemas: [SEARCH], filter: `userName eq "${'x'.repeat(10_000)}"` });
    expectRefusal(long, 'invalidFilter', 'ROLLCALL_FILTER_TOO_LONG', /longer than 10000/);
  });
});

describe('configured limits', () => {
  it('ROLLCALL_MAX_* set the limits, refuse values below their minimum, and /ServiceProviderConfig advertises them', async () => {
    const cfg = loadConfig({ ROLLCALL_MAX_VALUES_PER_ATTRIBUTE: '20', ROLLCALL_MAX_FILTER_TERMS: '10' });
    expect(cfg.limits.valuesPerAttribute).toBe(20);
    expect(cfg.limits.filterTerms).toBe(10);
    expect(cfg.limits.identifierLength).toBe(1024);
    expect(() => loadConfig({ ROLLCALL_MAX_VALUES_PER_ATTRIBUTE: '5' })).toThrow(/ROLLCALL_MAX_VALUES_PER_ATTRIBUTE must be between 10 and/);
    expect(() => loadConfig({ ROLLCALL_MAX_VALUE_LENGTH: 'lots' })).toThrow(/ROLLCALL_MAX_VALUE_LENGTH must be an integer/);

    const small = await startTestApp({ limits: { valuesPerAttribute: 20, filterTerms: 10 } });
    try {
      const s = scimClient(small.app, await small.connection('Small'));
      const spc = await s.get('/ServiceProviderConfig');
      expect(spc.body[LIMITS].maxValuesPerAttribute).toBe(20);
      expect(spc.body[LIMITS].maxFilterTerms).toBe(10);
      expectRefusal(await s.post('/Users', { userName: 'a@x.test', emails: Array.from({ length: 21 }, (_, i) => ({ value: `e${i}@x.test` })) }), 'invalidValue', 'ROLLCALL_TOO_MANY_VALUES', /at most 20/);
      expectRefusal(await s.get(`/Users?filter=${encodeURIComponent(Array.from({ length: 11 }, () => 'id pr').join(' or '))}`), 'invalidFilter', 'ROLLCALL_FILTER_TOO_COMPLEX', /more than 10 terms/);
    } finally {
      await small.close();
    }
  });
});
