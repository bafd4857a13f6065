/**
 * Webhook secrets at rest: the AES-256-GCM box (keys, contexts, wrong keys), the
 * environment variables, endpoints added with a key stored sealed and signed with
 * the plain secret, plaintext rows from before the key sealed by the worker, a
 * sealed row without the key recorded as a delivery reason, and migration 0011
 * dropping receivers' bodies from old delivery reasons. Both backends.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox, SecretKeyError, isSealed } from '../../src/store/secret-box.js';
import { parseSecretKey } from '../../src/directory/secret-key.js';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { Webhooks, secretContext } from '../../src/events/webhooks.js';
import { DeliveryWorker } from '../../src/events/delivery.js';
import { verifyWebhook } from '../../src/events/signature.js';
import { migrationProvider } from '../../src/store/migrations.js';
import { emitEvents, newEvent, startReceiver, waitFor, type Receiver } from './helpers.js';

const quiet = { error: () => {}, warn: () => {}, info: () => {} };
const KEY = randomBytes(32);
const FAST = { backoffMs: 20, maxBackoffMs: 100, pollMs: 20, allowPrivate: true };

describe('SecretBox', () => {
  it('reads the key as hex, base64 or base64url and refuses anything else', () => {
    expect(parseSecretKey(KEY.toString('hex'))).toEqual(KEY);
    expect(parseSecretKey(KEY.toString('base64'))).toEqual(KEY);
    expect(parseSecretKey(` ${KEY.toString('base64url')}\n`)).toEqual(KEY);
    for (const bad of ['', 'short', KEY.toString('hex').slice(2), randomBytes(16).toString('base64'), randomBytes(48).toString('base64'), 'z'.repeat(64)]) {
      expect(() => parseSecretKey(bad), bad).toThrow(/32 bytes as 64 hex digits or base64/);
    }
  });

  it('seals with a fresh IV each time and opens only under the same key and context', () => {
    const box = new SecretBox(KEY);
    const a = box.seal('whsec_abc', 'webhooks.secret:1');
    const b = box.seal('whsec_abc', 'webhooks.secret:1');
    expect(a).not.toBe(b);
    expect(isSealed(a)).toBe(true);
    expect(a).toMatch(new RegExp(`^enc:v1:${box.keyId}:[A-Za-z0-9_-]+$`));
    expect(a).not.toContain('whsec_abc');
    expect(box.open(a, 'webhooks.secret:1')).toBe('whsec_abc');
    // Copied into another row: refused.
    expect(() => box.open(a, 'webhooks.secret:2')).toThrow(SecretKeyError);
    // Altered.
    const flipped = a.slice(0, -2) + (a.at(-2) === 'A' ? 'B' : 'A') + a.at(-1);
    expect(() => box.open(flipped, 'webhooks.secret:1')).toThrow(/does not open/);
    // Another key, or none.
    expect(() => new SecretBox(randomBytes(32)).open(a, 'webhooks.secret:1')).toThrow(new RegExp(`sealed under key ${box.keyId}, not under this ROLLCALL_SECRET_KEY`));
    expect(() => new SecretBox().open(a, 'webhooks.secret:1')).toThrow(/ROLLCALL_SECRET_KEY is not set/);
  });

  it('without a key stores and returns text as it is; text from before the key opens as it is', () => {
    expect(new SecretBox().seal('whsec_plain', 'x')).toBe('whsec_plain');
    expect(new SecretBox().sealing).toBe(false);
    expect(new SecretBox(KEY).open('whsec_plain', 'x')).toBe('whsec_plain');
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('configuration', () => {
  it('ROLLCALL_SECRET_KEY and ROLLCALL_WEBHOOK_ALLOW_PRIVATE', () => {
    const base = { DATABASE_URL: 'sqlite::memory:' };
    expect(loadConfig(base).webhooks).toMatchObject({ allowPrivate: false, secretKey: undefined });
    expect(loadConfig({ ...base, ROLLCALL_SECRET_KEY: KEY.toString('base64') }).webhooks.secretKey).toEqual(KEY);
    expect(() => loadConfig({ ...base, ROLLCALL_SECRET_KEY: 'hunter2' })).toThrow(/^ROLLCALL_SECRET_KEY must be 32 bytes/);
    expect(loadConfig({ ...base, ROLLCALL_WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true);
    expect(loadConfig({ ...base, ROLLCALL_WEBHOOK_ALLOW_PRIVATE: 'FALSE' }).webhooks.allowPrivate).toBe(false);
    expect(() => loadConfig({ ...base, ROLLCALL_WEBHOOK_ALLOW_PRIVATE: 'yes please' })).toThrow(/ROLLCALL_WEBHOOK_ALLOW_PRIVATE must be true or false/);
  });
});

describe('webhook secrets at rest', () => {
  let t: TestApp;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    t.rc.setLogger(quiet);
  });
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    cleanups.push(() => r.close());
    return r;
  }
  function worker(secretKey?: Buffer): DeliveryWorker {
    const w = new DeliveryWorker(t.rc.database.db, t.rc.database.dialect, () => quiet, { ...FAST, secretKey });
    w.start();
    cleanups.push(() => w.stop());
    return w;
  }
  const stored = async (id: string) => (await t.rc.database.db.selectFrom('webhooks').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;

  it('with a key, an endpoint is stored sealed, shown plain once, and deliveries are signed with the plain secret', async () => {
    const org = (await t.rc.connections.createOrganization('Sealed Corp', 'enterprise')).id;
    const r = await receiver();
    const hooks = new Webhooks(t.rc.database.db, () => new Date(), { allowPrivate: true, secretKey: KEY });
    const hook = await hooks.add(org, { url: r.url });
    expect(hook.secret).toMatch(/^whsec_/);
    const row = await stored(hook.id);
    expect(isSealed(row)).toBe(true);
    expect(row).not.toContain(hook.secret.slice(6));
    expect(new SecretBox(KEY).open(row, secretContext(hook.id))).toBe(hook.secret);
    await emitEvents(t.rc, [newEvent(org)]);
    worker(KEY);
    await waitFor(() => r.delivered().length === 1, 'one delivery');
    expect(verifyWebhook(r.requests[0].body, r.requests[0].signature, hook.secret)).toBe(true);
  });

  it('seals secrets stored before the key was set when a worker with the key starts; they keep signing', async () => {
    const org = (await t.rc.connections.createOrganization('Legacy Corp', 'enterprise')).id;
    const r = await receiver();
    const hook = await t.rc.webhooks.add(org, { url: r.url });
    expect(await stored(hook.id)).toBe(hook.secret);
    await emitEvents(t.rc, [newEvent(org)]);
    worker(KEY);
    await waitFor(() => r.delivered().length === 1, 'one delivery');
    expect(verifyWebhook(r.requests[0].body, r.requests[0].signature, hook.secret)).toBe(true);
    const row = await stored(hook.id);
    expect(isSealed(row)).toBe(true);
    expect(new SecretBox(KEY).open(row, secretContext(hook.id))).toBe(hook.secret);
  });

  it('a sealed secret without the key is a delivery failure that says so, retried until the key is back', async () => {
    const org = (await t.rc.connections.createOrganization('Keyless Corp', 'enterprise')).id;
    const r = await receiver();
    const hook = await new Webhooks(t.rc.database.db, () => new Date(), { allowPrivate: true, secretKey: KEY }).add(org, { url: r.url });
    await emitEvents(t.rc, [newEvent(org)]);
    const keyless = worker();
    await waitFor(async () => (await t.rc.webhooks.deliveries(hook.id))[0]?.attempts >= 1, 'an attempt');
    await keyless.stop();
    const [d] = await t.rc.webhooks.deliveries(hook.id);
    expect(d.status).toBe('pending');
    expect(d.lastError).toMatch(/^secret-key: the secret is sealed under key [0-9a-f]{8} and ROLLCALL_SECRET_KEY is not set$/);
    expect(r.requests).toEqual([]);
    worker(KEY);
    await waitFor(() => r.delivered().length === 1, 'delivered once the key is back');
    expect(verifyWebhook(r.requests[0].body, r.requests[0].signature, hook.secret)).toBe(true);
  });

  it('migration 0011 keeps the class and status of old reasons, not the body they quoted', async () => {
    const org = (await t.rc.connections.createOrganization('Old Reasons Corp', 'enterprise')).id;
    const hook = await t.rc.webhooks.add(org, { url: 'https://hooks.example.com/x' });
    const db = t.rc.database.db;
    const base = { webhook_id: hook.id, event_type: 'user.created', status: 'pending', attempts: 1, locked_until: null, last_attempt_at: null, delivered_at: null, created_at: new Date().toISOString(), next_attempt_at: new Date().toISOString(), due_since: new Date().toISOString(), claim_token: null };
    await db
      .insertInto('webhook_deliveries')
      .values([
        { ...base, sequence: 1, event_pos: 1, event_id: 'e1', resource_key: 'User:a', last_status_code: 503, last_error: 'HTTP 503: <html>internal hostname db-7.corp, password=hunter2</html>' },
        { ...base, sequence: 2, event_pos: 2, event_id: 'e2', resource_key: 'User:b', last_status_code: 302, last_error: 'HTTP 302: redirects are not followed' },
        { ...base, sequence: 3, event_pos: 3, event_id: 'e3', resource_key: 'User:c', last_status_code: null, last_error: 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443' },
        { ...base, sequence: 4, event_pos: 4, event_id: 'e4', resource_key: 'User:d', last_status_code: 200, last_error: null },
      ])
      .execute();
    const migrations = await migrationProvider(t.rc.database.dialect).getMigrations();
    await migrations['0011_delivery_reasons'].up(db);
    const rows = await db.selectFrom('webhook_deliveries').select(['sequence', 'last_error']).where('webhook_id', '=', hook.id).orderBy('sequence').execute();
    expect(rows.map((x) => x.last_error)).toEqual(['http-5xx: HTTP 503', 'http-3xx: HTTP 302', 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443', null]);
  });
});
