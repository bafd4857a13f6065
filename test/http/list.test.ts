/**
 * Listing through HTTP: pagination, sorting, attributes/excludedAttributes,
 * filters (compiled to SQL), POST /.search.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

// A controllable clock: each write happens one minute after the previous one.
let now = Date.parse('2024-03-01T10:00:00.000Z');
const clock = () => new Date(now);
const tick = () => {
  now += 60_000;
  return new Date(now).toISOString();
};

let t: TestApp;
/** The small population the filter tests read. */
let c: ScimClient;
/** 25 users u01…u25 for paging and sorting. */
let p: ScimClient;
const ids: Record<string, string> = {};
const times: Record<string, string> = {};

const enc = encodeURIComponent;

beforeAll(async () => {
  t = await startTestApp({ clock });
  c = scimClient(t.app, await t.connection('Filters'));
  p = scimClient(t.app, await t.connection('Paging'));

  const people: Record<string, Record<string, unknown>> = {
    alice: {
      userName: 'alice@acme.com',
      displayName: 'Alice Anders',
      title: 'Engineer',
      name: { givenName: 'Alice', familyName: 'Anders' },
      emails: [
        { type: 'work', value: 'alice@acme.com', primary: true },
        { type: 'home', value: 'alice@home.example' },
      ],
      [ENTERPRISE]: { department: 'Sales', employeeNumber: '1' },
    },
    bob: {
      userName: 'Bob@Acme.com',
      displayName: 'Bob Brown',
      name: { givenName: 'Bob', familyName: 'Brown' },
      emails: [{ type: 'home', value: 'bob@acme.com' }],
      [ENTERPRISE]: { department: 'Engineering', employeeNumber: '2' },
    },
    carol: {
      userName: 'carol@example.org',
      displayName: 'Carol Chen',
      title: 'Manager',
      name: { givenName: 'Carol', familyName: 'Chen' },
      emails: [{ type: 'work', value: 'carol@example.org', primary: true }],
      [ENTERPRISE]: { department: 'Sales', employeeNumber: '3' },
    },
    dave: {
      userName: 'dave@acme.com',
      active: false,
    },
  };
  for (const [key, body] of Object.entries(people)) {
    times[key] = tick();
    const res = await c.post('/Users', { schemas: [CORE_USER, ENTERPRISE], ...body });
    expect(res.status, res.text).toBe(201);
    expect(res.body.meta.lastModified).toBe(times[key]);
    ids[key] = res.body.id;
  }
  tick();
  const g = await c.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Search Group', members: [{ value: ids.alice }] });
  expect(g.status, g.text).toBe(201);
  ids.group = g.body.id;

  for (let i = 1; i <= 25; i++) {
    tick();
    const res = await p.post('/Users', { userName: `u${String(i).padStart(2, '0')}` });
    expect(res.status, res.text).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
});

async function names(client: ScimClient, query: string): Promise<string[]> {
  const res = await client.get(`/Users?${query}`);
  expect(res.status, res.text).toBe(200);
  expect(res.body.schemas).toEqual([LIST]);
  expect(res.body.itemsPerPage).toBe(res.body.Resources.length);
  return res.body.Resources.map((r: any) => r.userName);
}

async function matching(f: string): Promise<string[]> {
  const res = await c.get(`/Users?filter=${enc(f)}&count=1000`);
  expect(res.status, `${f}: ${res.text}`).toBe(200);
  expect(res.body.totalResults).toBe(res.body.Resources.length);
  const byId = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  return res.body.Resources.map((r: any) => byId[r.id]).sort();
}

describe('pagination', () => {
  it('defaults: startIndex 1, every user (fewer than the default count of 100)', async () => {
    const res = await p.get('/Users');
    expect(res.body.totalResults).toBe(25);
    expect(res.body.startIndex).toBe(1);
    expect(res.body.itemsPerPage).toBe(25);
  });

  it('startIndex and count page through in creation order', async () => {
    expect(await names(p, 'startIndex=1&count=10')).toEqual(Array.from({ length: 10 }, (_, i) => `u${String(i + 1).padStart(2, '0')}`));
    expect(await names(p, 'startIndex=11&count=10')).toEqual(Array.from({ length: 10 }, (_, i) => `u${String(i + 11).padStart(2, '0')}`));
    const last = await p.get('/Users?startIndex=21&count=10');
    expect(last.body.totalResults).toBe(25);
    expect(last.body.startIndex).toBe(21);
    expect(last.body.itemsPerPage).toBe(5);
    expect(last.body.Resources.map((r: any) => r.userName)).toEqual(['u21', 'u22', 'u23', 'u24', 'u25']);
  });

  it('count=0 gives totalResults only', async () => {
    const res = await p.get('/Users?count=0');
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(25);
    expect(res.body.itemsPerPage).toBe(0);
    expect(res.body.Resources ?? []).toEqual([]);
    const f = await p.get(`/Users?count=0&filter=${enc('userName sw "u1"')}`);
    expect(f.body.totalResults).toBe(10);
    expect(f.body.Resources ?? []).toEqual([]);
  });

  it('startIndex below 1 reads as 1, a negative count as 0, a huge count is capped (not refused)', async () => {
    const zero = await p.get('/Users?startIndex=0&count=2');
    expect(zero.body.startIndex).toBe(1);
    expect(zero.body.Resources.map((r: any) => r.userName)).toEqual(['u01', 'u02']);
    const neg = await p.get('/Users?count=-5');
    expect(neg.status).toBe(200);
    expect(neg.body.itemsPerPage).toBe(0);
    expect(neg.body.totalResults).toBe(25);
    const huge = await p.get('/Users?count=5000');
    expect(huge.status).toBe(200);
    expect(huge.body.itemsPerPage).toBe(25);
  });

  it('filter with paging: totalResults counts all matches', async () => {
    const res = await p.get(`/Users?filter=${enc('userName sw "u1"')}&startIndex=3&count=4`);
    expect(res.body.totalResults).toBe(10);
    expect(res.body.itemsPerPage).toBe(4);
    expect(res.body.Resources.map((r: any) => r.userName)).toEqual(['u12', 'u13', 'u14', 'u15']);
  });
});

describe('sorting', () => {
  it('sortBy=userName&sortOrder=descending', async () => {
    expect(await names(p, 'sortBy=userName&sortOrder=descending&count=3')).toEqual(['u25', 'u24', 'u23']);
    expect(await names(p, 'sortBy=userName&sortOrder=descending&startIndex=24&count=5')).toEqual(['u02', 'u01']);
  });

  it('sortBy=userName ascending by default, case-insensitively', async () => {
    expect(await names(c, 'sortBy=userName')).toEqual(['alice@acme.com', 'Bob@Acme.com', 'carol@example.org', 'dave@acme.com']);
    expect(await names(c, 'sortBy=userName&sortOrder=ascending&startIndex=2&count=2')).toEqual(['Bob@Acme.com', 'carol@example.org']);
  });

  it('sortBy a sub-attribute and an extension attribute', async () => {
    expect(await names(c, `sortBy=name.familyName&sortOrder=descending&filter=${enc('name.familyName pr')}`)).toEqual([
      'carol@example.org',
      'Bob@Acme.com',
      'alice@acme.com',
    ]);
    expect(await names(c, `sortBy=${enc(`${ENTERPRISE}:employeeNumber`)}&sortOrder=descending&filter=${enc('employeeNumber pr')}`)).toEqual([
      'carol@example.org',
      'Bob@Acme.com',
      'alice@acme.com',
    ]);
  });
});

describe('attributes and excludedAttributes', () => {
  it('attributes=userName,emails returns only those (plus id and schemas)', async () => {
    const res = await c.get(`/Users/${ids.alice}?attributes=userName,emails`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['emails', 'id', 'schemas', 'userName']);
    expect(res.body.userName).toBe('alice@acme.com');
    expect(res.body.emails).toHaveLength(2);

    const list = await c.get(`/Users?attributes=userName,emails&filter=${enc('userName eq "alice@acme.com"')}`);
    expect(Object.keys(list.body.Resources[0]).sort()).toEqual(['emails', 'id', 'schemas', 'userName']);
  });

  it('excludedAttributes=emails drops only emails', async () => {
    const res = await c.get(`/Users/${ids.alice}?excludedAttributes=emails`);
    expect(res.body).not.toHaveProperty('emails');
    expect(res.body.userName).toBe('alice@acme.com');
    expect(res.body.name).toEqual({ givenName: 'Alice', familyName: 'Anders' });
    expect(res.body.id).toBe(ids.alice);
    expect(res.body.meta.resourceType).toBe('User');
    expect(res.body[ENTERPRISE]).toEqual({ department: 'Sales', employeeNumber: '1' });
  });

  it('attributes=name.givenName returns the sub-attribute only', async () => {
    const res = await c.get(`/Users/${ids.alice}?attributes=name.givenName`);
    expect(res.body.name).toEqual({ givenName: 'Alice' });
    expect(res.body).not.toHaveProperty('userName');
    expect(res.body).not.toHaveProperty('emails');
    expect(res.body.id).toBe(ids.alice);
  });

  it('attributes=<enterprise URN>:department returns the extension with only department', async () => {
    const res = await c.get(`/Users/${ids.alice}?attributes=${enc(`${ENTERPRISE}:department`)}`);
    expect(res.status).toBe(200);
    expect(res.body[ENTERPRISE]).toEqual({ department: 'Sales' });
    expect(res.body).not.toHaveProperty('userName');
    expect(res.body.id).toBe(ids.alice);
  });

  it('attribute names are case-insensitive; POST and PUT honour them too', async () => {
    const res = await c.get(`/Users/${ids.alice}?attributes=USERNAME,Name.GivenName`);
    expect(res.body.userName).toBe('alice@acme.com');
    expect(res.body.name).toEqual({ givenName: 'Alice' });
    const post = await c.post('/Users?attributes=userName', { userName: 'projected@x.test', displayName: 'Hidden' });
    expect(post.status).toBe(201);
    expect(Object.keys(post.body).sort()).toEqual(['id', 'schemas', 'userName']);
    await c.delete(`/Users/${post.body.id}`);
  });

  it('groups: excludedAttributes=members on GET and list', async () => {
    const one = await c.get(`/Groups/${ids.group}?excludedAttributes=members`);
    expect(one.body).not.toHaveProperty('members');
    expect(one.body.displayName).toBe('Search Group');
    const full = await c.get(`/Groups/${ids.group}`);
    expect(full.body.members.map((m: any) => m.value)).toEqual([ids.alice]);
    const attrs = await c.get(`/Groups?attributes=displayName`);
    expect(Object.keys(attrs.body.Resources[0]).sort()).toEqual(['displayName', 'id', 'schemas']);
  });
});

describe('filters', () => {
  it('co, sw, ew (case-insensitive for userName)', async () => {
    expect(await matching('userName co "acme"')).toEqual(['alice', 'bob', 'dave']);
    expect(await matching('userName sw "CA"')).toEqual(['carol']);
    expect(await matching('userName ew "@acme.com"')).toEqual(['alice', 'bob', 'dave']);
    expect(await matching('displayName co "O"')).toEqual(['bob', 'carol']);
  });

  it('pr', async () => {
    expect(await matching('title pr')).toEqual(['alice', 'carol']);
    expect(await matching('emails pr')).toEqual(['alice', 'bob', 'carol']);
    expect(await matching('not (emails pr)')).toEqual(['dave']);
  });

  it('gt, ge, lt, le on meta.lastModified', async () => {
    // Alice joined "Search Group" after Dave was created: joining a group changes her
    // `groups`, so her lastModified is the latest of all.
    expect(await matching(`meta.lastModified gt "${times.bob}"`)).toEqual(['alice', 'carol', 'dave']);
    expect(await matching(`meta.lastModified ge "${times.bob}"`)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(await matching(`meta.lastModified lt "${times.carol}"`)).toEqual(['bob']);
    expect(await matching(`meta.lastModified le "${times.bob}"`)).toEqual(['bob']);
    expect(await matching(`meta.created gt "${times.carol}"`)).toEqual(['dave']);
    expect(await matching(`meta.lastModified gt "${times.alice}" and meta.lastModified lt "${times.dave}"`)).toEqual(['bob', 'carol']);
  });

  it('value filter: emails[type eq "work" and value co "@acme.com"]', async () => {
    expect(await matching('emails[type eq "work" and value co "@acme.com"]')).toEqual(['alice']);
    expect(await matching('emails[type eq "home" and value co "@acme.com"]')).toEqual(['bob']);
    expect(await matching('emails[type eq "work"]')).toEqual(['alice', 'carol']);
    expect(await matching('emails.value eq "ALICE@home.example"')).toEqual(['alice']);
    expect(await matching('emails eq "carol@example.org"')).toEqual(['carol']);
    expect(await matching('emails.type eq "home"')).toEqual(['alice', 'bob']);
  });

  it('enterprise department with and without the URN', async () => {
    expect(await matching(`${ENTERPRISE}:department eq "Sales"`)).toEqual(['alice', 'carol']);
    expect(await matching('department eq "sales"')).toEqual(['alice', 'carol']);
    expect(await matching(`${ENTERPRISE}:department ne "Sales"`)).toEqual(['bob', 'dave']);
  });

  it('not (…), or, and, precedence and grouping', async () => {
    expect(await matching('not (userName co "acme")')).toEqual(['carol']);
    expect(await matching('userName eq "alice@acme.com" or userName eq "carol@example.org"')).toEqual(['alice', 'carol']);
    expect(await matching('title pr and department eq "Sales"')).toEqual(['alice', 'carol']);
    expect(await matching('title eq "Engineer" or title eq "Manager" and department eq "Engineering"')).toEqual(['alice']);
    expect(await matching('(title eq "Engineer" or title eq "Manager") and not (department eq "Engineering")')).toEqual(['alice', 'carol']);
    expect(await matching('not (title eq "Engineer")')).toEqual(['bob', 'carol', 'dave']);
  });

  it('case-insensitive userName eq, operators and attribute names', async () => {
    expect(await matching('userName eq "bob@acme.com"')).toEqual(['bob']);
    expect(await matching('userName eq "ALICE@ACME.COM"')).toEqual(['alice']);
    expect(await matching('USERNAME EQ "Carol@Example.org"')).toEqual(['carol']);
    expect(await matching('name.familyName eq "anders"')).toEqual(['alice']);
  });

  it('active, id and externalId', async () => {
    expect(await matching('active eq false')).toEqual(['dave']);
    expect(await matching('active eq true')).toEqual(['alice', 'bob', 'carol']);
    expect(await matching(`id eq "${ids.bob}"`)).toEqual(['bob']);
    expect(await matching(`id eq "${ids.bob.toUpperCase()}"`)).toEqual([]);
  });

  it('groups by members and displayName', async () => {
    const res = await c.get(`/Groups?filter=${enc(`members.value eq "${ids.alice}"`)}`);
    expect(res.status).toBe(200);
    expect(res.body.Resources.map((r: any) => r.id)).toEqual([ids.group]);
    const byName = await c.get(`/Groups?filter=${enc('displayName eq "search group"')}`);
    expect(byName.body.Resources.map((r: any) => r.id)).toEqual([ids.group]);
    const user = await c.get(`/Users?filter=${enc(`groups.value eq "${ids.group}"`)}`);
    expect([200, 400]).toContain(user.status);
    if (user.status === 200) expect(user.body.Resources.map((r: any) => r.id)).toEqual([ids.alice]);
  });
});

describe('POST .search', () => {
  it('POST /Users/.search with filter, attributes, sorting and paging', async () => {
    const res = await c.post('/Users/.search', {
      schemas: [SEARCH],
      filter: `${ENTERPRISE}:department eq "Sales"`,
      attributes: ['userName'],
      sortBy: 'userName',
      sortOrder: 'descending',
      startIndex: 1,
      count: 10,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual([LIST]);
    expect(res.body.totalResults).toBe(2);
    expect(res.body.Resources.map((r: any) => r.userName)).toEqual(['carol@example.org', 'alice@acme.com']);
    expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);

    const page = await c.post('/Users/.search', { schemas: [SEARCH], startIndex: 2, count: 1, sortBy: 'userName' });
    expect(page.body.totalResults).toBe(4);
    expect(page.body.startIndex).toBe(2);
    expect(page.body.Resources.map((r: any) => r.userName)).toEqual(['Bob@Acme.com']);

    const excluded = await c.post('/Users/.search', { schemas: [SEARCH], filter: 'userName eq "alice@acme.com"', excludedAttributes: ['emails'] });
    expect(excluded.body.Resources[0]).not.toHaveProperty('emails');
    expect(excluded.body.Resources[0].userName).toBe('alice@acme.com');
  });

  it('POST /Groups/.search', async () => {
    const res = await c.post('/Groups/.search', { schemas: [SEARCH], filter: 'displayName sw "Search"', excludedAttributes: ['members'] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.Resources.map((r: any) => r.id)).toEqual([ids.group]);
    expect(res.body.Resources[0]).not.toHaveProperty('members');
  });

  it('root POST /.search across resource types', async () => {
    const all = await c.post('/.search', { schemas: [SEARCH] });
    expect(all.status, all.text).toBe(200);
    expect(all.body.totalResults).toBe(5);
    const types = all.body.Resources.map((r: any) => r.meta.resourceType).sort();
    expect(types).toEqual(['Group', 'User', 'User', 'User', 'User']);

    const users = await c.post('/.search', { schemas: [SEARCH], filter: 'userName sw "alice"' });
    expect(users.status, users.text).toBe(200);
    expect(users.body.totalResults).toBe(1);
    expect(users.body.Resources[0].id).toBe(ids.alice);

    const groups = await c.post('/.search', { schemas: [SEARCH], filter: 'displayName eq "Search Group"' });
    expect(groups.status, groups.text).toBe(200);
    expect(groups.body.Resources.map((r: any) => r.id)).toEqual([ids.group]);

    const either = await c.post('/.search', { schemas: [SEARCH], filter: 'displayName sw "Alice" or displayName sw "Search"' });
    expect(either.status, either.text).toBe(200);
    expect(either.body.Resources.map((r: any) => r.id).sort()).toEqual([ids.alice, ids.group].sort());

    const paged = await c.post('/.search', { schemas: [SEARCH], startIndex: 4, count: 2 });
    expect(paged.body.totalResults).toBe(5);
    expect(paged.body.itemsPerPage).toBe(2);
    expect(paged.body.Resources.map((r: any) => r.meta.resourceType)).toEqual(['User', 'Group']);
  });
});
