/**
 * Inputs refused alike on both backends, before anything is stored: request
 * bodies that are not UTF-8, numbers beyond the double range, U+0000 (which
 * PostgreSQL cannot store and SQLite can), on SCIM POST/PUT/PATCH and the admin
 * API; and CSV files that are not UTF-8, with an unclear delimiter, or with rows
 * whose e-mail address is none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp, type TestConnection } from '../support/app.js';
import { ROLLCALL_ERROR_SCHEMA, hasCode } from '../../src/scim/errors.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let c: ScimClient;
let conn: TestConnection;
let adminKey: string;

beforeAll(async () => {
  t = await startTestApp();
  conn = await t.connection('Inputs');
  c = scimClient(t.app, conn);
  adminKey = (await t.rc.admin.ensure()).token!;
});
afterAll(async () => {
  await t?.close();
});

function expectScimRefusal(res: { status: number; body: any; headers: Record<string, unknown> }, scimType: string, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(String(res.headers['content-type'])).toMatch(/^application\/scim\+json/);
  expect(res.body.scimType).toBe(scimType);
  expect(res.body[ROLLCALL_ERROR_SCHEMA]).toEqual({ code });
}

async function raw(method: string, url: string, payload: Buffer | string, contentType = 'application/scim+json') {
  const res = await t.app.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${conn.token}`, 'content-type': contentType } });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

async function admin(method: string, url: string, payload: Buffer | string) {
  const res = await t.app.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.json() };
}

async function userCount(): Promise<number> {
  return (await c.get('/Users?count=0')).body.totalResults;
}

describe('JSON bodies', () => {
  it('bytes that are not UTF-8 are a 400 invalidSyntax, not stored with U+FFFD', async () => {
    const before = await userCount();
    const latin1 = Buffer.from('{"userName":"j\xfcrgen@example.test"}', 'latin1');
    const res = await raw('POST', `${conn.base}/Users`, latin1, 'application/scim+json; charset=iso-8859-1');
    expectScimRefusal(res, 'invalidSyntax', 'ROLLCALL_INVALID_UTF8');
    expect(res.body.detail).toMatch(/UTF-8/);
    expect(res.body.detail).toMatch(/charset=iso-8859-1/);
    expect(await userCount()).toBe(before);
    // The same bytes, in UTF-8 and behind a byte order mark, are a user.
    const ok = await raw('POST', `${conn.base}/Users`, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"userName":"jürgen@example.test"}')]));
    expect(ok.status).toBe(201);
    expect(ok.body.userName).toBe('jürgen@example.test');
  });

  it('a number beyond the double range is refused naming its path, on POST, PUT and PATCH; nothing stores Infinity or null', async () => {
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const post = await raw('POST', `${conn.base}/Users`, `{"userName":"big@example.test","${ENT}":{"employeeNumber":1e400}}`);
    expectScimRefusal(post, 'invalidValue', 'ROLLCALL_NUMBER_OUT_OF_RANGE');
    expect(post.body.detail).toContain(`'${ENT}:employeeNumber'`);
    const u = await c.post('/Users', { userName: 'range@example.test' });
    const put = await raw('PUT', `${conn.base}/Users/${u.body.id}`, '{"userName":"range@example.test","x":[-1e999]}');
    expectScimRefusal(put, 'invalidValue', 'ROLLCALL_NUMBER_OUT_OF_RANGE');
    expect(put.body.detail).toContain("'x[0]'");
    const patch = await raw('PATCH', `${conn.base}/Users/${u.body.id}`, `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","path":"title","value":1e309}]}`);
    expectScimRefusal(patch, 'invalidValue', 'ROLLCALL_NUMBER_OUT_OF_RANGE');
    expect(patch.body.detail).toContain("'Operations[0].value'");
    const stored = await c.get(`/Users/${u.body.id}`);
    expect(JSON.stringify(stored.body)).not.toMatch(/Infinity|"title"/);
    expect(await c.get('/Users?filter=userName%20eq%20%22big@example.test%22')).toMatchObject({ body: { totalResults: 0 } });
  });

  it('U+0000 is refused as invalidValue naming the attribute, on POST, PUT, PATCH and .search alike', async () => {
    const before = await userCount();
    const post = await raw('POST', `${conn.base}/Users`, '{"userName":"nul@example.test","name":{"givenName":"A\\u0000da"}}');
    expectScimRefusal(post, 'invalidValue', 'ROLLCALL_NUL_CHARACTER');
    expect(post.body.detail).toContain("'name.givenName'");
    expect(await userCount()).toBe(before);
    const u = await c.post('/Users', { userName: 'nul.target@example.test' });
    const put = await raw('PUT', `${conn.base}/Users/${u.body.id}`, '{"userName":"nul.target@example.test","displayName":"\\u0000"}');
    expectScimRefusal(put, 'invalidValue', 'ROLLCALL_NUL_CHARACTER');
    const patch = await raw('PATCH', `${conn.base}/Users/${u.body.id}`, `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","value":{"nick\\u0000Name":"x"}}]}`);
    expectScimRefusal(patch, 'invalidValue', 'ROLLCALL_NUL_CHARACTER');
    expect(patch.body.detail).toContain('"nick\\u0000Name"');
    const group = await raw('POST', `${conn.base}/Groups`, '{"displayName":"Team\\u0000"}');
    expectScimRefusal(group, 'invalidValue', 'ROLLCALL_NUL_CHARACTER');
    const search = await raw('POST', `${conn.base}/Users/.search`, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \\"a\\u0000\\""}');
    expectScimRefusal(search, 'invalidValue', 'ROLLCALL_NUL_CHARACTER');
    expect((await c.get(`/Users/${u.body.id}`)).body.displayName).toBeUndefined();
  });

  it('a body nested deeper than 32 levels is refused before anything recursive sees it (no stack overflow anywhere, the log included)', async () => {
    const deep = (n: number) => '{"userName":"deep@example.test","title":' + '['.repeat(n) + '"x"' + ']'.repeat(n) + '}';
    const res = await raw('POST', `${conn.base}/Users`, deep(100_000));
    expectScimRefusal(res, 'invalidSyntax', 'ROLLCALL_BODY_TOO_DEEP');
    expect(res.body.detail).toMatch(/nested deeper than 32 levels/);
    // Within the bound the usual type check answers.
    expectScimRefusal(await raw('POST', `${conn.base}/Users`, deep(20)), 'invalidSyntax', 'ROLLCALL_ATTRIBUTE_TYPE_MISMATCH');
  });

  it('%00 in a path id or a filter is the same 400 on both backends, not a 500 on PostgreSQL', async () => {
    for (const url of ['/Users/%00', '/Groups/a%00b', '/Users?filter=userName%20eq%20%22a%00b%22']) {
      const res = await raw('GET', `${conn.base}${url}`, '', 'application/scim+json');
      expectScimRefusal(res, 'invalidValue', 'ROLLCALL_NUL_CHARACTER');
      expect(res.body.detail).toMatch(/%00/);
    }
    const adminRes = await t.app.inject({ method: 'GET', url: '/api/v1/organizations/%00', headers: { authorization: `Bearer ${adminKey}` } });
    expect(adminRes.json()).toMatchObject({ error: { status: 400, code: 'ROLLCALL_NUL_CHARACTER' } });
  });

  it('the admin API refuses the same bodies in its own shape', async () => {
    const nul = await admin('POST', '/api/v1/organizations', '{"name":"Acme\\u0000"}');
    expect(nul).toMatchObject({ status: 400, body: { error: { status: 400, code: 'ROLLCALL_NUL_CHARACTER' } } });
    expect(nul.body.error.message).toContain("'name'");
    expect(await admin('POST', '/api/v1/organizations', '{"name":"Acme","n":1e400}')).toMatchObject({ status: 400, body: { error: { code: 'ROLLCALL_NUMBER_OUT_OF_RANGE' } } });
    expect(await admin('POST', '/api/v1/organizations', Buffer.from('{"name":"Caf\xe9"}', 'latin1'))).toMatchObject({ status: 400, body: { error: { code: 'ROLLCALL_INVALID_UTF8' } } });
    const names = (await t.rc.connections.listOrganizations()).map((o) => o.name);
    expect(names.some((n) => n.startsWith('Acme') || n.startsWith('Caf'))).toBe(false);
  });
});

describe('CSV import', () => {
  async function refusal(p: Promise<unknown>): Promise<unknown> {
    try {
      await p;
    } catch (e) {
      return e;
    }
    throw new Error('expected a refusal');
  }

  it('refuses Latin-1, UTF-16 and NUL-filled files, saying to save them as UTF-8, with the line', async () => {
    const org = await t.rc.connections.createOrganization('CSV encodings', 'starter');
    const latin1 = Buffer.from('first name;e-mail\nAnna;anna@csv.example\nJ\xfcrgen;juergen@csv.example\n', 'latin1');
    const e1 = await refusal(t.rc.importCsv(org.id, latin1));
    expect(hasCode(e1, 'ROLLCALL_CSV_NOT_UTF8')).toBe(true);
    expect((e1 as Error).message).toMatch(/line 3/);
    expect((e1 as Error).message).toMatch(/save it as UTF-8/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('e-mail\nanna@csv.example\n', 'utf16le')]);
    expect((await refusal(t.rc.importCsv(org.id, utf16)) as Error).message).toMatch(/UTF-16.*save it as UTF-8/);
    const utf16NoBom = Buffer.from('e-mail\nanna@csv.example\n', 'utf16le');
    expect(hasCode(await refusal(t.rc.importCsv(org.id, utf16NoBom)), 'ROLLCALL_CSV_NOT_UTF8')).toBe(true);
    expect(hasCode(await refusal(t.rc.importCsv(org.id, 'e-mail\nan\u0000na@csv.example\n')), 'ROLLCALL_CSV_NOT_UTF8')).toBe(true);
    // Nothing of any of them was imported.
    expect((await t.rc.connections.connectionsOf(org.id)).length).toBe(0);
  });

  it('imports UTF-8 with a byte order mark, with its one delimiter, keeping commas inside semicolon columns', async () => {
    const org = await t.rc.connections.createOrganization('CSV delimiters', 'starter');
    const text = '\ufeffVorname;Nachname;E-Mail\r\nJürgen;Smith, Jr.;juergen@csv.example\r\n';
    const r = await t.rc.importCsv(org.id, Buffer.from(text, 'utf8'));
    expect(r).toMatchObject({ created: 1, refused: [] });
    const ctx = { connectionId: r.connectionId, baseUrl: `https://x/scim/v2/${r.connectionId}` };
    const [user] = (await t.rc.users.list(ctx, { startIndex: 1, count: 10 })).records;
    expect(user.doc).toMatchObject({ userName: 'juergen@csv.example', name: { givenName: 'Jürgen', familyName: 'Smith, Jr.' } });
    const tabs = await t.rc.importCsv(org.id, 'e-mail\tfirst name\nkim@csv.example\tKim\n');
    expect(tabs).toMatchObject({ created: 1, refused: [] });
  });

  it('refuses a header line with two delimiters as a whole', async () => {
    const org = await t.rc.connections.createOrganization('CSV unclear', 'starter');
    const e = await refusal(t.rc.importCsv(org.id, 'first name;last name,e-mail\nA;B,a@csv.example\n'));
    expect(hasCode(e, 'ROLLCALL_CSV_DELIMITER_UNCLEAR')).toBe(true);
    expect((e as Error).message).toMatch(/commas and .* semicolons/);
  });

  it('reports each row whose e-mail address is none with its line and why; imports the others', async () => {
    const org = await t.rc.connections.createOrganization('CSV e-mails', 'starter');
    const r = await t.rc.importCsv(
      org.id,
      ['first name,e-mail', 'Ok,ok@csv.example', 'Space,"sp ace@csv.example"', 'NoAt,noat.csv.example', 'NoDot,nodot@localhost', 'Two,two@@csv.example', '', 'Late,late@csv..example'].join('\n'),
    );
    expect(r.created).toBe(1);
    expect(r.refused.map((x) => x.line)).toEqual([3, 4, 5, 6, 8]);
    expect(r.refused[0].reason).toMatch(/not an e-mail address.*space/);
    expect(r.refused[1].reason).toMatch(/no @/);
    expect(r.refused[2].reason).toMatch(/no dot/);
    expect(r.refused[3].reason).toMatch(/before the @ contains '@'/);
    expect(r.refused[4].reason).toMatch(/not a domain name/);
  });
});
