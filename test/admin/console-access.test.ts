/**
 * Console sessions and setup links: sign-in with the admin key sets a session
 * cookie (HttpOnly, SameSite=Strict) that needs the console header for changes;
 * a setup link opens a session that reaches its own organisation only — every
 * endpoint is tried with another organisation's ids; expired and revoked links
 * are refused; uses go to the audit trail; secrets never appear again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp } from '../support/app.js';

let now = new Date('2026-06-01T10:00:00.000Z');
let t: TestApp;
let key = '';

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  t.rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
  key = (await t.rc.admin.ensure()).token!;
});
afterAll(async () => {
  await t?.close();
});

interface Call {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  text: string;
}

async function call(method: string, url: string, opts: { body?: unknown; cookie?: string; bearer?: string; csrf?: boolean } = {}): Promise<Call> {
  const headers: Record<string, string> = {};
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.csrf !== false) headers['x-rollcall-console'] = '1';
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await t.app.inject({ method: method as 'GET', url, headers, payload: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined, text: res.body };
}
const admin = (method: string, url: string, body?: unknown) => call(method, url, { bearer: key, body });

/** The cookie pair (name=value) a Set-Cookie header sets. */
function cookieOf(r: Call): string {
  const set = r.headers['set-cookie'];
  const line = Array.isArray(set) ? set[0] : String(set);
  return line.split(';')[0];
}

