/**
 * Google Workspace through the admin API (the console's calls): create a pulled
 * connection, read its source without the key, start a run (202) and follow its
 * runs, and /metrics counting runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../src/http/server.js';
import { type GoogleSetup, ADMIN_EMAIL, DOMAIN, googleSetup, populate } from './helpers.js';

let s: GoogleSetup;
let app: FastifyInstance;
let key = '';

beforeAll(async () => {
  s = await googleSetup();
  populate(s.fake, 30, 2);
  app = await buildServer(s.rc, { logger: false });
  await app.ready();
  key = (await s.rc.admin.ensure()).token!;
});
afterAll(async () => {
  await app?.close();
  await s?.close();
});

async function api(method: string, url: string, body?: unknown) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: res.body, body: res.body ? (JSON.parse(res.body) as any) : undefined };
}

async function finished(connectionId: string, runId: string) {
  for (let i = 0; i < 200; i++) {
    const r = await api('GET', `/api/v1/connections/${connectionId}/source/runs/${runId}`);
    if (r.body.status !== 'running') return r.body;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('the run did not finish');
}

describe('Google Workspace: admin API', () => {
  it('creates a pulled connection from the key file, never answering the key', async () => {
    const org = await api('POST', '/api/v1/organizations', { name: 'Globex' });
    expect(org.status).toBe(201);
    const created = await api('POST', `/api/v1/organizations/${org.body.id}/connections/google-workspace`, { name: 'Globex Google', key: JSON.parse(s.keyText), adminEmail: ADMIN_EMAIL, domain: DOMAIN, orgUnits: ['/Sales'], intervalMinutes: 60 });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ kind: 'google-workspace', organizationId: org.body.id, source: { kind: 'google-workspace', intervalMinutes: 60, config: { adminEmail: ADMIN_EMAIL, domain: DOMAIN, orgUnits: ['/Sales'], clientId: expect.any(String) } } });
    expect(created.text).not.toContain('PRIVATE KEY');
    const source = await api('GET', `/api/v1/connections/${created.body.id}/source`);
    expect(source.status).toBe(200);
    expect(source.text).not.toContain('PRIVATE KEY');
    // Only the users of /Sales (odd indexes in the fake) are synced.
    const started = await api('POST', `/api/v1/connections/${created.body.id}/source/sync`);
    expect(started.status, started.text).toBe(202);
    expect(started.body.status).toBe('running');
    const run = await finished(created.body.id, started.body.id);
    expect(run).toMatchObject({ status: 'succeeded', counts: { usersSeen: 15, usersCreated: 15 } });
    expect(s.fake.seen.requests.some((r) => r.query.query === "orgUnitPath='/Sales'")).toBe(true);
  });

  it('refuses a key that is not a service account key, and a SCIM connection has no source', async () => {
    const bad = await api('POST', `/api/v1/organizations/${s.organizationId}/connections/google-workspace`, { name: 'Bad', key: { type: 'authorized_user' }, adminEmail: ADMIN_EMAIL, domain: DOMAIN });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ROLLCALL_SOURCE_KEY_INVALID');
    const noDomain = await api('POST', `/api/v1/organizations/${s.organizationId}/connections/google-workspace`, { name: 'Bad', key: s.keyText, adminEmail: ADMIN_EMAIL, domain: 'not a domain' });
    expect(noDomain.status).toBe(400);
    expect(noDomain.body.error.code).toBe('ROLLCALL_SOURCE_INVALID_CONFIG');
    const org = await api('POST', '/api/v1/organizations', { name: 'Initech' });
    const scim = await api('POST', `/api/v1/organizations/${org.body.id}/connections`, { name: 'Entra ID' });
    expect((await api('GET', `/api/v1/connections/${scim.body.id}/source`)).status).toBe(404);
    const sync = await api('POST', `/api/v1/connections/${scim.body.id}/source/sync`);
    expect(sync.status).toBe(409);
    expect(sync.body.error.code).toBe('ROLLCALL_SOURCE_NOT_CONFIGURED');
  });

  it('changes the settings and lists runs; a second run while one runs is 409; /metrics counts runs', async () => {
    const patched = await api('PATCH', `/api/v1/connections/${s.connectionId}/source`, { groups: ['group000@example.com'] });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.config.groups).toEqual(['group000@example.com']);
    s.fake.setDelay(30);
    const first = await api('POST', `/api/v1/connections/${s.connectionId}/source/sync`);
    expect(first.status).toBe(202);
    const second = await api('POST', `/api/v1/connections/${s.connectionId}/source/sync`);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('ROLLCALL_SOURCE_SYNC_RUNNING');
    const run = await finished(s.connectionId, first.body.id);
    s.fake.setDelay(0);
    expect(run.counts).toMatchObject({ usersCreated: 30, groupsSeen: 1, groupsCreated: 1 });
    const runs = await api('GET', `/api/v1/connections/${s.connectionId}/source/runs?limit=5`);
    expect(runs.body.runs[0].id).toBe(first.body.id);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${key}` } });
    expect(metrics.body).toMatch(/rollcall_source_sync_runs_total\{outcome="ok"\} 2/);
    expect(metrics.body).toMatch(/rollcall_source_sync_users_changed_total 45/);
  });

  it("a new primary domain (PATCH …/source domain) replaces the old one in the connection's verified domains", async () => {
    const before = await api('GET', `/api/v1/connections/${s.connectionId}`);
    expect(before.body.settings.domains).toEqual([DOMAIN]);
    const patched = await api('PATCH', `/api/v1/connections/${s.connectionId}/source`, { domain: 'Acme.Example' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.config.domain).toBe('acme.example');
    const after = await api('GET', `/api/v1/connections/${s.connectionId}`);
    expect(after.body.settings.domains).toEqual(['acme.example']);
    // Domains added by hand stay; an empty list (no domain check) is left alone.
    expect((await api('PATCH', `/api/v1/connections/${s.connectionId}/settings`, { domains: ['acme.example', 'subsidiary.example'] })).status).toBe(200);
    await api('PATCH', `/api/v1/connections/${s.connectionId}/source`, { domain: DOMAIN });
    expect((await api('GET', `/api/v1/connections/${s.connectionId}`)).body.settings.domains).toEqual([DOMAIN, 'subsidiary.example']);
    expect((await api('PATCH', `/api/v1/connections/${s.connectionId}/settings`, { domains: [] })).status).toBe(200);
    await api('PATCH', `/api/v1/connections/${s.connectionId}/source`, { domain: 'acme.example' });
    expect((await api('GET', `/api/v1/connections/${s.connectionId}`)).body.settings.domains).toEqual([]);
  });
});
