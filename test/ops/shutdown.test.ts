/**
 * `rollcall serve` stops gracefully on SIGTERM: it accepts no new connections,
 * lets a request in flight finish (and writes it to the provisioning log), lets a
 * webhook delivery in flight finish up to the webhook timeout, closes the
 * database and exits 0, with the data stored.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRollcall } from '../../src/rollcall.js';
import { openDatabase } from '../../src/store/db.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { startReceiver, waitFor } from '../events/helpers.js';
import { baseEnv, serve, type Served } from './support.js';
import { tenantOf } from '../../src/store/tenant.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  d: TestDatabase;
  connection: { id: string; token: string };
}

/** A database with a connection and, when `webhookUrl` is given, an endpoint for its organisation. */
async function setup(webhookUrl?: string): Promise<Setup> {
  const d = await freshDatabase('rollcall-shutdown-');
  cleanups.push(() => d.drop());
  const rc = await createRollcall({ databaseUrl: d.url, publicUrl: 'https://scim.test', webhooks: { allowPrivate: true } });
  try {
    const c = await rc.connections.create({ name: 'Shutdown' });
    if (webhookUrl) await rc.webhooks.add(c.organizationId!, { url: webhookUrl });
    return { d, connection: { id: c.id, token: c.token } };
  } finally {
    await rc.close();
  }
}

async function started(s: Setup, extra: Record<string, string> = {}): Promise<Served> {
  const served = await serve(baseEnv({ DATABASE_URL: s.d.url, ROLLCALL_WEBHOOK_ALLOW_PRIVATE: 'true', ...extra }));
  cleanups.push(() => served.stop());
  return served;
}

function exited(served: Served): Promise<number | null> {
  if (served.child.exitCode !== null) return Promise.resolve(served.child.exitCode);
  return new Promise((resolve) => served.child.once('exit', (code) => resolve(code)));
}

const userBody = (userName: string) => JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName });

/** What the stopped server left in the database. */
async function stored(s: Setup) {
  const opened = await openDatabase(s.d.url);
  try {
    const users = await opened.db.selectFrom('users').select('user_name').where('tenant', '=', tenantOf(s.connection.id)).execute();
    const logged = await opened.db.selectFrom('request_log').select(['method', 'status']).where('connection_id', '=', s.connection.id).execute();
    const deliveries = await opened.db.selectFrom('webhook_deliveries').select(['status', 'attempts']).execute();
    return { users: users.map((u) => u.user_name), logged: logged.map((l) => `${l.method} ${l.status}`), deliveries };
  } finally {
    await opened.close();
  }
}

describe('graceful shutdown on SIGTERM', () => {
  it('refuses new connections, finishes the request in flight (201), writes it to the log and exits 0', async () => {
    const s = await setup();
    const served = await started(s);
    const url = new URL(`${served.url}/scim/v2/${s.connection.id}/Users`);
    const body = Buffer.from(userBody('in.flight@example.com'));
    // The headers and half the body now; the rest once the server has been told to stop.
    let answered!: (r: { status: number; body: string; connection?: string; at: number }) => void;
    const response = new Promise<{ status: number; body: string; connection?: string; at: number }>((resolve) => (answered = resolve));
    const req = http.request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.connection.token}`, 'content-type': 'application/scim+json', 'content-length': body.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => answered({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection, at: Date.now() }));
    });
    req.write(body.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 300));
    let exitedAt = 0;
    const exit = exited(served).then((code) => {
      exitedAt = Date.now();
      return code;
    });
    served.child.kill('SIGTERM');
    // No new connections once it is stopping, while the request in flight keeps it running.
    await waitFor(
      () =>
        fetch(`${served.url}/healthz`).then(
          () => false,
          () => true,
        ),
      'the listener to close',
      10_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(served.child.exitCode).toBeNull();
    req.end(body.subarray(10));
    const res = await response;
    expect(res.status, res.body).toBe(201);
    expect(JSON.parse(res.body).userName).toBe('in.flight@example.com');
    // The kept-alive connection is closed with the answer, so the exit need not wait for its idle timeout.
    expect(res.connection).toBe('close');
    expect(await exit, served.output()).toBe(0);
    expect(exitedAt).toBeGreaterThanOrEqual(res.at);
    expect(exitedAt - res.at).toBeLessThan(4000);
    const after = await stored(s);
    expect(after.users).toEqual(['in.flight@example.com']);
    // The provisioning log's queue was written out before the database closed.
    expect(after.logged).toEqual(['POST 201']);
  });

  it('lets a webhook delivery in flight finish (longer than the default 2 s grace, within the webhook timeout), records it and exits 0', async () => {
    let arrived = false;
    const receiver = await startReceiver(async () => {
      arrived = true;
      await new Promise((r) => setTimeout(r, 3000));
      return 200;
    });
    cleanups.push(() => receiver.close());
    const s = await setup(receiver.url);
    const served = await started(s, { ROLLCALL_WEBHOOK_TIMEOUT_MS: '8000' });
    const made = await fetch(`${served.url}/scim/v2/${s.connection.id}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.connection.token}`, 'content-type': 'application/scim+json' },
      body: userBody('hooked@example.com'),
    });
    expect(made.status).toBe(201);
    await waitFor(() => arrived, 'the delivery to arrive');
    const exit = exited(served);
    const signalledAt = Date.now();
    served.child.kill('SIGTERM');
    expect(await exit, served.output()).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2500);
    expect(receiver.requests.map((r) => r.status)).toEqual([200]);
    const after = await stored(s);
    expect(after.users).toEqual(['hooked@example.com']);
    expect(after.deliveries).toEqual([{ status: 'delivered', attempts: 1 }]);
  });
});
