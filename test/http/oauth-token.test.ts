/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) per connection: client secrets
 * (created, listed, revoked; stored hashed), POST /oauth/token with HTTP Basic or
 * body credentials, access tokens that open one connection's SCIM API until they
 * expire, RFC 6749 §5.2 errors, the failure limit, and no secret in the logs.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import { insertAccessToken } from '../../src/store/client-credentials.js';
import { startTestApp, type TestApp, type TestConnection } from '../support/app.js';

let now = new Date('2026-12-01T10:00:00Z');
const clock = () => now;
let t: TestApp;
let a: TestConnection;
let b: TestConnection;

beforeAll(async () => {
  t = await startTestApp({ clock });
  a = await t.connection('Entra ID A');
  b = await t.connection('Entra ID B');
});
afterAll(async () => {
  await t?.close();
});

const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function token(payload: string, headers: Record<string, string> = {}, remoteAddress?: string, app = t.app) {
  const res = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload, remoteAddress });
  return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
}

async function scimGet(conn: TestConnection, bearer: string) {
  return (await t.app.inject({ method: 'GET', url: `${conn.base}/Users?count=1`, headers: { authorization: `Bearer ${bearer}` } })).statusCode;
}

describe('client secrets', () => {
  it('are 256-bit random values, shown once, stored as SHA-256 and listed without the secret', async () => {
    const c = await t.rc.connections.createCredential(a.id, { name: 'Entra ID 2027' });
    expect(c.clientId).toBe(a.id);
    expect(c.clientSecret).toMatch(/^rcs_[A-Za-z0-9_-]{43}$/);
    expect(c.tokenUrl).toBe('https://scim.test.example/oauth/token');
    expect(c.scimUrl).toBe(`https://scim.test.example/scim/v2/${a.id}`);
    expect(new Date(c.expiresAt).getTime() - now.getTime()).toBe(730 * 86_400_000);
    const rows = await t.rc.database.db.selectFrom('client_secrets').selectAll().where('id', '=', c.secretId).execute();
    expect(rows[0].hash).toBe(createHash('sha256').update(c.clientSecret).digest('hex'));
    const listed = await t.rc.connections.listCredentials(a.id);
    expect(listed.find((s) => s.secretId === c.secretId)).toMatchObject({ name: 'Entra ID 2027', status: 'active', lastUsedAt: null });
    expect(JSON.stringify(listed)).not.toContain(c.clientSecret);
  });

  it('expire after one to three years, never outside that', async () => {
    await expect(t.rc.connections.createCredential(a.id, { expiresInDays: 364 })).rejects.toMatchObject({ code: 'ROLLCALL_CLIENT_SECRET_EXPIRY' });
    await expect(t.rc.connections.createCredential(a.id, { expiresInDays: 1096 })).rejects.toMatchObject({ code: 'ROLLCALL_CLIENT_SECRET_EXPIRY' });
    const c = await t.rc.connections.createCredential(a.id, { expiresInDays: 365 });
    expect(new Date(c.expiresAt).getTime() - now.getTime()).toBe(365 * 86_400_000);
  });

  it('are managed through the admin API as well', async () => {
    const admin = await t.rc.admin.ensure();
    const key = admin.token ?? '';
    expect(key).not.toBe('');
    const call = (method: 'POST' | 'GET' | 'DELETE', url: string, body?: unknown) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    const created = await call('POST', `/api/v1/connections/${b.id}/credentials`, { name: 'Okta', expiresInDays: 1095 });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const c = created.json();
    expect(c).toMatchObject({ clientId: b.id, name: 'Okta', tokenUrl: 'https://scim.test.example/oauth/token' });
    const bad = await call('POST', `/api/v1/connections/${b.id}/credentials`, { expiresInDays: 5000 });
    expect(bad.statusCode).toBe(400);
    const list = (await call('GET', `/api/v1/connections/${b.id}/credentials`)).json();
    expect(list.clientId).toBe(b.id);
    expect(list.secrets.map((s: { secretId: string }) => s.secretId)).toContain(c.secretId);
    expect(JSON.stringify(list)).not.toContain(c.clientSecret);
    expect((await call('DELETE', `/api/v1/connections/${b.id}/credentials/${c.secretId}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/connections/${b.id}/credentials/${c.secretId}`)).statusCode).toBe(404);
    expect((await call('GET', `/api/v1/connections/${b.id}/credentials`)).json().secrets.find((s: { secretId: string }) => s.secretId === c.secretId).status).toBe('revoked');
  });

  it('are bounded: ten active ones per connection', async () => {
    const c = await t.connection('Many secrets');
    for (let i = 0; i < 10; i++) await t.rc.connections.createCredential(c.id);
    await expect(t.rc.connections.createCredential(c.id)).rejects.toMatchObject({ code: 'ROLLCALL_CLIENT_SECRETS_FULL' });
    const first = (await t.rc.connections.listCredentials(c.id))[0];
    await t.rc.connections.revokeCredential(c.id, first.secretId);
    await expect(t.rc.connections.createCredential(c.id)).resolves.toMatchObject({ clientId: c.id });
  });
});

