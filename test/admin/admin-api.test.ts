/**
 * The admin API (/api/v1): bearer admin key (generated and stored hashed, or from
 * the environment), one JSON error shape, organisations, webhook endpoints,
 * deliveries and redelivery.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createRollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { emitEvents, newEvent, startReceiver, waitFor, type Receiver } from '../events/helpers.js';
import type { RollcallEvent } from '../../src/events/types.js';
import { CATALOGUE } from '../../src/scim/errors.js';

let t: TestApp;
let key = '';
let receiver: Receiver;

beforeAll(async () => {
  t = await startTestApp();
  t.rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
});

async function api(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await t.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body ? (JSON.parse(res.body) as any) : undefined };
}

function expectError(r: { status: number; body: any }, status: number, code?: string) {
  expect(r.status).toBe(status);
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(r.body.error.status).toBe(status);
  // Every refusal carries a catalogue code with this status.
  expect(Object.keys(CATALOGUE)).toContain(r.body.error.code);
  expect(CATALOGUE[r.body.error.code as keyof typeof CATALOGUE].status).toBe(status);
  if (code) expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message.length).toBeGreaterThan(5);
}

describe('admin API authentication', () => {
  it('refuses everything while no admin key exists', async () => {
    key = 'rca_anything';
    expectError(await api('GET', '/api/v1/organizations'), 401, 'ROLLCALL_ADMIN_KEY_INVALID');
    key = '';
  });

  it('generates a key once, stores only its SHA-256, and accepts it', async () => {
    const first = await t.rc.admin.ensure();
    expect(first.source).toBe('stored');
    expect(first.token).toMatch(/^rca_[A-Za-z0-9_-]{43}$/);
    const second = await t.rc.admin.ensure();
    expect(second).toEqual({ source: 'stored' });
    const rows = await t.rc.database.db.selectFrom('admin_tokens').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toBe(createHash('sha256').update(first.token!).digest('hex'));
    key = first.token!;
    expect((await api('GET', '/api/v1/organizations')).status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate without a key or with a wrong one', async () => {
    const none = await api('GET', '/api/v1/organizations', undefined, { authorization: '' });
    expectError(none, 401, 'ROLLCALL_ADMIN_KEY_REQUIRED');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="rollcall-admin"');
    const wrong = await api('GET', '/api/v1/organizations', undefined, { authorization: `Bearer ${key}x` });
    expectError(wrong, 401, 'ROLLCALL_ADMIN_KEY_INVALID');
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="rollcall-admin", error="invalid_token"');
    expectError(await api('GET', '/api/v1/organizations', undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401);
    // A SCIM connection token is not an admin key.
    const conn = await t.connection('Not admin');
    expectError(await api('GET', '/api/v1/organizations', undefined, { authorization: `Bearer ${conn.token}` }), 401);
    // Even unknown routes ask for the key first.
    expectError(await api('GET', '/api/v1/nothing-here', undefined, { authorization: '' }), 401);
  });

  it('uses ROLLCALL_ADMIN_TOKEN instead of the stored key when it is set', async () => {
    const ENV = 'the-environment-admin-key-123';
    const rc = await createRollcall({ databaseUrl: t.databaseUrl, publicUrl: 'https://x.example', adminToken: ENV });
    const app = await buildServer(rc);
    try {
      const get = (token: string) => app.inject({ method: 'GET', url: '/api/v1/organizations', headers: { authorization: `Bearer ${token}` } });
      expect((await get(ENV)).statusCode).toBe(200);
      expect((await get(key)).statusCode).toBe(401);
      expect((await get(ENV + 'x')).statusCode).toBe(401);
      expect(await rc.admin.ensure()).toEqual({ source: 'env' });
    } finally {
      await app.close();
      await rc.close();
    }
  });

  it('answers URLs the router cannot take (over-long segment, bad escape) in the admin shape, and SCIM URLs in the SCIM shape', async () => {
    expectError(await api('GET', `/api/v1/organizations/${'a'.repeat(300)}/webhooks`), 414, 'ROLLCALL_URL_SEGMENT_TOO_LONG');
    expectError(await api('GET', '/api/v1/organizations/%zz/webhooks'), 400, 'ROLLCALL_MALFORMED_URL');
    const scim = await api('GET', `/scim/v2/${'a'.repeat(300)}/Users`);
    expect(scim.status).toBe(414);
    expect(scim.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error', 'urn:rollcall:params:scim:api:messages:2.0:Error']);
  });

  it('rotating replaces the stored key', async () => {
    const next = await t.rc.admin.rotate();
    expectError(await api('GET', '/api/v1/organizations'), 401);
    key = next;
    expect((await api('GET', '/api/v1/organizations')).status).toBe(200);
  });
});

describe('admin API resources', () => {
  let orgId = '';
  let hookId = '';
  let secret = '';

  it('lists organisations and shows one', async () => {
    const org = await t.rc.connections.createOrganization('Admin Corp', 'enterprise');
    orgId = org.id;
    const list = await api('GET', '/api/v1/organizations');
    expect(list.status).toBe(200);
    expect(list.body.organizations).toContainEqual(org);
    expect((await api('GET', `/api/v1/organizations/${orgId}`)).body).toEqual(org);
    expectError(await api('GET', '/api/v1/organizations/nope'), 404, 'ROLLCALL_ADMIN_NOT_FOUND');
  });

  it('creates a webhook (201, secret shown once) and lists it without the secret', async () => {
    const r = await api('POST', `/api/v1/organizations/${orgId}/webhooks`, { url: receiver.url, events: ['user.created', 'user.deleted'] });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(['createdAt', 'events', 'id', 'organizationId', 'secret', 'url']);
    expect(r.body).toMatchObject({ url: receiver.url, events: ['user.created', 'user.deleted'], organizationId: orgId });
    expect(r.body.secret).toMatch(/^whsec_/);
    expect(r.headers.location).toBe(`/api/v1/webhooks/${r.body.id}`);
    hookId = r.body.id;
    secret = r.body.secret;
    const list = await api('GET', `/api/v1/organizations/${orgId}/webhooks`);
    expect(list.status).toBe(200);
    expect(list.body.webhooks).toHaveLength(1);
    expect(list.body.webhooks[0]).toEqual({ id: hookId, organizationId: orgId, url: receiver.url, events: ['user.created', 'user.deleted'], createdAt: r.body.createdAt });
    const one = await api('GET', `/api/v1/webhooks/${hookId}`);
    expect(one.body).toEqual(list.body.webhooks[0]);
    expect(JSON.stringify(list.body) + JSON.stringify(one.body)).not.toContain(secret);
  });

  it('validates webhook bodies', async () => {
    const post = (body: unknown, headers?: Record<string, string>) => api('POST', `/api/v1/organizations/${orgId}/webhooks`, body, headers);
    const cases: [unknown, RegExp][] = [
      [{ url: 'ftp://example.com/x' }, /http or https/],
      [{ url: 'javascript:alert(1)' }, /http or https/],
      [{ url: '/relative' }, /not an absolute URL/],
      [{ url: 'https://example.com/#frag' }, /fragment/],
      [{}, /'url'/],
      [{ url: 42 }, /'url'/],
      [{ url: 'https://example.com', events: 'user.created' }, /'events'/],
      [{ url: 'https://example.com', events: ['user.exploded'] }, /unknown event type 'user.exploded'/],
      [{ url: 'https://example.com', events: [] }, /'events' is empty; omit it/],
      [{ url: 'https://example.com', secret: 'mine' }, /unknown field 'secret'/],
      [[{ url: 'https://example.com' }], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      expectError(r, 400);
      expect(r.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expectError(await post('{"url": '), 400, 'ROLLCALL_INVALID_JSON');
    expectError(await post(undefined), 400, 'ROLLCALL_ADMIN_BAD_INPUT');
    expectError(await post('url=https://example.com', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'ROLLCALL_UNSUPPORTED_MEDIA_TYPE');
    // Refused by events/ (unknown organisation): its own catalogue code, checked by expectError.
    expectError(await api('POST', '/api/v1/organizations/no-such-org/webhooks', { url: 'https://example.com' }), 404);
    expectError(await api('GET', '/api/v1/organizations/no-such-org/webhooks'), 404);
  });

  it('shows deliveries with their attempts and redelivers an event', async () => {
    const got: RollcallEvent[] = [];
    const unsubscribe = t.rc.events.subscribe((e) => void got.push(e));
    await emitEvents(t.rc, [newEvent(orgId, { type: 'user.created' }), newEvent(orgId, { type: 'user.updated' }), newEvent(orgId, { type: 'user.deleted' })]);
    await waitFor(() => got.length === 3, 'events');
    unsubscribe();
    t.rc.startDelivery({ backoffMs: 20, pollMs: 50 });
    try {
      await waitFor(async () => (await api('GET', `/api/v1/webhooks/${hookId}/deliveries?status=delivered`)).body.deliveries.length === 2, 'two deliveries');
      const list = await api('GET', `/api/v1/webhooks/${hookId}/deliveries`);
      expect(list.status).toBe(200);
      // user.updated is not among the endpoint's types
      expect(list.body.deliveries.map((d: any) => d.eventType)).toEqual(['user.deleted', 'user.created']);
      const d = list.body.deliveries[1];
      expect(d).toMatchObject({ webhookId: hookId, eventId: got[0].id, sequence: got[0].sequence, status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
      expect(Date.parse(d.deliveredAt)).not.toBeNaN();
      expect(Date.parse(d.lastAttemptAt)).not.toBeNaN();
      expect(receiver.delivered().filter((id) => id === got[0].id)).toHaveLength(1);

      const again = await api('POST', `/api/v1/webhooks/${hookId}/deliveries/${got[0].id}/redeliver`);
      expect(again.status).toBe(202);
      expect(again.body.delivery).toMatchObject({ eventId: got[0].id, status: 'pending' });
      await waitFor(() => receiver.delivered().filter((id) => id === got[0].id).length === 2, 'the redelivery');
      await waitFor(async () => (await api('GET', `/api/v1/webhooks/${hookId}/deliveries?status=pending`)).body.deliveries.length === 0, 'settled');
      const after = (await api('GET', `/api/v1/webhooks/${hookId}/deliveries`)).body.deliveries.find((x: any) => x.eventId === got[0].id);
      expect(after).toMatchObject({ status: 'delivered', attempts: 2 });

      // An event outside the endpoint's types can be sent on request too.
      const extra = await api('POST', `/api/v1/webhooks/${hookId}/deliveries/${got[1].id}/redeliver`);
      expect(extra.status).toBe(202);
      await waitFor(() => receiver.delivered().includes(got[1].id), 'the requested user.updated');
    } finally {
      await t.rc.stopDelivery();
    }
    expectError(await api('POST', `/api/v1/webhooks/${hookId}/deliveries/00000000-0000-7000-8000-000000000000/redeliver`), 404);
    expectError(await api('POST', `/api/v1/webhooks/nope/deliveries/${got[0].id}/redeliver`), 404);
    expectError(await api('GET', `/api/v1/webhooks/${hookId}/deliveries?status=lost`), 400);
    expectError(await api('GET', `/api/v1/webhooks/${hookId}/deliveries?limit=0`), 400);
    expectError(await api('GET', '/api/v1/webhooks/nope/deliveries'), 404);
  });

  it('an event of another organisation cannot be redelivered to this endpoint', async () => {
    const other = await t.rc.connections.createOrganization('Other Corp', 'enterprise');
    const got: RollcallEvent[] = [];
    const unsubscribe = t.rc.events.subscribe((e) => void got.push(e));
    await emitEvents(t.rc, [newEvent(other.id)]);
    await waitFor(() => got.length === 1, 'event');
    unsubscribe();
    expectError(await api('POST', `/api/v1/webhooks/${hookId}/deliveries/${got[0].id}/redeliver`), 404);
  });

  it('deletes a webhook (204), then it is gone', async () => {
    const other = await t.rc.connections.createOrganization('Wrong Org', 'enterprise');
    expectError(await api('DELETE', `/api/v1/organizations/${other.id}/webhooks/${hookId}`), 404, 'ROLLCALL_ADMIN_NOT_FOUND');
    const del = await api('DELETE', `/api/v1/organizations/${orgId}/webhooks/${hookId}`);
    expect(del.status).toBe(204);
    expectError(await api('DELETE', `/api/v1/organizations/${orgId}/webhooks/${hookId}`), 404, 'ROLLCALL_ADMIN_NOT_FOUND');
    expectError(await api('GET', `/api/v1/webhooks/${hookId}`), 404);
    expectError(await api('GET', `/api/v1/webhooks/${hookId}/deliveries`), 404);
    expect((await api('GET', `/api/v1/organizations/${orgId}/webhooks`)).body).toEqual({ webhooks: [] });
    const left = await t.rc.database.db.selectFrom('webhook_deliveries').select('event_id').where('webhook_id', '=', hookId).execute();
    expect(left).toEqual([]);
  });

  it('answers unknown routes and methods with the same JSON error shape', async () => {
    expectError(await api('GET', '/api/v1/nothing-here'), 404, 'ROLLCALL_ROUTE_NOT_FOUND');
    expectError(await api('PUT', '/api/v1/organizations'), 404);
  });
});