describe('admin sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie that opens the admin API', async () => {
    const r = await call('POST', '/api/v1/session', { body: { adminKey: key } });
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('admin');
    const set = String(r.headers['set-cookie']);
    expect(set).toMatch(/^rollcall_session=rcs_/);
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).toMatch(/Path=\/api/);
    // https public URL: Secure.
    expect(set).toMatch(/Secure/);
    const cookie = cookieOf(r);
    expect((await call('GET', '/api/v1/organizations', { cookie })).status).toBe(200);
    expect((await call('GET', '/api/v1/session', { cookie })).body).toEqual({ scope: 'admin' });
    // A change needs the console header: a cross-site form cannot send it.
    const forged = await call('POST', '/api/v1/organizations', { cookie, body: { name: 'Forged' }, csrf: false });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('ROLLCALL_CSRF_HEADER_REQUIRED');
    expect((await call('POST', '/api/v1/organizations', { cookie, body: { name: 'Real' } })).status).toBe(201);
    // Signing out ends the session.
    expect((await call('DELETE', '/api/v1/session', { cookie })).status).toBe(204);
    const after = await call('GET', '/api/v1/organizations', { cookie });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('ROLLCALL_SESSION_INVALID');
  });

  it('refuses a wrong key, a missing header and a made-up cookie', async () => {
    const wrong = await call('POST', '/api/v1/session', { body: { adminKey: `${key}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await call('POST', '/api/v1/session', { body: { adminKey: key }, csrf: false })).status).toBe(403);
    expect((await call('GET', '/api/v1/organizations', { cookie: 'rollcall_session=rcs_made_up' })).body.error.code).toBe('ROLLCALL_SESSION_INVALID');
    expect((await call('GET', '/api/v1/organizations')).body.error.code).toBe('ROLLCALL_ADMIN_KEY_REQUIRED');
  });

  it('expires after ROLLCALL_SESSION_HOURS (12 by default)', async () => {
    const cookie = cookieOf(await call('POST', '/api/v1/session', { body: { adminKey: key } }));
    now = new Date(now.getTime() + 11 * 3_600_000);
    expect((await call('GET', '/api/v1/organizations', { cookie })).status).toBe(200);
    now = new Date(now.getTime() + 2 * 3_600_000);
    expect((await call('GET', '/api/v1/organizations', { cookie })).status).toBe(401);
  });
});

describe('setup links', () => {
  let mine: { org: string; conn: string; user: string; request: string; linkUrl: string; linkId: string };
  let theirs: { org: string; conn: string; user: string; request: string; webhook: string };
  let cookie = '';

  beforeAll(async () => {
    const other = await t.connection('Other customer');
    const otherUser = (await scimClient(t.app, other).post('/Users', { userName: 'eve@other.example' })).body.id;
    await t.rc.requestLog.flush();
    const otherRequest = (await admin('GET', `/api/v1/connections/${other.id}/requests`)).body.requests[0].id;
    const hook = await admin('POST', `/api/v1/organizations/${other.organizationId}/webhooks`, { url: 'https://hooks.example/x' });
    theirs = { org: other.organizationId!, conn: other.id, user: otherUser, request: otherRequest, webhook: hook.body.id };
    const org = (await admin('POST', '/api/v1/organizations', { name: 'Northwind' })).body.id;
    const link = await admin('POST', `/api/v1/organizations/${org}/setup-links`, { expiresIn: '2d' });
    expect(link.status).toBe(201);
    expect(link.headers['cache-control']).toBe('no-store');
    expect(link.body.url).toMatch(/^https:\/\/scim\.test\.example\/admin\/setup#rcl_[A-Za-z0-9_-]{43}$/);
    expect(link.body.expiresAt).toBe(new Date(now.getTime() + 2 * 86_400_000).toISOString());
    mine = { org, conn: '', user: '', request: '', linkUrl: link.body.url, linkId: link.body.id };
  });

  const secretOf = (url: string) => url.slice(url.indexOf('#') + 1);

  it('opens a session for its organisation, which can set up the SCIM connection and see its token once', async () => {
    const opened = await call('POST', '/api/v1/session/setup', { body: { secret: secretOf(mine.linkUrl) } });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ scope: 'organization', organization: { id: mine.org, name: 'Northwind' } });
    cookie = cookieOf(opened);
    const as = (method: string, url: string, body?: unknown) => call(method, url, { cookie, body });
    expect((await as('GET', '/api/v1/organizations')).body.organizations.map((o: any) => o.id)).toEqual([mine.org]);
    const created = await as('POST', `/api/v1/organizations/${mine.org}/connections`, { name: 'Entra ID', settings: { defaultRole: 'learner' } });
    expect(created.status).toBe(201);
    expect(created.body.token).toBeTruthy();
    mine.conn = created.body.id;
    const scim = scimClient(t.app, { id: created.body.id, token: created.body.token, base: `/scim/v2/${created.body.id}`, organizationId: mine.org });
    mine.user = (await scim.post('/Users', { userName: 'nancy@northwind.example' })).body.id;
    expect((await as('PATCH', `/api/v1/connections/${mine.conn}/settings`, { defaultLanguage: 'nl' })).status).toBe(200);
    expect((await as('GET', `/api/v1/connections/${mine.conn}/users`)).body.users.map((u: any) => u.id)).toEqual([mine.user]);
    const log = await as('GET', `/api/v1/connections/${mine.conn}/requests`);
    expect(log.status).toBe(200);
    mine.request = log.body.requests[0].id;
    expect((await as('GET', `/api/v1/users/${mine.user}`)).status).toBe(200);
    expect((await as('GET', `/api/v1/users/${mine.user}/history`)).status).toBe(200);
    // The token is in no later answer.
    for (const url of [`/api/v1/connections/${mine.conn}`, `/api/v1/organizations/${mine.org}/connections`, `/api/v1/connections/${mine.conn}/requests`]) {
      expect((await as('GET', url)).text).not.toContain(created.body.token);
    }
    const shown = await as('GET', `/api/v1/connections/${mine.conn}/requests/${mine.request}`);
    expect(shown.text).not.toContain(created.body.token);
  });

  it("reaches nothing of another organisation: every endpoint with the other's ids is 404 (or 403 for the admin's)", async () => {
    const tries: [string, string, unknown?][] = [
      ['GET', `/api/v1/organizations/${theirs.org}`],
      ['GET', `/api/v1/organizations/${theirs.org}/connections`],
      ['POST', `/api/v1/organizations/${theirs.org}/connections`, { name: 'x' }],
      ['GET', `/api/v1/organizations/${theirs.org}/audit`],
      ['GET', `/api/v1/connections/${theirs.conn}`],
      ['PATCH', `/api/v1/connections/${theirs.conn}/settings`, { defaultLanguage: 'de' }],
      ['POST', `/api/v1/connections/${theirs.conn}/token`, {}],
      ['POST', `/api/v1/connections/${theirs.conn}/disable`],
      ['POST', `/api/v1/connections/${theirs.conn}/enable`],
      ['GET', `/api/v1/connections/${theirs.conn}/requests`],
      ['GET', `/api/v1/connections/${theirs.conn}/requests/${theirs.request}`],
      ['GET', `/api/v1/connections/${mine.conn}/requests/${theirs.request}`],
      ['GET', `/api/v1/connections/${theirs.conn}/health`],
      ['GET', `/api/v1/connections/${theirs.conn}/users`],
      ['GET', `/api/v1/connections/${theirs.conn}/groups`],
      ['GET', `/api/v1/users/${theirs.user}`],
      ['GET', `/api/v1/users/${theirs.user}/history`],
    ];
    for (const [method, url, body] of tries) {
      const r = await call(method, url, { cookie, body });
      expect(r.status, `${method} ${url}`).toBe(404);
      expect(r.body.error.code, `${method} ${url}`).toBe('ROLLCALL_ADMIN_NOT_FOUND');
    }
    const adminOnly: [string, string, unknown?][] = [
      ['POST', '/api/v1/organizations', { name: 'x' }],
      ['PATCH', `/api/v1/organizations/${mine.org}`, { plan: 'enterprise' }],
      ['DELETE', `/api/v1/organizations/${theirs.org}`],
      ['DELETE', `/api/v1/connections/${mine.conn}`],
      ['POST', `/api/v1/organizations/${mine.org}/setup-links`, {}],
      ['GET', `/api/v1/organizations/${mine.org}/setup-links`],
      ['GET', `/api/v1/organizations/${theirs.org}/webhooks`],
      ['POST', `/api/v1/organizations/${mine.org}/webhooks`, { url: 'https://x.example/' }],
      ['GET', `/api/v1/webhooks/${theirs.webhook}`],
      ['GET', `/api/v1/webhooks/${theirs.webhook}/deliveries`],
      ['GET', '/api/v1/events'],
      ['GET', `/api/v1/events?organizationId=${theirs.org}`],
    ];
    for (const [method, url, body] of adminOnly) {
      const r = await call(method, url, { cookie, body });
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.error.code, `${method} ${url}`).toBe('ROLLCALL_ADMIN_FORBIDDEN');
    }
    // The other organisation is untouched.
    expect((await admin('GET', `/api/v1/connections/${theirs.conn}`)).body.status).toBe('active');
  });

  it('records each use and change in the audit trail, and lists links without their secret', async () => {
    const trail = (await admin('GET', `/api/v1/organizations/${mine.org}/audit`)).body.entries;
    const actions = trail.map((e: any) => e.action).reverse();
    expect(actions).toEqual([
      'setup_link.created',
      'setup_link.opened',
      'POST /api/v1/organizations/:id/connections',
      'PATCH /api/v1/connections/:id/settings',
    ]);
    expect(trail[0].actor).toBe(`setup-link:${mine.linkId}`);
    const links = await admin('GET', `/api/v1/organizations/${mine.org}/setup-links`);
    expect(links.body.setupLinks).toHaveLength(1);
    expect(links.body.setupLinks[0]).toMatchObject({ id: mine.linkId, status: 'active', uses: 1 });
    expect(links.text).not.toContain(secretOf(mine.linkUrl));
    // The organisation's own session sees its trail too.
    expect((await call('GET', `/api/v1/organizations/${mine.org}/audit`, { cookie })).status).toBe(200);
  });

  it('refuses a revoked link (and ends its sessions), an expired one and a made-up one', async () => {
    const revoked = await admin('DELETE', `/api/v1/organizations/${mine.org}/setup-links/${mine.linkId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect((await call('GET', `/api/v1/connections/${mine.conn}`, { cookie })).body.error.code).toBe('ROLLCALL_SESSION_INVALID');
    const again = await call('POST', '/api/v1/session/setup', { body: { secret: secretOf(mine.linkUrl) } });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('ROLLCALL_SETUP_LINK_REVOKED');

    const short = await admin('POST', `/api/v1/organizations/${mine.org}/setup-links`, { expiresIn: '30m' });
    const s = await call('POST', '/api/v1/session/setup', { body: { secret: secretOf(short.body.url) } });
    expect(s.status).toBe(200);
    const shortCookie = cookieOf(s);
    // The session ends with the link.
    expect(new Date(s.body.expiresAt).getTime()).toBe(new Date(short.body.expiresAt).getTime());
    now = new Date(now.getTime() + 31 * 60_000);
    expect((await call('GET', '/api/v1/organizations', { cookie: shortCookie })).status).toBe(401);
    const expired = await call('POST', '/api/v1/session/setup', { body: { secret: secretOf(short.body.url) } });
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('ROLLCALL_SETUP_LINK_EXPIRED');
    expect((await admin('GET', `/api/v1/organizations/${mine.org}/setup-links`)).body.setupLinks.map((l: any) => l.status)).toEqual(['expired', 'revoked']);

    const made = await call('POST', '/api/v1/session/setup', { body: { secret: 'rcl_made_up' } });
    expect(made.status).toBe(401);
    expect(made.body.error.code).toBe('ROLLCALL_SETUP_LINK_INVALID');
    for (const expiresIn of ['1m', '31d', 'soon', '']) {
      expect((await admin('POST', `/api/v1/organizations/${mine.org}/setup-links`, { expiresIn })).status, expiresIn).toBe(400);
    }
    expect((await admin('POST', `/api/v1/organizations/nope/setup-links`, {})).status).toBe(404);
  });

  it('stores only hashes of link secrets and session tokens', async () => {
    const db = t.rc.database.db;
    const links = await db.selectFrom('setup_links').select('hash').execute();
    const sessions = await db.selectFrom('console_sessions').select('hash').execute();
    for (const r of [...links, ...sessions]) expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(links)).not.toContain(secretOf(mine.linkUrl));
  });
});