describe('POST /oauth/token', () => {
  it('grants an access token for HTTP Basic or body credentials, which opens that connection only', async () => {
    const c = await t.rc.connections.createCredential(a.id);
    for (const [payload, headers] of [
      [form({ grant_type: 'client_credentials', scope: 'scim' }), { authorization: basic(c.clientId, c.clientSecret) }],
      [form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), {}],
    ] as const) {
      const r = await token(payload, headers);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers.pragma).toBe('no-cache');
      expect(r.body).toEqual({ access_token: expect.stringMatching(/^rco_[A-Za-z0-9_-]{43}$/), token_type: 'Bearer', expires_in: 3600, scope: 'scim' });
      expect(await scimGet(a, r.body.access_token)).toBe(200);
      // Another connection's URL does not take it.
      expect(await scimGet(b, r.body.access_token)).toBe(401);
    }
    const used = (await t.rc.connections.listCredentials(a.id)).find((s) => s.secretId === c.secretId);
    expect(used?.lastUsedAt).toBe(now.toISOString());
    // The bearer token keeps working beside it.
    expect(await scimGet(a, a.token)).toBe(200);
  });

  it('accepts the same parameters as JSON', async () => {
    const c = await t.rc.connections.createCredential(a.id);
    const r = await token(JSON.stringify({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    expect(await scimGet(a, r.body.access_token)).toBe(200);
  });

  it('issues tokens that expire after the TTL', async () => {
    const c = await t.rc.connections.createCredential(a.id);
    const r = await token(form({ grant_type: 'client_credentials' }), { authorization: basic(c.clientId, c.clientSecret) });
    expect(await scimGet(a, r.body.access_token)).toBe(200);
    const start = now;
    try {
      now = new Date(start.getTime() + 3_599_000);
      expect(await scimGet(a, r.body.access_token)).toBe(200);
      now = new Date(start.getTime() + 3_600_000);
      expect(await scimGet(a, r.body.access_token)).toBe(401);
    } finally {
      now = start;
    }
  });

  it('refuses a revoked secret, and the tokens it obtained stop working', async () => {
    const c = await t.rc.connections.createCredential(a.id);
    const r = await token(form({ grant_type: 'client_credentials' }), { authorization: basic(c.clientId, c.clientSecret) });
    expect(await scimGet(a, r.body.access_token)).toBe(200);
    await t.rc.connections.revokeCredential(a.id, c.secretId);
    expect(await scimGet(a, r.body.access_token)).toBe(401);
    const again = await token(form({ grant_type: 'client_credentials' }), { authorization: basic(c.clientId, c.clientSecret) }, '10.0.0.1');
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
    expect(again.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });

  it('never stores a token for a secret revoked after it was checked', async () => {
    const c = await t.rc.connections.createCredential(a.id);
    await t.rc.connections.revokeCredential(a.id, c.secretId);
    const now0 = now.toISOString();
    const row = { id: `race-${c.secretId}`, connection_id: a.id, hash: 'f'.repeat(64), created_at: now0, expires_at: new Date(now.getTime() + 3600_000).toISOString(), client_secret_id: c.secretId };
    const stored = await t.rc.database.db.transaction().execute((trx) => insertAccessToken(trx, row, now0, 20));
    expect(stored).toBe(false);
    expect(await t.rc.database.db.selectFrom('connection_tokens').select('id').where('id', '=', row.id).execute()).toEqual([]);
  });

  it("revoking through one connection never touches another connection's secret or tokens", async () => {
    const c = await t.rc.connections.createCredential(b.id);
    const r = await token(form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), {}, '10.0.0.5');
    await expect(t.rc.connections.revokeCredential(a.id, c.secretId)).rejects.toMatchObject({ code: 'ROLLCALL_CLIENT_SECRET_NOT_FOUND' });
    expect(await scimGet(b, r.body.access_token)).toBe(200);
  });

  it('treats a parameter sent without a value as omitted (RFC 6749 §3.1)', async () => {
    const c = await t.rc.connections.createCredential(a.id);
    const r = await token('grant_type=client_credentials&client_secret=&client_id=&scope=', { authorization: basic(c.clientId, c.clientSecret) }, '10.0.0.6');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('refuses an expired secret', async () => {
    const c = await t.rc.connections.createCredential(a.id, { expiresInDays: 365 });
    const start = now;
    try {
      now = new Date(start.getTime() + 365 * 86_400_000);
      const r = await token(form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), {}, '10.0.0.2');
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_client');
      expect((await t.rc.connections.listCredentials(a.id)).find((s) => s.secretId === c.secretId)?.status).toBe('expired');
    } finally {
      now = start;
    }
  });

  it('answers RFC 6749 errors for bad grant types, missing or doubled fields and other methods', async () => {
    const c = await t.rc.connections.createCredential(b.id);
    const auth = { authorization: basic(c.clientId, c.clientSecret) };
    const cases: [string, Record<string, string>, number, string][] = [
      [form({ grant_type: 'password', username: 'x', password: 'y' }), auth, 400, 'unsupported_grant_type'],
      [form({ grant_type: 'authorization_code', code: 'x' }), auth, 400, 'unsupported_grant_type'],
      [form({ scope: 'scim' }), auth, 400, 'invalid_request'],
      ['grant_type=client_credentials&grant_type=client_credentials', auth, 400, 'invalid_request'],
      [form({ grant_type: 'client_credentials', client_secret: c.clientSecret }), auth, 400, 'invalid_request'],
      [form({ grant_type: 'client_credentials', client_id: a.id }), auth, 400, 'invalid_request'],
      [form({ grant_type: 'client_credentials' }), {}, 401, 'invalid_client'],
      [form({ grant_type: 'client_credentials', client_id: c.clientId }), {}, 401, 'invalid_client'],
      ['', auth, 400, 'invalid_request'],
      ['grant_type=client_credentials', { ...auth, 'content-type': 'text/plain' }, 400, 'invalid_request'],
      ['{"grant_type":', { ...auth, 'content-type': 'application/json' }, 400, 'invalid_request'],
    ];
    for (const [payload, headers, status, error] of cases) {
      const r = await token(payload, headers, '10.0.0.3');
      expect({ payload, status: r.status, error: r.body?.error }).toEqual({ payload, status, error });
      expect(typeof r.body.error_description).toBe('string');
      expect(r.headers['cache-control']).toBe('no-store');
      if (status === 401) expect(r.headers['www-authenticate']).toMatch(/^Basic realm="rollcall"/);
    }
    const get = await t.app.inject({ method: 'GET', url: '/oauth/token' });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(get.json().error).toBe('invalid_request');
  });

  it('limits failed attempts per client and address without locking the client out elsewhere', async () => {
    const c = await t.rc.connections.createCredential(b.id);
    const wrong = form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'rcs_wrong' });
    for (let i = 0; i < 10; i++) expect((await token(wrong, {}, '203.0.113.9')).status).toBe(401);
    const limited = await token(form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), {}, '203.0.113.9');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.error).toBe('temporarily_unavailable');
    // The IdP, calling from its own address, still gets its token.
    expect((await token(form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), {}, '198.51.100.7')).status).toBe(200);
  });

  it('never writes a secret or an access token to the log', async () => {
    let logged = '';
    const stream = new Writable({ write(chunk, _enc, done) { logged += String(chunk); done(); } });
    const app = await buildServer(t.rc, { logger: { level: 'trace', stream } });
    try {
      const c = await t.rc.connections.createCredential(a.id);
      const r = await token(form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }), {}, '10.0.0.4', app);
      expect(r.status).toBe(200);
      await app.inject({ method: 'GET', url: `${a.base}/Users`, headers: { authorization: `Bearer ${r.body.access_token}` } });
      await token(form({ grant_type: 'client_credentials' }), { authorization: basic(c.clientId, `${c.clientSecret}x`) }, '10.0.0.4', app);
      expect(logged).toContain('/oauth/token');
      expect(logged).not.toContain(c.clientSecret);
      expect(logged).not.toContain(r.body.access_token);
      expect(logged).not.toContain(Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64').slice(0, 40));
    } finally {
      await app.close();
    }
  });

  it('is advertised in ServiceProviderConfig', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${a.base}/ServiceProviderConfig`, headers: { authorization: `Bearer ${a.token}` } });
    expect(res.json().authenticationSchemes.map((s: { type: string }) => s.type)).toEqual(['oauthbearertoken', 'oauth2']);
  });
});
