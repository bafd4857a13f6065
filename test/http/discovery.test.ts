/** Discovery endpoints (RFC 7644 §4). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL, scimClient, startTestApp, type ScimClient, type TestApp, type TestConnection } from '../support/app.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ROLLCALL = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SP_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const LIMITS = 'urn:rollcall:params:scim:schemas:extension:limits:1.0';

let t: TestApp;
let conn: TestConnection;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  conn = await t.connection('Discovery');
  c = scimClient(t.app, conn);
});
afterAll(async () => {
  await t?.close();
});

describe('discovery', () => {
  it('/ServiceProviderConfig: patch supported, bulk not, etag supported, filter and sort', async () => {
    const res = await c.get('/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual([SP_CONFIG, LIMITS]);
    expect(res.body.patch.supported).toBe(true);
    expect(res.body.bulk.supported).toBe(false);
    expect(res.body[LIMITS]).toEqual({
      maxPayloadSize: 1024 * 1024,
      maxPatchOperations: 100,
      maxPatchValues: 1000,
      maxValuesPerAttribute: 100,
      maxMembersPerRequest: 1000,
      maxIdentifierLength: 1024,
      maxValueLength: 65_536,
      maxProjectionAttributes: 100,
      maxFilterLength: 10_000,
      maxFilterTerms: 100,
      maxFilterDepth: 20,
    });
    expect(res.body.etag.supported).toBe(true);
    expect(res.body.filter.supported).toBe(true);
    expect(res.body.filter.maxResults).toBe(1000);
    expect(res.body.sort.supported).toBe(true);
    expect(res.body.changePassword.supported).toBe(false);
    expect(res.body.authenticationSchemes[0].type).toBe('oauthbearertoken');
    expect(res.body.meta.location).toBe(`${PUBLIC_URL}${conn.base}/ServiceProviderConfig`);
  });

  it('/serviceConfiguration is an alias (Microsoft reference server)', async () => {
    const res = await c.get('/serviceConfiguration');
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([SP_CONFIG, LIMITS]);
    expect(res.body.patch.supported).toBe(true);
  });

  it('/Schemas lists User (with userName …), the enterprise extension and Group', async () => {
    const res = await c.get('/Schemas');
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([LIST]);
    const byId = Object.fromEntries(res.body.Resources.map((s: any) => [s.id, s]));
    expect(Object.keys(byId).sort()).toEqual([CORE_GROUP, CORE_USER, ENTERPRISE, ROLLCALL].sort());
    expect(byId[ROLLCALL].attributes.map((a: any) => a.name)).toEqual(['gender', 'academicDegree']);
    expect(res.body.totalResults).toBe(4);

    const user = byId[CORE_USER];
    const attrs = user.attributes.map((a: any) => a.name);
    expect(attrs).toEqual(expect.arrayContaining(['userName', 'name', 'displayName', 'active', 'emails', 'groups', 'password']));
    const userName = user.attributes.find((a: any) => a.name === 'userName');
    expect(userName).toMatchObject({ type: 'string', required: true, uniqueness: 'server', multiValued: false });
    expect(user.attributes.find((a: any) => a.name === 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    expect(user.attributes.find((a: any) => a.name === 'groups')).toMatchObject({ mutability: 'readOnly', multiValued: true });

    const ent = byId[ENTERPRISE];
    expect(ent.attributes.map((a: any) => a.name)).toEqual(expect.arrayContaining(['employeeNumber', 'department', 'manager']));
    const group = byId[CORE_GROUP];
    expect(group.attributes.map((a: any) => a.name)).toEqual(expect.arrayContaining(['displayName', 'members']));
  });

  it('/Schemas/<core User URN> returns that schema', async () => {
    const res = await c.get(`/Schemas/${CORE_USER}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.id).toBe(CORE_USER);
    expect(res.body.name).toBe('User');
    expect(res.body.attributes.map((a: any) => a.name)).toContain('userName');
    const ent = await c.get(`/Schemas/${ENTERPRISE}`);
    expect(ent.status).toBe(200);
    expect(ent.body.id).toBe(ENTERPRISE);
  });

  it('/ResourceTypes: User first with endpoint /Users and the enterprise extension; then Group', async () => {
    const res = await c.get('/ResourceTypes');
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([LIST]);
    expect(res.body.totalResults).toBe(2);
    const [user, group] = res.body.Resources;
    expect(user.id).toBe('User');
    expect(user.name).toBe('User');
    expect(user.endpoint).toBe('/Users');
    expect(user.schema).toBe(CORE_USER);
    expect(user.schemaExtensions).toEqual([
      { schema: ENTERPRISE, required: false },
      { schema: ROLLCALL, required: false },
    ]);
    expect(group.id).toBe('Group');
    expect(group.endpoint).toBe('/Groups');
    expect(group.schema).toBe(CORE_GROUP);

    const one = await c.get('/ResourceTypes/User');
    expect(one.status).toBe(200);
    expect(one.body.endpoint).toBe('/Users');
  });

  it('discovery requires the token too', async () => {
    const res = await scimClient(t.app, { ...conn, token: 'wrong' }).get('/ServiceProviderConfig');
    expect(res.status).toBe(401);
  });

  it('paths are case-insensitive and accept a trailing slash', async () => {
    expect((await c.get('/serviceproviderconfig')).status).toBe(200);
    expect((await c.get('/schemas/')).status).toBe(200);
    expect((await c.get('/users/')).status).toBe(200);
    expect((await c.get('/GROUPS')).status).toBe(200);
  });
});
