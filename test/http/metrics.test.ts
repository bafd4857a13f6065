/**
 * GET /metrics: only for the admin key or ROLLCALL_METRICS_TOKEN; SCIM requests by
 * connection, method and status (never a user's name), rate-limit refusals by
 * connection, event-loop delay, the webhook backlog and delivery outcomes, purge runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createRollcall, type Rollcall, type RollcallOptions } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { loadConfig } from '../../src/config.js';
import { freshDatabase } from '../support/databases.js';
import { startReceiver, waitFor } from '../events/helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const quiet = { error: () => {}, warn: () => {}, info: () => {} };

async function start(opts: Partial<RollcallOptions> = {}, metricsToken?: string): Promise<{ rc: Rollcall; app: FastifyInstance; adminKey: string }> {
  const database = await freshDatabase('rollcall-metrics-');
  cleanups.push(() => database.drop());
  const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', ...opts });
  rc.setLogger(quiet);
  const app = await buildServer(rc, { logger: false, metricsToken });
  cleanups.push(async () => {
    await app.close();
    await rc.close();
  });
  const { token } = await rc.admin.ensure();
  return { rc, app, adminKey: token! };
}

async function scrape(app: FastifyInstance, key: string): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${key}` } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** The value of the sample `name` whose labels are exactly `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[k] = v;
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const userBody = (userName: string) => JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName });

describe('/metrics access', () => {
  it('is 401 without credentials or with a wrong token, 200 with the admin key; the metrics token opens it too', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const { app, adminKey } = await start({}, token);
    const bare = await app.inject({ method: 'GET', url: '/metrics' });
    expect(bare.statusCode).toBe(401);
    expect(bare.headers['www-authenticate']).toBe('Bearer realm="rollcall-admin"');
    expect(bare.json().detail).toContain('admin key or ROLLCALL_METRICS_TOKEN');
    expect(bare.body).not.toContain('rollcall_build_info');
    for (const authorization of ['Bearer not-the-token', `Basic ${Buffer.from(`x:${token}`).toString('base64')}`, `Bearer ${token}x`]) {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.body).not.toContain('rollcall_build_info');
    }
    expect(await scrape(app, token)).toContain('rollcall_build_info{');
    expect(await scrape(app, adminKey)).toContain('rollcall_build_info{');
  });

  it('ROLLCALL_METRICS_TOKEN is at least 16 characters without spaces; unset, there is none', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ ROLLCALL_METRICS_TOKEN: '  metrics-token-0123456789abcdef ' }).metricsToken).toBe('metrics-token-0123456789abcdef');
    expect(() => loadConfig({ ROLLCALL_METRICS_TOKEN: 'short' })).toThrow(/ROLLCALL_METRICS_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ ROLLCALL_METRICS_TOKEN: 'metrics token 0123456789' })).toThrow(/without spaces/);
  });

  it('without a metrics token only the admin key opens it', async () => {
    const { app, adminKey } = await start();
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789abcdef' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toBe('The token is not the admin key.');
    expect(await scrape(app, adminKey)).toContain('rollcall_process_cpu_seconds_total');
  });
});

describe('what /metrics reports', () => {
  it('SCIM requests by authenticated connection, method and status, and the seconds spent; no user names; failed authentication unlabelled', async () => {
    const { rc, app, adminKey } = await start();
    const a = await rc.connections.create({ name: 'A' });
    const b = await rc.connections.create({ name: 'B' });
    const auth = (c: { token: string }) => ({ authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' });
    expect((await app.inject({ method: 'POST', url: `/scim/v2/${a.id}/Users`, headers: auth(a), payload: userBody('jane.doe@example.com') })).statusCode).toBe(201);
    expect((await app.inject({ method: 'POST', url: `/scim/v2/${a.id}/Users`, headers: auth(a), payload: userBody('jane.doe@example.com') })).statusCode).toBe(409);
    for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: `/scim/v2/${b.id}/Users?filter=${encodeURIComponent('userName eq "jane.doe@example.com"')}`, headers: auth(b) });
    expect((await app.inject({ method: 'GET', url: `/scim/v2/${a.id}/Users`, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);

    const text = await scrape(app, adminKey);
    expect(sample(text, 'rollcall_scim_requests_total', { connection: a.id, method: 'POST', status: '201' })).toBe(1);
    expect(sample(text, 'rollcall_scim_requests_total', { connection: a.id, method: 'POST', status: '409' })).toBe(1);
    expect(sample(text, 'rollcall_scim_requests_total', { connection: b.id, method: 'GET', status: '200' })).toBe(3);
    expect(sample(text, 'rollcall_scim_requests_total', { connection: a.id, method: 'GET', status: '401' })).toBeUndefined();
    expect(sample(text, 'rollcall_http_requests_total', { method: 'GET', route: '/scim/v2/:connectionId/Users', status: '401' })).toBe(1);
    expect(sample(text, 'rollcall_scim_request_seconds_total', { connection: b.id })).toBeGreaterThan(0);
    expect(sample(text, 'rollcall_http_request_duration_seconds_count', { method: 'GET', route: '/scim/v2/:connectionId/Users' })).toBe(4);
    // Ids and route patterns only: neither the userName nor the filter.
    expect(text).not.toContain('jane');
    expect(text).not.toContain('wrong');
    // /metrics does not count itself.
    expect(text).not.toContain('route="/metrics"');
  });

  it('rate-limit refusals by connection', async () => {
    const now = new Date('2026-05-04T12:00:15Z');
    const { rc, app, adminKey } = await start({ rateLimitPerMinute: 2, clock: () => now });
    const a = await rc.connections.create({ name: 'A' });
    const b = await rc.connections.create({ name: 'B' });
    const get = (c: { id: string; token: string }) => app.inject({ method: 'GET', url: `/scim/v2/${c.id}/Users?count=1`, headers: { authorization: `Bearer ${c.token}` } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(a)).statusCode);
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    expect((await get(b)).statusCode).toBe(200);
    const text = await scrape(app, adminKey);
    expect(sample(text, 'rollcall_rate_limit_refusals_total', { connection: a.id })).toBe(3);
    expect(sample(text, 'rollcall_rate_limit_refusals_total', { connection: b.id })).toBeUndefined();
    expect(sample(text, 'rollcall_scim_requests_total', { connection: a.id, method: 'GET', status: '429' })).toBe(3);
  });

  it('event-loop delay p50, p99 and max over a window, beside prom-client’s own', async () => {
    const { app, adminKey } = await start();
    const text = await scrape(app, adminKey);
    const p50 = sample(text, 'rollcall_event_loop_delay_p50_seconds')!;
    const p99 = sample(text, 'rollcall_event_loop_delay_p99_seconds')!;
    const max = sample(text, 'rollcall_event_loop_delay_max_seconds')!;
    expect(p50).toBeGreaterThanOrEqual(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(max).toBeGreaterThanOrEqual(p99);
    expect(text).toContain('rollcall_nodejs_eventloop_lag_p99_seconds');
    // A 200 ms block of the loop shows in the window's maximum.
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 200;
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 50));
    expect(sample(await scrape(app, adminKey), 'rollcall_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0.15);
  });

  it('purge runs by outcome, users purged and the last success', async () => {
    const { rc, app, adminKey } = await start();
    const c = await rc.connections.create({ name: 'A' });
    const headers = { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' };
    const made = await app.inject({ method: 'POST', url: `/scim/v2/${c.id}/Users`, headers, payload: userBody('gone@example.com') });
    expect((await app.inject({ method: 'DELETE', url: `/scim/v2/${c.id}/Users/${made.json().id}`, headers })).statusCode).toBe(204);
    const before = Date.now() / 1000;
    expect((await rc.purge(new Date(Date.now() + 400 * 86_400_000))).purged).toBe(1);
    await rc.purge();
    await expect(rc.purge(new Date(NaN))).rejects.toThrow();
    const text = await scrape(app, adminKey);
    expect(sample(text, 'rollcall_purge_runs_total', { outcome: 'ok' })).toBe(2);
    expect(sample(text, 'rollcall_purge_runs_total', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'rollcall_purge_users_total')).toBe(1);
    const last = sample(text, 'rollcall_purge_last_success_timestamp_seconds')!;
    expect(last).toBeGreaterThanOrEqual(before - 1);
    expect(last).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  });

  it('webhook backlog (pending, oldest pending age), failed attempts and deliveries given up', async () => {
    let failing = true;
    const receiver = await startReceiver(() => (failing ? 500 : 200));
    cleanups.push(() => receiver.close());
    const { rc, app, adminKey } = await start({ webhooks: { allowPrivate: true, backoffMs: 50, maxBackoffMs: 50, retryWindowMs: 1500, pollMs: 20 } });
    const c = await rc.connections.create({ name: 'A' });
    await rc.webhooks.add(c.organizationId!, { url: receiver.url });
    const headers = { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' };
    let text = await scrape(app, adminKey);
    expect(sample(text, 'rollcall_webhook_deliveries_pending')).toBe(0);
    expect(sample(text, 'rollcall_webhook_oldest_pending_seconds')).toBe(0);
    expect((await app.inject({ method: 'POST', url: `/scim/v2/${c.id}/Users`, headers, payload: userBody('first@example.com') })).statusCode).toBe(201);
    rc.startDelivery();
    await waitFor(() => receiver.requests.length >= 2, 'two failed attempts');
    text = await scrape(app, adminKey);
    expect(sample(text, 'rollcall_webhook_deliveries_pending')).toBe(1);
    expect(sample(text, 'rollcall_webhook_oldest_pending_seconds')).toBeGreaterThan(0);
    expect(sample(text, 'rollcall_webhook_delivery_attempts_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(1);
    // The retry window ends: given up, no longer pending.
    await waitFor(async () => sample(await scrape(app, adminKey), 'rollcall_webhook_deliveries_given_up_total') === 1, 'the delivery given up');
    failing = false;
    expect((await app.inject({ method: 'POST', url: `/scim/v2/${c.id}/Users`, headers, payload: userBody('second@example.com') })).statusCode).toBe(201);
    await waitFor(() => receiver.delivered().length === 1, 'the second delivered');
    text = await waitFor(async () => {
      const t = await scrape(app, adminKey);
      return sample(t, 'rollcall_webhook_delivery_attempts_total', { outcome: 'delivered' }) === 1 ? t : '';
    }, 'the delivered attempt counted');
    expect(sample(text, 'rollcall_webhook_deliveries_pending')).toBe(0);
    expect(sample(text, 'rollcall_webhook_delivery_attempts_total', { outcome: 'failed' })).toBe(receiver.requests.length - 1);
    expect(sample(text, 'rollcall_webhook_deliveries_given_up_total')).toBe(1);
  });
});
