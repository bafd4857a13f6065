/**
 * Policy 10 — plan gating. A connection belongs to an organisation; only plans
 * with SCIM (enterprise by default) may use the SCIM API, otherwise every SCIM
 * request — discovery included — answers 403 with a clear detail. One SCIM
 * connection per organisation, targeting one workspace (default `default`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp, type TestConnection } from '../support/app.js';
import { CORE_GROUP, CORE_USER, ROLLCALL, connect, createGroup, createUser, expectScimError, hostRecord, patch, snapshot } from './helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** Every SCIM endpoint, with ids that exist when the plan allows SCIM. */
function requests(c: ScimClient, userId: string, groupId: string): [string, () => ReturnType<ScimClient['get']>][] {
  return [
    ['GET /ServiceProviderConfig', () => c.get('/ServiceProviderConfig')],
    ['GET /serviceConfiguration', () => c.get('/serviceConfiguration')],
    ['GET /Schemas', () => c.get('/Schemas')],
    ['GET /Schemas/{rollcall}', () => c.get(`/Schemas/${ROLLCALL}`)],
    ['GET /ResourceTypes', () => c.get('/ResourceTypes')],
    ['GET /ResourceTypes/User', () => c.get('/ResourceTypes/User')],
    ['GET /Users (Entra test connection)', () => c.get(`/Users?filter=${encodeURIComponent('userName eq "9f1c3b8e-0000-4000-8000-000000000000"')}`)],
    ['GET /users (lower case)', () => c.get('/users')],
    ['GET /Users/{id}', () => c.get(`/Users/${userId}`)],
    ['POST /Users', () => c.post('/Users', { schemas: [CORE_USER], userName: 'blocked@acme.com' })],
    ['PUT /Users/{id}', () => c.put(`/Users/${userId}`, { schemas: [CORE_USER], userName: 'gated@acme.com', displayName: 'Changed' })],
    ['PATCH /Users/{id}', () => c.patch(`/Users/${userId}`, patch({ op: 'Replace', path: 'active', value: 'False' }))],
    ['DELETE /Users/{id}', () => c.delete(`/Users/${userId}`)],
    ['POST /Users/.search', () => c.post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 10 })],
    ['GET /Groups', () => c.get('/Groups')],
    ['GET /Groups/{id}', () => c.get(`/Groups/${groupId}?excludedAttributes=members`)],
    ['POST /Groups', () => c.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Blocked group', members: [] })],
    ['PUT /Groups/{id}', () => c.put(`/Groups/${groupId}`, { schemas: [CORE_GROUP], displayName: 'Renamed', members: [] })],
    ['PATCH /Groups/{id}', () => c.patch(`/Groups/${groupId}`, patch({ op: 'Add', path: 'members', value: [{ value: userId }] }))],
    ['DELETE /Groups/{id}', () => c.delete(`/Groups/${groupId}`)],
    ['POST /Groups/.search', () => c.post('/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] })],
    ['POST /.search', () => c.post('/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] })],
  ];
}

describe('policy 10: plan gating', () => {
  let orgId: string;
  let conn: TestConnection;
  let c: ScimClient;
  let userId: string;
  let groupId: string;
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    const org = await t.rc.connections.createOrganization('Small Shop', 'starter');
    expect(org.plan).toBe('starter');
    expect(org.scimAllowed).toBe(false);
    orgId = org.id;
    // Set up data while the organisation is on enterprise, then downgrade.
    await t.rc.connections.setPlan(orgId, 'enterprise');
    conn = await t.connection('Small Shop Entra', { organizationId: orgId });
    expect(conn.organizationId).toBe(orgId);
    c = scimClient(t.app, conn);
    userId = (await createUser(c, { userName: 'gated@acme.com' })).id;
    groupId = (await createGroup(c, 'Gated group', [userId])).id;
    before = await snapshot(c);
    const down = await t.rc.connections.setPlan(orgId, 'starter');
    expect(down).toMatchObject({ id: orgId, plan: 'starter', scimAllowed: false });
  });

  it('every SCIM endpoint, discovery included, answers 403 with a detail naming the plan', async () => {
    for (const [name, send] of requests(c, userId, groupId)) {
      const res = await send();
      expect(res.status, `${name}: ${res.text}`).toBe(403);
      expectScimError(res, 403);
      expect(res.body.detail, name).toMatch(/plan/i);
      expect(res.body.detail, name).toMatch(/starter/);
      expect(res.body.detail, name).toMatch(/SCIM|provisioning/i);
    }
  });

  it('a wrong token is still 401, not 403 (the plan is not revealed without a valid token)', async () => {
    const bad = scimClient(t.app, { ...conn, token: conn.token + 'x' });
    expect((await bad.get('/Users')).status).toBe(401);
    expect((await bad.get('/ServiceProviderConfig')).status).toBe(401);
  });

  it('set-plan back to enterprise restores access, and the 403 period changed nothing', async () => {
    const up = await t.rc.connections.setPlan(orgId, 'enterprise');
    expect(up.scimAllowed).toBe(true);
    for (const [name, send] of requests(c, userId, groupId).slice(0, 9)) {
      const res = await send();
      expect(res.status, `${name}: ${res.text}`).toBe(200);
    }
    expect(await snapshot(c)).toEqual(before);
    const found = await c.get(`/Users?filter=${encodeURIComponent('userName eq "blocked@acme.com"')}`);
    expect(found.body.totalResults).toBe(0);
    // And a downgrade takes effect on the next request.
    await t.rc.connections.setPlan(orgId, 'starter');
    expect((await c.get('/Users')).status).toBe(403);
    await t.rc.connections.setPlan(orgId, 'enterprise');
    expect((await c.get('/Users')).status).toBe(200);
  });

  it('scimPlans decides which plans have SCIM', async () => {
    const t2 = await startTestApp({ scimPlans: ['enterprise', 'business'] });
    try {
      const biz = await t2.rc.connections.createOrganization('Biz', 'business');
      expect(biz.scimAllowed).toBe(true);
      const cb = scimClient(t2.app, await t2.connection('Biz IdP', { organizationId: biz.id }));
      expect((await cb.get('/Users')).status).toBe(200);
      const pro = await t2.rc.connections.createOrganization('Pro', 'pro');
      const cp = scimClient(t2.app, await t2.connection('Pro IdP', { organizationId: pro.id }));
      expectScimError(await cp.get('/ServiceProviderConfig'), 403, undefined, /plan/i);
    } finally {
      await t2.close();
    }
  });

  it('a connection created without an organisation gets one of its own on a SCIM plan', async () => {
    const x = await t.connection('Standalone');
    expect(x.organizationId).toBeTruthy();
    const shown = await t.rc.connections.show(x.id);
    expect(shown!.organization).toMatchObject({ id: x.organizationId, plan: 'enterprise', scimAllowed: true });
    expect((await scimClient(t.app, x).get('/Users')).status).toBe(200);
  });
});

describe('policy 10: organisations and connections', () => {
  it('one SCIM connection per organisation: a second one is refused with a clear message', async () => {
    const org = await t.rc.connections.createOrganization('One Only', 'enterprise');
    await t.connection('First', { organizationId: org.id });
    await expect(t.connection('Second', { organizationId: org.id })).rejects.toThrow(/one per organi[sz]ation|already has/i);
    expect((await t.rc.connections.connectionsOf(org.id)).filter((x) => x.kind === 'scim')).toHaveLength(1);
  });

  it('a connection for an unknown organisation is refused', async () => {
    await expect(t.connection('Nowhere', { organizationId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/no organi[sz]ation/i);
  });

  it('set-plan of an unknown organisation and a malformed plan name are refused', async () => {
    await expect(t.rc.connections.setPlan('00000000-0000-4000-8000-000000000000', 'enterprise')).rejects.toThrow(/no organi[sz]ation/i);
    await expect(t.rc.connections.createOrganization('Bad plan', 'not a plan!')).rejects.toThrow(/plan/);
  });

  it('the connection targets one workspace (default "default"), visible to the host app', async () => {
    const org = await t.rc.connections.createOrganization('Workspace Org', 'enterprise');
    const w = await connect(t, undefined, 'ws-default');
    const named = await t.connection('ws-named', { organizationId: org.id, workspace: 'berlin-office' });
    const cn = scimClient(t.app, named);
    const a = await createUser(w.c, { userName: 'ws1@acme.com' });
    const b = await createUser(cn, { userName: 'ws2@acme.com' });
    expect((await hostRecord(w, a.id)).app.workspace).toBe('default');
    expect((await hostRecord({ t, conn: named, c: cn }, b.id)).app.workspace).toBe('berlin-office');
    expect((await t.rc.connections.show(named.id))!.workspace).toBe('berlin-office');
  });
});
