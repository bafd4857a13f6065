/**
 * Webhook delivery against local HTTP receivers: signed requests, retries until a
 * failing receiver recovers, every event exactly once by id, order per resource
 * under retries, type filters, the retry window, redelivery, a receiver that is
 * down and comes back, two workers on one database, and a clean stop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { verifyWebhook } from '../../src/events/signature.js';
import type { RollcallEvent } from '../../src/events/types.js';
import { DeliveryWorker, type DeliveryOptions } from '../../src/events/delivery.js';
import { onPostgres } from '../support/databases.js';
import { emitEvents, newEvent, startReceiver, waitFor, type Receiver } from './helpers.js';

// allowPrivate: the receivers are on 127.0.0.1 (workers made here directly do not inherit the harness's opt-in).
const FAST: DeliveryOptions = { backoffMs: 20, maxBackoffMs: 150, pollMs: 50, timeoutMs: 5_000, allowPrivate: true };

let t: TestApp;
const cleanups: (() => Promise<unknown>)[] = [];

const quiet = { error: () => {}, warn: () => {}, info: () => {} };

beforeAll(async () => {
  t = await startTestApp();
  t.rc.setLogger(quiet);
});
afterEach(async () => {
  await t.rc.stopDelivery();
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  await t?.close();
});

async function org(name: string): Promise<string> {
  return (await t.rc.connections.createOrganization(name, 'enterprise')).id;
}

async function receiver(answer?: Parameters<typeof startReceiver>[0], port?: number): Promise<Receiver> {
  const r = await startReceiver(answer, port);
  cleanups.push(() => r.close());
  return r;
}

/** Resolves once the endpoint has `n` deliveries and none of them is pending. */
async function settled(webhookId: string, n: number, rc: Rollcall = t.rc, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const rows = await rc.database.db.selectFrom('webhook_deliveries').select('status').where('webhook_id', '=', webhookId).execute();
      return rows.length === n && rows.every((x) => x.status !== 'pending');
    },
    `${n} settled deliveries`,
    timeoutMs,
  );
}

/** Every event id answered 2xx exactly once. */
function expectEachOnce(r: Receiver, ids: string[]) {
  const delivered = r.delivered();
  const counts = new Map<string, number>();
  for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...counts.keys()].sort()).toEqual([...ids].sort());
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
}

