/**
 * The provisioning log: every SCIM request of a connection, with its client,
 * error and redacted body, paged newest first and filtered; connection health;
 * retention by the purge. Both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp, type TestConnection, type ScimClient } from '../support/app.js';
import { loggedBody, provisioningClient, MAX_LOGGED_BODY } from '../../src/directory/provisioning-log.js';

let now = new Date('2026-03-10T12:00:00.000Z');
let t: TestApp;
let key = '';
let conn: TestConnection;
let other: TestConnection;
let okta: ScimClient;
let entra: ScimClient;

const ENTRA_UA = 'Microsoft Azure AD SCIM Client';

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  t.rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
  key = (await t.rc.admin.ensure()).token!;
  conn = await t.connection('Logged');
  other = await t.connection('Other tenant');
  okta = scimClient(t.app, conn, { 'user-agent': 'Okta SCIM Client 1.0.0' });
  entra = scimClient(t.app, conn, { 'user-agent': ENTRA_UA });
});
afterAll(async () => {
  await t?.close();
});

async function api(url: string, auth = true) {
  const res = await t.app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.statusCode, body: JSON.parse(res.body) as any, text: res.body };
}

const user = (n: number, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `log.user${n}@example.com`,
  externalId: `ext-${n}`,
  active: true,
  ...extra,
});

describe('provisioning log', () => {
  let created = '';

  it('records a create with its client, resource, status and a body without the password', async () => {
    const r = await okta.post('/Users', user(1, { password: 'Sup3r-Secret!' }));
    expect(r.status).toBe(201);
    created = r.body.id;
    const page = await api(`/api/v1/connections/${conn.id}/requests`);
    expect(page.status).toBe(200);
    expect(page.body.requests).toHaveLength(1);
    const entry = page.body.requests[0];
    expect(entry).toMatchObject({
      method: 'POST',
      path: `/scim/v2/${conn.id}/Users`,
      status: 201,
      client: 'okta',
      userAgent: 'Okta SCIM Client 1.0.0',
      resourceType: 'User',
      resourceId: created,
      error: null,
      at: now.toISOString(),
    });
    expect(entry.durationMs).toBeGreaterThanOrEqual(0);
    expect(entry).not.toHaveProperty('body');
    expect(page.body.next).toBeNull();

    const one = await api(`/api/v1/connections/${conn.id}/requests/${entry.id}`);
    expect(one.status).toBe(200);
    expect(one.body.body).toMatchObject({ userName: 'log.user1@example.com', password: '[redacted]' });
    expect(one.text).not.toContain('Sup3r-Secret!');
    // Nor anywhere else the admin API shows the log.
    expect((await api(`/api/v1/connections/${conn.id}/requests`)).text).not.toContain('Sup3r-Secret!');
  });

  it('records refusals with their catalogue code, SCIM type and detail, and lookups with their filter', async () => {
    const dup = await entra.post('/Users', user(1));
    expect(dup.status).toBe(409);
    const lookup = await entra.get(`/Users?filter=${encodeURIComponent('userName eq "log.user1@example.com"')}`);
    expect(lookup.status).toBe(200);
    const { body } = await api(`/api/v1/connections/${conn.id}/requests?limit=2`);
    const [get, conflict] = body.requests;
    expect(get.method).toBe('GET');
    expect(get.path).toContain('filter=');
    expect(decodeURIComponent(get.path)).toContain('userName eq "log.user1@example.com"');
    expect(get.client).toBe('entra-id');
    expect(conflict.status).toBe(409);
    expect(conflict.error).toMatchObject({ scimType: 'uniqueness' });
    expect(conflict.error.code).toMatch(/^ROLLCALL_/);
    expect(conflict.error.detail.length).toBeGreaterThan(5);
  });

  it('redacts a password set by PATCH path, and tells Entra ID by its capitalised ops', async () => {
    const anon = scimClient(t.app, conn, { 'user-agent': 'curl/8' });
    const r = await anon.patch(`/Users/${created}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'Replace', path: 'password', value: 'An0ther-Secret' },
        { op: 'Replace', path: 'title', value: 'Engineer' },
      ],
    });
    expect(r.status).toBe(200);
    const { body } = await api(`/api/v1/connections/${conn.id}/requests?limit=1`);
    expect(body.requests[0]).toMatchObject({ method: 'PATCH', resourceId: created, client: 'entra-id' });
    const one = await api(`/api/v1/connections/${conn.id}/requests/${body.requests[0].id}`);
    expect(one.body.body.Operations).toEqual([
      { op: 'Replace', path: 'password', value: '[redacted]' },
      { op: 'Replace', path: 'title', value: 'Engineer' },
    ]);
    expect(one.text).not.toContain('An0ther-Secret');
  });

  it('logs a failed "Test connection" (wrong token) under the URL\'s connection, without its body', async () => {
    const wrong = scimClient(t.app, { ...conn, token: 'not-the-token' }, { 'user-agent': ENTRA_UA });
    expect((await wrong.post('/Users', user(99, { password: 'x-secret' }))).status).toBe(401);
    const { body } = await api(`/api/v1/connections/${conn.id}/requests?status=401`);
    expect(body.requests).toHaveLength(1);
    expect(body.requests[0].error.code).toMatch(/^ROLLCALL_/);
    const one = await api(`/api/v1/connections/${conn.id}/requests/${body.requests[0].id}`);
    expect(one.body.body).toBeNull();
    // An id that names no connection leaves no trace.
    const ghost = scimClient(t.app, { ...conn, id: 'no-such-connection', base: '/scim/v2/no-such-connection', token: 'x' });
    expect((await ghost.get('/Users')).status).toBe(401);
    await t.rc.requestLog.flush();
    const rows = await t.rc.database.db.selectFrom('request_log').select('connection_id').distinct().execute();
    expect(rows.map((r) => r.connection_id).sort()).toEqual([conn.id].sort());
  });

  it('pages newest first with a cursor and filters by status, method and resource', async () => {
    for (let i = 2; i <= 8; i++) expect((await okta.post('/Users', user(i))).status).toBe(201);
    const all: any[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const r = await api(`/api/v1/connections/${conn.id}/requests?limit=3${next ? `&before=${next}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.requests.length).toBeLessThanOrEqual(3);
      all.push(...r.body.requests);
      next = r.body.next;
      pages++;
    } while (next);
    // 1 create, 409, lookup, PATCH, 401, 7 creates.
    expect(all).toHaveLength(12);
    expect(pages).toBe(4);
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(12);
    expect([...ids].sort().reverse()).toEqual(ids);

    const errors = (await api(`/api/v1/connections/${conn.id}/requests?status=error`)).body.requests;
    expect(errors.map((e: any) => e.status).sort()).toEqual([401, 409]);
    expect((await api(`/api/v1/connections/${conn.id}/requests?status=4xx`)).body.requests).toHaveLength(2);
    expect((await api(`/api/v1/connections/${conn.id}/requests?status=201`)).body.requests).toHaveLength(8);
    expect((await api(`/api/v1/connections/${conn.id}/requests?method=patch`)).body.requests).toHaveLength(1);
    const forUser = (await api(`/api/v1/connections/${conn.id}/requests?resource=${created}`)).body.requests;
    expect(forUser.map((e: any) => e.method)).toEqual(['PATCH', 'POST']);
  });

  it('keeps connections apart and refuses bad queries, unknown ids and missing keys', async () => {
    expect((await scimClient(t.app, other).get('/Users')).status).toBe(200);
    const mine = (await api(`/api/v1/connections/${conn.id}/requests?limit=200`)).body.requests;
    const theirs = (await api(`/api/v1/connections/${other.id}/requests`)).body.requests;
    expect(theirs).toHaveLength(1);
    expect(mine.map((e: any) => e.id)).not.toContain(theirs[0].id);
    // Another connection's request is not found through this one.
    const cross = await api(`/api/v1/connections/${conn.id}/requests/${theirs[0].id}`);
    expect(cross.status).toBe(404);
    expect(cross.body.error.code).toBe('ROLLCALL_ADMIN_NOT_FOUND');

    expect((await api(`/api/v1/connections/no-such/requests`)).status).toBe(404);
    expect((await api(`/api/v1/connections/${conn.id}/requests`, false)).status).toBe(401);
    expect((await api(`/api/v1/connections/${conn.id}/health`, false)).status).toBe(401);
    for (const q of ['limit=0', 'limit=201', 'status=6xx', 'status=abc', 'method=TRACE', 'before=nope', 'colour=red']) {
      const r = await api(`/api/v1/connections/${conn.id}/requests?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe('ROLLCALL_ADMIN_BAD_INPUT');
    }
  });

  it('shows connection health: last request, last error, 30 days of counts', async () => {
    const h = await api(`/api/v1/connections/${conn.id}/health`);
    expect(h.status).toBe(200);
    expect(h.body.lastRequestAt).toBe(now.toISOString());
    expect(h.body.lastError).toMatchObject({ status: 401 });
    expect(h.body.days).toHaveLength(30);
    expect(h.body.days[29]).toEqual({ day: '2026-03-10', requests: 12, errors: 2 });
    expect(h.body.days[0].day).toBe('2026-02-09');
    expect(h.body.days.slice(0, 29).every((d: any) => d.requests === 0)).toBe(true);
  });

  it('prunes requests past ROLLCALL_REQUEST_LOG_DAYS with the purge; the day counts stay for health', async () => {
    // The purge prunes every connection's requests: this one's 12 and the other's 1.
    const before = (await api(`/api/v1/connections/${conn.id}/requests?limit=200`)).body.requests.length + 1;
    expect(before).toBe(13);
    now = new Date('2026-03-20T12:00:00.000Z');
    expect((await okta.get(`/Users/${created}`)).status).toBe(200);
    // 13 days later nothing is old enough.
    const early = await t.rc.purge(new Date('2026-03-23T12:00:00.000Z'));
    expect(early.requests).toBe(0);
    const report = await t.rc.purge(new Date('2026-03-25T12:00:00.000Z'));
    expect(report.requests).toBe(before);
    const left = (await api(`/api/v1/connections/${conn.id}/requests`)).body.requests;
    expect(left).toHaveLength(1);
    expect(left[0].at).toBe('2026-03-20T12:00:00.000Z');
    now = new Date('2026-03-25T12:00:00.000Z');
    const h = (await api(`/api/v1/connections/${conn.id}/health`)).body;
    expect(h.days.find((d: any) => d.day === '2026-03-10')).toEqual({ day: '2026-03-10', requests: 12, errors: 2 });
    expect(h.days.find((d: any) => d.day === '2026-03-20')).toEqual({ day: '2026-03-20', requests: 1, errors: 0 });
  });
});

describe('what the log keeps of a body', () => {
  it('replaces secrets at any depth and bounds strings, lists and the whole', () => {
    const kept = loggedBody({
      userName: 'a',
      password: 'p',
      'urn:example:ext': { apiKey: 'k', clientSecret: 's', nested: { accessToken: 't' } },
      title: 'x'.repeat(5000),
      members: Array.from({ length: 250 }, (_, i) => ({ value: `m${i}` })),
    }) as any;
    expect(kept.password).toBe('[redacted]');
    expect(kept['urn:example:ext']).toEqual({ apiKey: '[redacted]', clientSecret: '[redacted]', nested: { accessToken: '[redacted]' } });
    expect(kept.title.length).toBeLessThan(1100);
    expect(kept.title).toContain('(3976 more characters)');
    expect(kept.members).toHaveLength(101);
    expect(kept.members[100]).toBe('…(150 more items)');
    const huge = loggedBody({ Operations: Array.from({ length: 100 }, () => ({ op: 'add', path: 'emails', value: [{ value: 'y'.repeat(1000) }] })) }) as any;
    expect(huge.truncated).toBe(true);
    expect(huge.bytes).toBeGreaterThan(MAX_LOGGED_BODY);
    expect(loggedBody(undefined)).toBeUndefined();
    expect(loggedBody({ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'v' })).toMatchObject({ value: '[redacted]' });
  });

  it('tells the clients apart', () => {
    expect(provisioningClient('Okta SCIM Client 1.0.0', '/Users', undefined)).toBe('okta');
    expect(provisioningClient(ENTRA_UA, '/Users', undefined)).toBe('entra-id');
    expect(provisioningClient(undefined, '/scim/v2/x/Users?aadOptscim062020', undefined)).toBe('entra-id');
    expect(provisioningClient('curl/8', '/Users/1', { Operations: [{ op: 'replace', path: 'active', value: false }] })).toBe('other');
    expect(provisioningClient('curl/8', '/Users/1', { Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).toBe('entra-id');
  });
});

describe('log ids', () => {
  it('increase strictly within one millisecond and when the clock steps back', async () => {
    const { monotonicUuidv7, uuidv7Floor } = await import('../../src/events/outbox.js');
    const next = monotonicUuidv7();
    const ids = [next(1000), next(1000), next(1000), next(999), next(1001)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Floor(1000) <= ids[0]).toBe(true);
    expect(uuidv7Floor(1002) > ids[4]).toBe(true);
  });
});
