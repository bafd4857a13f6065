/**
 * The request observer seam (RollcallOptions.observers): each SCIM request is
 * reported once with its route, status, connection, resource and error code, and an
 * observer that throws does not change the answer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import type { ObservedRequest } from '../../src/directory/observer.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { PUBLIC_URL, scimClient, type ScimClient, type TestConnection } from '../support/app.js';

let database: TestDatabase;
let rc: Rollcall;
let app: FastifyInstance;
let conn: TestConnection;
let scim: ScimClient;
const seen: ObservedRequest[] = [];
const loggedErrors: unknown[] = [];

beforeAll(async () => {
  database = await freshDatabase();
  rc = await createRollcall({
    databaseUrl: database.url,
    publicUrl: PUBLIC_URL,
    // The throwing observer comes first: the one after it must still be told.
    observers: [{ onRequest: () => { throw new Error('observer bug'); } }, { onRequest: (r) => void seen.push(r) }],
  });
  rc.setLogger({ error: (obj) => void loggedErrors.push(obj), warn: () => {}, info: () => {} });
  app = await buildServer(rc);
  const c = await rc.connections.create({ name: 'Observed' });
  conn = { id: c.id, token: c.token, base: `/scim/v2/${c.id}`, organizationId: c.organizationId };
  scim = scimClient(app, conn, { 'user-agent': 'observer-test/1' });
});
afterAll(async () => {
  await app?.close();
  await rc?.close();
  await database?.drop();
});

/** The one observation of the request with this method and path (observers run after the answer is sent). */
async function observed(method: string, path: string): Promise<ObservedRequest> {
  await vi.waitFor(() => expect(seen.some((r) => r.method === method && r.path === path)).toBe(true));
  const matching = seen.filter((r) => r.method === method && r.path === path);
  expect(matching).toHaveLength(1);
  return matching[0];
}

describe('request observers', () => {
  it('observe a create with its route, status, connection and the new resource', async () => {
    const res = await scim.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'observed@example.com' });
    expect(res.status).toBe(201);
    const r = await observed('POST', `${conn.base}/Users`);
    expect(r).toMatchObject({
      route: '/scim/v2/:connectionId/Users',
      status: 201,
      connectionId: conn.id,
      resourceType: 'User',
      resourceId: res.body.id,
      userAgent: 'observer-test/1',
    });
    expect(r.error).toBeUndefined();
    expect(typeof r.requestId).toBe('string');
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('observe a 404 with the error code', async () => {
    const res = await scim.get('/Groups/no-such-group');
    expect(res.status).toBe(404);
    const r = await observed('GET', `${conn.base}/Groups/no-such-group`);
    expect(r).toMatchObject({ route: '/scim/v2/:connectionId/Groups/:id', status: 404, connectionId: conn.id, resourceType: 'Group', resourceId: 'no-such-group' });
    expect(r.error?.code).toBe(res.body['urn:rollcall:params:scim:api:messages:2.0:Error'].code);
    expect(r.error?.code).toMatch(/^ROLLCALL_/);
    expect(r.error?.detail).toBe(res.body.detail);
  });

  it('observe a 400 with the error code and scimType', async () => {
    const res = await scim.get('/Users?count=many');
    expect(res.status).toBe(400);
    const r = await observed('GET', `${conn.base}/Users`);
    expect(r).toMatchObject({ status: 400, resourceType: 'User', error: { code: 'ROLLCALL_NOT_AN_INTEGER', scimType: 'invalidValue' } });
    expect(r.resourceId).toBeUndefined();
  });

  it('observe a refused token without a connection', async () => {
    const res = await app.inject({ method: 'GET', url: `${conn.base}/Schemas`, headers: { authorization: 'Bearer wrong' } });
    expect(res.statusCode).toBe(401);
    const r = await observed('GET', `${conn.base}/Schemas`);
    expect(r).toMatchObject({ status: 401, route: '/scim/v2/:connectionId/Schemas', error: { code: 'ROLLCALL_TOKEN_INVALID' } });
    expect(r.connectionId).toBeUndefined();
  });

  it('observe an unknown endpoint under the SCIM prefix', async () => {
    expect((await scim.get('/Nothing')).status).toBe(404);
    const r = await observed('GET', `${conn.base}/Nothing`);
    expect(r).toMatchObject({ route: '', status: 404, error: { code: 'ROLLCALL_ROUTE_NOT_FOUND' } });
  });

  it('are not told about requests outside the SCIM API', async () => {
    const before = seen.length;
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await scim.get('/ServiceProviderConfig');
    await observed('GET', `${conn.base}/ServiceProviderConfig`);
    expect(seen.slice(before).map((r) => r.path)).toEqual([`${conn.base}/ServiceProviderConfig`]);
  });

  it('keep answering when an observer throws, and log its error', async () => {
    // Every request above went through the throwing observer and was answered.
    expect(loggedErrors.length).toBeGreaterThan(0);
    expect((loggedErrors[0] as { err: Error }).err.message).toBe('observer bug');
  });
});
