/**
 * The admin API's organisations and connections: create, rename, set plan,
 * delete; connections with settings, token issue and rotation (the token in one
 * answer only), disable/enable, delete with everything they hold. Both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp } from '../support/app.js';
import { tenantOf } from '../../src/store/tenant.js';

let t: TestApp;
let key = '';

beforeAll(async () => {
  t = await startTestApp();
  t.rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
  key = (await t.rc.admin.ensure()).token!;
});
afterAll(async () => {
  await t?.close();
});

async function api(method: string, url: string, body?: unknown, auth = true) {
  const res = await t.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(auth ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body ? (JSON.parse(res.body) as any) : undefined, text: res.body };
}

function scimOf(c: { id: string; token: string }) {
  return scimClient(t.app, { id: c.id, token: c.token, base: `/scim/v2/${c.id}`, organizationId: null });
}

describe('organisations', () => {
  it('are created (on the first SCIM plan by default), renamed, re-planned and listed', async () => {
    const created = await api('POST', '/api/v1/organizations', { name: '  Acme GmbH ' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme GmbH', plan: 'enterprise', scimAllowed: true });
    expect(created.headers.location).toBe(`/api/v1/organizations/${created.body.id}`);
    const id = created.body.id;
    expect((await api('PATCH', `/api/v1/organizations/${id}`, { name: 'Acme AG' })).body).toMatchObject({ name: 'Acme AG', plan: 'enterprise' });
    expect((await api('PATCH', `/api/v1/organizations/${id}`, { plan: 'free' })).body).toMatchObject({ plan: 'free', scimAllowed: false });
    expect((await api('PATCH', `/api/v1/organizations/${id}`, { name: 'Acme', plan: 'enterprise' })).body).toMatchObject({ name: 'Acme', plan: 'enterprise' });
    expect((await api('GET', '/api/v1/organizations')).body.organizations.map((o: any) => o.id)).toContain(id);
    expect((await api('GET', `/api/v1/organizations/${id}`)).body.name).toBe('Acme');
  });

  it('refuse bad bodies and unknown ids with the catalogue codes', async () => {
    for (const body of [{}, { name: '' }, { name: 5 }, { name: 'x', colour: 'red' }, [], 'text']) {
      const r = await api('POST', '/api/v1/organizations', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('ROLLCALL_ADMIN_BAD_INPUT');
    }
    expect((await api('POST', '/api/v1/organizations', { name: 'x', plan: 'no spaces allowed' })).body.error.code).toBe('ROLLCALL_INVALID_PLAN');
    expect((await api('PATCH', '/api/v1/organizations/nope', { name: 'x' })).status).toBe(404);
    expect((await api('PATCH', '/api/v1/organizations/nope', {})).status).toBe(400);
    expect((await api('DELETE', '/api/v1/organizations/nope')).body.error.code).toBe('ROLLCALL_ORGANIZATION_NOT_FOUND');
    expect((await api('POST', '/api/v1/organizations', { name: 'x' }, false)).status).toBe(401);
  });
});

describe('connections', () => {
  let orgId = '';
  let conn: any;

  it('are created in an organisation with settings; the token is in that answer only', async () => {
    orgId = (await api('POST', '/api/v1/organizations', { name: 'Contoso' })).body.id;
    const r = await api('POST', `/api/v1/organizations/${orgId}/connections`, { name: 'Entra ID', workspace: 'emea', settings: { domains: ['contoso.example'] } });
    expect(r.status).toBe(201);
    expect(r.headers['cache-control']).toBe('no-store');
    conn = r.body;
    expect(conn).toMatchObject({ name: 'Entra ID', organizationId: orgId, workspace: 'emea', status: 'active', kind: 'scim' });
    expect(conn.settings.domains).toEqual(['contoso.example']);
    expect(conn.scimUrl).toBe(`https://scim.test.example/scim/v2/${conn.id}`);
    expect(typeof conn.token).toBe('string');
    const shown = await api('GET', `/api/v1/connections/${conn.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.organization.id).toBe(orgId);
    expect(shown.text).not.toContain(conn.token);
    const listed = await api('GET', `/api/v1/organizations/${orgId}/connections`);
    expect(listed.body.connections.map((c: any) => c.id)).toEqual([conn.id]);
    expect(listed.text).not.toContain(conn.token);
    // One SCIM connection per organisation.
    expect((await api('POST', `/api/v1/organizations/${orgId}/connections`, { name: 'second' })).body.error.code).toBe('ROLLCALL_ORGANIZATION_HAS_SCIM_CONNECTION');
    expect((await scimOf(conn).post('/Users', { userName: 'ann@contoso.example' })).status).toBe(201);
  });

  it('refuse invalid settings and bodies, leaving nothing behind', async () => {
    const other = (await api('POST', '/api/v1/organizations', { name: 'Fabrikam' })).body.id;
    const bad = await api('POST', `/api/v1/organizations/${other}/connections`, { name: 'x', settings: { domains: 'not-a-list' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ROLLCALL_INVALID_SETTINGS');
    expect((await api('GET', `/api/v1/organizations/${other}/connections`)).body.connections).toEqual([]);
    expect((await api('POST', `/api/v1/organizations/${other}/connections`, { workspace: 'x' })).body.error.code).toBe('ROLLCALL_ADMIN_BAD_INPUT');
    expect((await api('POST', `/api/v1/organizations/nope/connections`, { name: 'x' })).status).toBe(404);
    expect((await api('GET', `/api/v1/connections/nope`)).status).toBe(404);
  });

  it('change settings: merged over the current ones and validated', async () => {
    const r = await api('PATCH', `/api/v1/connections/${conn.id}/settings`, { defaultLanguage: 'de' });
    expect(r.status).toBe(200);
    expect(r.body.settings).toMatchObject({ domains: ['contoso.example'], defaultLanguage: 'de' });
    const bad = await api('PATCH', `/api/v1/connections/${conn.id}/settings`, { retentionDays: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ROLLCALL_INVALID_SETTINGS');
    expect((await api('GET', `/api/v1/connections/${conn.id}`)).body.settings.defaultLanguage).toBe('de');
  });

  it('rotate the token: the new one works, the old one stops (or after a grace period)', async () => {
    const r = await api('POST', `/api/v1/connections/${conn.id}/token`, { graceSeconds: 0 });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body.token).not.toBe(conn.token);
    expect((await scimOf(conn).get('/Users')).status).toBe(401);
    const rotated = { ...conn, token: r.body.token };
    expect((await scimOf(rotated).get('/Users')).status).toBe(200);
    const graced = await api('POST', `/api/v1/connections/${conn.id}/token`);
    expect(graced.status).toBe(200);
    expect((await scimOf(rotated).get('/Users')).status).toBe(401);
    conn = { ...conn, token: graced.body.token };
    expect((await api('POST', `/api/v1/connections/${conn.id}/token`, { graceSeconds: -1 })).status).toBe(400);
  });

  it('disable and enable: a disabled connection is refused with 403 and keeps its data', async () => {
    const d = await api('POST', `/api/v1/connections/${conn.id}/disable`);
    expect(d.status).toBe(200);
    expect(d.body.status).toBe('disabled');
    const refused = await scimOf(conn).get('/Users');
    expect(refused.status).toBe(403);
    expect(refused.body.schemas).toContain('urn:ietf:params:scim:api:messages:2.0:Error');
    expect(refused.text).toContain('ROLLCALL_CONNECTION_DISABLED');
    expect((await api('POST', `/api/v1/connections/${conn.id}/enable`)).body.status).toBe('active');
    const back = await scimOf(conn).get('/Users');
    expect(back.status).toBe(200);
    expect(back.body.totalResults).toBe(1);
  });

  it('delete a connection with its users, groups, tokens and log; then the organisation', async () => {
    const scim = scimOf(conn);
    const users: string[] = [];
    for (let i = 0; i < 5; i++) users.push((await scim.post('/Users', { userName: `u${i}@contoso.example` })).body.id);
    expect((await scim.post('/Groups', { displayName: 'Staff', members: users.map((value) => ({ value })) })).status).toBe(201);
    // Another organisation's connection is left alone.
    const keep = await t.connection('Kept');
    expect((await scimClient(t.app, keep).post('/Users', { userName: 'kept@example.com' })).status).toBe(201);
    await t.rc.requestLog.flush();

    expect((await api('DELETE', `/api/v1/organizations/${orgId}`)).body.error.code).toBe('ROLLCALL_ORGANIZATION_NOT_EMPTY');
    expect((await api('DELETE', `/api/v1/connections/${conn.id}`)).status).toBe(204);
    expect((await api('GET', `/api/v1/connections/${conn.id}`)).status).toBe(404);
    expect((await scim.get('/Users')).status).toBe(401);
    const db = t.rc.database.db;
    for (const table of ['request_log', 'request_days', 'connection_tokens'] as const) {
      const n = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('connection_id', '=', conn.id).executeTakeFirst();
      expect(Number(n?.n), table).toBe(0);
    }
    // The directory's tables key rows by the connection's tenant key, which outlives it.
    for (const table of ['users', 'groups', 'memberships', 'user_emails'] as const) {
      const n = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant', '=', tenantOf(conn.id)).executeTakeFirst();
      expect(Number(n?.n), table).toBe(0);
    }
    expect(await db.selectFrom('tenants').select('tenant').where('connection_id', '=', conn.id).executeTakeFirst()).toBeDefined();
    const kept = await scimClient(t.app, keep).get('/Users');
    expect(kept.body.totalResults).toBe(1);
    expect((await api('DELETE', `/api/v1/organizations/${orgId}`)).status).toBe(204);
    expect((await api('GET', `/api/v1/organizations/${orgId}`)).status).toBe(404);
  });
});