describe('webhook delivery', () => {
  it('retries a receiver that fails the first deliveries, then delivers every event exactly once, signed', async () => {
    const o = await org('Retry Corp');
    const FAILS = 7;
    const r = await receiver(({ index }) => (index < FAILS ? 503 : 200));
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    const events: RollcallEvent[] = [];
    const unsubscribe = t.rc.events.subscribe((e) => void events.push(e));
    cleanups.push(async () => unsubscribe());
    for (let i = 0; i < 4; i++) await emitEvents(t.rc, Array.from({ length: 5 }, (_, k) => newEvent(o, { resourceId: `u${k}`, data: { i, k } })));
    await waitFor(() => events.length === 20, '20 events published');
    t.rc.startDelivery(FAST);
    const ids = events.map((e) => e.id);
    await waitFor(() => new Set(r.delivered()).size === 20, 'all 20 events delivered');
    await settled(hook.id, 20);
    expectEachOnce(r, ids);
    expect(r.requests.slice(0, FAILS).every((q) => q.status === 503)).toBe(true);
    // Each request: JSON, the event as published, its id in a header, a valid signature.
    for (const q of r.requests) {
      expect(q.contentType).toBe('application/json');
      const body = JSON.parse(q.body) as RollcallEvent;
      expect(body.id).toBe(q.eventId);
      expect(body).toEqual(events.find((e) => e.id === q.eventId));
      expect(Object.keys(body)).toEqual(['id', 'type', 'occurredAt', 'organizationId', 'connectionId', 'sequence', 'data']);
      expect(verifyWebhook(q.body, q.signature, hook.secret)).toBe(true);
      expect(verifyWebhook(q.body, q.signature, 'whsec_wrong')).toBe(false);
    }
    const deliveries = await t.rc.webhooks.deliveries(hook.id);
    expect(deliveries).toHaveLength(20);
    expect(deliveries.every((d) => d.status === 'delivered' && d.deliveredAt && d.lastStatusCode === 200 && d.lastError === null)).toBe(true);
    const retried = deliveries.filter((d) => d.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(deliveries.reduce((s, d) => s + d.attempts, 0)).toBe(r.requests.length);
  });

  it('delivers in order per resource under retries', async () => {
    const o = await org('Order Corp');
    // Every event fails its first attempt, and every third request fails as well.
    const r = await receiver(({ seen, index }) => (seen === 0 || index % 3 === 0 ? 500 : 200));
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    t.rc.startDelivery({ ...FAST, concurrency: 6 });
    const resources = ['a', 'b', 'c', 'd', 'e'];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) for (const res of resources) writes.push(emitEvents(t.rc, [newEvent(o, { resourceId: res, type: i ? 'user.updated' : 'user.created', data: { res, i } })]));
    await Promise.all(writes);
    await settled(hook.id, 40, t.rc, 30_000);
    const byId = new Map(r.requests.map((q) => [q.eventId, JSON.parse(q.body) as RollcallEvent]));
    expectEachOnce(r, [...byId.keys()]);
    for (const res of resources) {
      // Successful deliveries of one resource arrive in the order the events happened...
      const ok = r.requests.filter((q) => q.status === 200 && (byId.get(q.eventId)!.data as { res: string }).res === res);
      expect(ok.map((q) => (byId.get(q.eventId)!.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // ...and no attempt of event k+1 was made before event k had been delivered.
      const all = r.requests.map((q, index) => ({ index, q, ev: byId.get(q.eventId)! })).filter((x) => (x.ev.data as { res: string }).res === res);
      for (const x of all) {
        const i = (x.ev.data as { i: number }).i;
        if (i === 0) continue;
        const prevDelivered = all.find((y) => (y.ev.data as { i: number }).i === i - 1 && y.q.status === 200);
        expect(prevDelivered && prevDelivered.index < x.index).toBe(true);
      }
    }
  });

  it('sends only the event types an endpoint asked for, and only events committed after it was added', async () => {
    const o = await org('Filter Corp');
    await emitEvents(t.rc, [newEvent(o, { type: 'user.deleted', data: { before: true } })]);
    const r = await receiver();
    const hook = await t.rc.webhooks.add(o, { url: r.url, events: ['user.deleted', 'group.deleted'] });
    expect(hook.events).toEqual(['user.deleted', 'group.deleted']);
    const all = await receiver();
    await t.rc.webhooks.add(o, { url: all.url });
    await emitEvents(t.rc, [newEvent(o, { type: 'user.created' }), newEvent(o, { type: 'user.deleted', data: { after: true } }), newEvent(o, { type: 'group.created' })]);
    t.rc.startDelivery(FAST);
    await waitFor(() => all.delivered().length === 3 && r.delivered().length === 1, 'deliveries to both endpoints');
    await settled(hook.id, 1);
    expect(JSON.parse(r.requests[0].body).data).toEqual({ after: true });
    expect(r.requests).toHaveLength(1);
    // (three resources: delivered in parallel, so in any order)
    expect(all.requests.map((q) => JSON.parse(q.body).type).sort()).toEqual(['group.created', 'user.created', 'user.deleted']);
  });

  it('marks a delivery failed after the retry window, then goes on with the resource\'s next event', async () => {
    const o = await org('Window Corp');
    let poisonId = '';
    const r = await receiver(({ eventId }) => (eventId === poisonId ? 500 : 200));
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    const got: RollcallEvent[] = [];
    const unsubscribe = t.rc.events.subscribe((e) => void got.push(e));
    cleanups.push(async () => unsubscribe());
    await emitEvents(t.rc, [newEvent(o, { resourceId: 'r1', data: { n: 1 } })]);
    await waitFor(() => got.length === 1, 'first event');
    poisonId = got[0].id;
    await emitEvents(t.rc, [newEvent(o, { resourceId: 'r1', data: { n: 2 } }), newEvent(o, { resourceId: 'r2', data: { n: 3 } })]);
    t.rc.startDelivery({ ...FAST, retryWindowMs: 400 });
    await settled(hook.id, 3);
    const deliveries = await t.rc.webhooks.deliveries(hook.id);
    const failed = deliveries.find((d) => d.eventId === poisonId)!;
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBeGreaterThan(1);
    expect(failed.lastStatusCode).toBe(500);
    // The status in our words; the receiver's body ('not now') is not recorded.
    expect(failed.lastError).toBe('http-5xx: HTTP 500');
    expect(failed.nextAttemptAt).toBeNull();
    expect(r.delivered().map((id) => JSON.parse(r.requests.find((q) => q.eventId === id)!.body).data.n).sort()).toEqual([2, 3]);
    // r1's second event went out only after its first had failed for good.
    const lastPoison = Math.max(...r.requests.map((q, i) => (q.eventId === poisonId ? i : -1)));
    const second = r.requests.findIndex((q) => JSON.parse(q.body).data.n === 2);
    expect(second).toBeGreaterThan(lastPoison);

    // A redelivery sends it again with a fresh window: now the receiver takes it.
    poisonId = '';
    const again = await t.rc.webhooks.redeliver(hook.id, failed.eventId);
    expect(again.status).toBe('pending');
    await waitFor(() => r.delivered().includes(failed.eventId), 'the redelivered event');
    await waitFor(async () => (await t.rc.webhooks.deliveries(hook.id, { status: 'delivered' })).length === 3, 'all delivered');
  });

  it('a receiver that is down and comes back receives everything, once per event id', async () => {
    const o = await org('Down Corp');
    // Reserve a port, then free it: the endpoint refuses connections until a receiver listens there.
    const probe = http.createServer();
    await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((res) => probe.close(() => res()));
    const hook = await t.rc.webhooks.add(o, { url: `http://127.0.0.1:${port}/down` });
    const got: RollcallEvent[] = [];
    const unsubscribe = t.rc.events.subscribe((e) => void got.push(e));
    cleanups.push(async () => unsubscribe());
    for (let i = 0; i < 10; i++) await emitEvents(t.rc, [newEvent(o, { resourceId: `u${i % 3}` })]);
    t.rc.startDelivery(FAST);
    await waitFor(async () => (await t.rc.webhooks.deliveries(hook.id)).filter((d) => d.attempts >= 2).length >= 3, 'several failed attempts');
    const refused = await t.rc.webhooks.deliveries(hook.id);
    expect(refused.some((d) => d.lastStatusCode === null && /^refused: .*ECONNREFUSED/.test(d.lastError ?? ''))).toBe(true);
    const r = await receiver(undefined, port);
    await settled(hook.id, 10);
    await waitFor(() => got.length === 10, 'events published');
    expectEachOnce(r, got.map((e) => e.id));
  });

  it('two workers on one database never deliver the same event at once and together deliver each exactly once', async () => {
    const o = await org('Two Workers Corp');
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const r = await receiver(async ({ eventId, seen }) => {
      if (inFlight.has(eventId)) overlaps.push(eventId);
      inFlight.add(eventId);
      await new Promise((res) => setTimeout(res, 5 + (eventId.charCodeAt(35) % 20)));
      inFlight.delete(eventId);
      return seen === 0 && eventId.charCodeAt(34) % 3 === 0 ? 502 : 200;
    });
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    const got: RollcallEvent[] = [];
    const unsubscribe = t.rc.events.subscribe((e) => void got.push(e));
    cleanups.push(async () => unsubscribe());
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        emitEvents(t.rc, [newEvent(o, { resourceId: `u${i % 20}`, data: { res: `u${i % 20}` } }), newEvent(o, { resourceId: `v${i}`, data: { res: `v${i}` } })]),
      ),
    );
    await waitFor(() => got.length === 120, '120 events published');
    if (onPostgres) {
      // Two instances, each with its own connection pool, as two servers would run.
      const second = await createRollcall({ databaseUrl: t.databaseUrl, publicUrl: 'https://second.example' });
      cleanups.push(() => second.close());
      t.rc.startDelivery({ ...FAST, concurrency: 8 });
      second.startDelivery({ ...FAST, concurrency: 8 });
    } else {
      // SQLite: two instances in one process would block each other's synchronous
      // busy-waits, so two workers share this instance's connection (their claims
      // still interleave; the CLI tests run two server processes on one file).
      t.rc.startDelivery({ ...FAST, concurrency: 8 });
      const other = new DeliveryWorker(t.rc.database.db, t.rc.database.dialect, () => quiet, { ...FAST, concurrency: 8 });
      other.start();
      cleanups.push(() => other.stop());
    }
    await settled(hook.id, 120, t.rc, 40_000);
    expect(overlaps).toEqual([]);
    expectEachOnce(r, got.map((e) => e.id));
    const deliveries = await t.rc.webhooks.deliveries(hook.id, { limit: 1000 });
    expect(deliveries.reduce((s, d) => s + d.attempts, 0)).toBe(r.requests.length);
    // Order per resource held across the two workers: no attempt at an event before the
    // resource's previous event had been delivered.
    const parsed = r.requests.map((q, index) => ({ index, status: q.status, ev: JSON.parse(q.body) as RollcallEvent }));
    for (const x of parsed) {
      const res = (x.ev.data as { res: string }).res;
      const earlier = got.filter((e) => (e.data as { res: string }).res === res && e.sequence < x.ev.sequence);
      for (const e of earlier) expect(parsed.some((y) => y.ev.id === e.id && y.status === 200 && y.index < x.index)).toBe(true);
    }
  });

  it('stops cleanly: an in-flight request is aborted after the grace period and its claim given back', async () => {
    const o = await org('Stop Corp');
    let hang = true;
    const r = await receiver(() => (hang ? new Promise<number>(() => {}) : 200));
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    await emitEvents(t.rc, [newEvent(o)]);
    const worker = t.rc.startDelivery({ ...FAST, stopGraceMs: 100 });
    await waitFor(() => r.requests.length === 1, 'the request in flight');
    const started = Date.now();
    await t.rc.stopDelivery();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(worker.isRunning).toBe(false);
    const [d] = await t.rc.webhooks.deliveries(hook.id);
    expect(d).toMatchObject({ status: 'pending', attempts: 0 });
    const row = await t.rc.database.db.selectFrom('webhook_deliveries').select(['claim_token', 'locked_until']).where('webhook_id', '=', hook.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ claim_token: null, locked_until: null });
    // Nothing is sent while stopped; a new worker picks it up.
    hang = false;
    expect(r.requests).toHaveLength(1);
    t.rc.startDelivery(FAST);
    await waitFor(() => r.delivered().length === 1, 'delivered by the restarted worker');
  });

  it('works through a backlog larger than one materialising batch', async () => {
    const o = await org('Backlog Corp');
    const r = await receiver();
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    const N = 2_500;
    await Promise.all(Array.from({ length: 25 }, (_, w) => emitEvents(t.rc, Array.from({ length: 100 }, (_, i) => newEvent(o, { resourceId: `u${w}-${i}` })))));
    t.rc.startDelivery({ ...FAST, concurrency: 16 });
    await settled(hook.id, N, t.rc, 170_000);
    expect(new Set(r.delivered()).size).toBe(N);
    expect(r.requests).toHaveLength(N);
    // 2,500 signed POSTs take ~5 s alone but over 60 s on a loaded CI machine
    // beside the other PostgreSQL files; this checks completeness, not speed.
  }, 180_000);

  it('skips events that are gone from the outbox instead of waiting for them', async () => {
    const o = await org('Gap Corp');
    const r = await receiver();
    const hook = await t.rc.webhooks.add(o, { url: r.url });
    await emitEvents(t.rc, [newEvent(o, { data: { n: 1 } })]);
    await t.rc.database.db.deleteFrom('events').where('organization_id', '=', o).execute();
    t.rc.startDelivery(FAST);
    await emitEvents(t.rc, [newEvent(o, { data: { n: 2 } })]);
    await settled(hook.id, 1);
    expect(r.requests.map((q) => JSON.parse(q.body).data)).toEqual([{ n: 2 }]);
    const row = await t.rc.database.db.selectFrom('webhooks').select('cursor').where('id', '=', hook.id).executeTakeFirstOrThrow();
    expect(Number(row.cursor)).toBe(2);
  });

  it('leaves no timers behind when stopped', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const before = timers();
    t.rc.startDelivery(FAST);
    await waitFor(() => timers() > before, 'the idle worker sleeping on a timer');
    await t.rc.stopDelivery();
    expect(timers()).toBe(before);
    expect(t.rc.delivery?.isRunning).toBe(false);
  });
});
