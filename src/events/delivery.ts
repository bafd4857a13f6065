/**
 * The webhook delivery worker. One loop per process:
 *
 * 1. Materialise: for each endpoint whose organisation counter is ahead of the
 *    endpoint's cursor, turn the next events (in sequence order, filtered by the
 *    endpoint's types) into `pending` delivery rows and move the cursor — in one
 *    transaction whose first statement is a conditional cursor update, so two
 *    workers never materialise the same events (the loser updates nothing and
 *    stops).
 * 2. Claim: one UPDATE … RETURNING takes due deliveries whose resource has no
 *    earlier pending delivery on the same endpoint (order per resource), setting
 *    a lease (`locked_until`) and a claim token. On PostgreSQL the candidate rows
 *    are selected FOR UPDATE SKIP LOCKED, so concurrent workers on several
 *    instances pass each other by; on SQLite the one writer makes the single
 *    conditional UPDATE enough. A worker that dies leaves a lease that expires.
 * 3. Deliver: POST the event, signed; record the outcome only if the claim token
 *    is still ours. 2xx: delivered. Anything else (status, refusal, timeout):
 *    retried after a backoff doubling from `backoffMs` up to `maxBackoffMs`, with
 *    full jitter between the two, until `retryWindowMs` (24 h) has passed since
 *    the delivery became due; then `failed`, which unblocks the resource's next
 *    event. Later pending deliveries of the same resource are pushed back with a
 *    failed one, so they do not come due only to be blocked.
 *
 * The loop sleeps until the next due delivery or `pollMs`, and wakes early when
 * nudged (this process committed events), or when a delivery finishes.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../store/types.js';
import type { SqlDialect } from '../store/dialect.js';
import { chunks } from '../store/chunks.js';
import { eventFromRow } from './outbox.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './signature.js';
import type { Logger } from './logger.js';

export interface DeliveryOptions {
  /** First retry after at least this long (ms); the ceiling doubles per attempt. Default 10,000. */
  backoffMs?: number;
  /** Largest delay between attempts (ms). Default 1 h. */
  maxBackoffMs?: number;
  /** How long a delivery is retried after it became due (ms). Default 24 h. */
  retryWindowMs?: number;
  /** Per-request timeout (ms). Default 10,000. */
  timeoutMs?: number;
  /** Longest sleep between looks for work (other processes' events, leases that expired). Default 1,000. */
  pollMs?: number;
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number;
  /** On stop, in-flight requests get this long to finish before they are aborted (ms). Default 2,000. */
  stopGraceMs?: number;
}

export const DEFAULT_DELIVERY_OPTIONS: Required<DeliveryOptions> = {
  backoffMs: 10_000,
  maxBackoffMs: 60 * 60_000,
  retryWindowMs: 24 * 60 * 60_000,
  timeoutMs: 10_000,
  pollMs: 1_000,
  concurrency: 8,
  stopGraceMs: 2_000,
};

/** Events turned into deliveries per endpoint per transaction. */
const MATERIALISE_BATCH = 1000;
const USER_AGENT = 'Rollcall-Webhooks/1';

/**
 * Delay before the attempt after `attempts` failed ones: uniform between the base
 * and a ceiling that doubles per attempt (base·2^attempts, at most `max`).
 */
export function backoffDelay(attempts: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempts, 40));
  if (ceiling <= base) return Math.min(base, max);
  return Math.round(base + random() * (ceiling - base));
}

interface Claimed {
  webhook_id: string;
  sequence: number;
  event_pos: number;
  resource_key: string;
  due_since: string;
  /** Attempts made before this one. */
  attempts: number;
  token: string;
}

interface Target {
  url: string;
  secret: string;
}

export interface DeliveryResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export class DeliveryWorker {
  readonly opts: Required<DeliveryOptions>;
  private running = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  /** The last materialise() stopped at its batch size: there are more events to turn into deliveries. */
  private backlog = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: SqlDialect,
    private readonly log: () => Logger,
    opts: DeliveryOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_DELIVERY_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.loopDone = this.loop();
  }

  /** Look for work now (events were committed, a redelivery was asked for). */
  nudge(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops looking for work, lets in-flight deliveries finish (up to stopGraceMs), aborts the rest. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.nudge();
    await this.loopDone;
    if (this.inflight.size) {
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise<void>((resolve) => {
          grace = setTimeout(() => {
            for (const c of this.controllers) c.abort(new Error('the delivery worker is stopping'));
            resolve();
          }, this.opts.stopGraceMs);
        }),
      ]);
      clearTimeout(grace);
      await Promise.allSettled([...this.inflight]);
    }
    this.running = false;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      let wait = this.opts.pollMs;
      try {
        await this.materialise();
        const free = this.opts.concurrency - this.inflight.size;
        if (free > 0 && !this.stopping) {
          const claimed = await this.claim(free);
          await this.launch(claimed);
          // A full claim means there may be more: look again once a slot frees.
          if (claimed.length === free) wait = this.opts.pollMs;
          else wait = await this.untilNextDue();
        }
      } catch (err) {
        if (this.stopping) break;
        this.log().error({ err }, 'webhook delivery worker: looking for work failed');
      }
      if (this.stopping) break;
      if (!this.woken && !this.backlog) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.sleepTimer = setTimeout(done, Math.max(0, ms));
    });
  }

  /** Milliseconds until the earliest future attempt, at most pollMs. */
  private async untilNextDue(): Promise<number> {
    const nowIso = new Date(this.now()).toISOString();
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '>', nowIso)
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst();
    if (!row) return this.opts.pollMs;
    return Math.min(this.opts.pollMs, Math.max(1, Date.parse(row.next_attempt_at) - this.now()));
  }

  /** Turns new events into pending deliveries for every endpoint that is behind. Returns how many. */
  async materialise(): Promise<number> {
    const behind = await this.db
      .selectFrom('webhooks as w')
      .innerJoin('event_counters as c', 'c.key', 'w.organization_id')
      .select(['w.id', 'w.organization_id', 'w.events', 'w.cursor', 'c.value'])
      .whereRef('c.value', '>', 'w.cursor')
      .execute();
    let made = 0;
    this.backlog = false;
    for (const w of behind) {
      if (this.stopping) break;
      const types = JSON.parse(w.events) as string[];
      made += await this.db.transaction().execute(async (trx) => {
        const cursor = Number(w.cursor);
        const events = await trx
          .selectFrom('events')
          .select(['pos', 'id', 'type', 'sequence', 'resource_type', 'resource_id'])
          .where('organization_id', '=', w.organization_id)
          .where('sequence', '>', cursor)
          .orderBy('sequence')
          .limit(MATERIALISE_BATCH)
          .execute();
        // None although the counter is ahead: they were removed from the outbox; skip the gap.
        const last = events.length ? Number(events[events.length - 1].sequence) : Number(w.value);
        // Also the lock that serialises workers: the loser finds the cursor moved and stops.
        const moved = await trx.updateTable('webhooks').set({ cursor: last }).where('id', '=', w.id).where('cursor', '=', cursor).executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1 || !events.length) return 0;
        if (events.length === MATERIALISE_BATCH) this.backlog = true;
        const now = new Date(this.now()).toISOString();
        const rows = events
          .filter((e) => !types.length || types.includes(e.type))
          .map((e) => ({
            webhook_id: w.id,
            sequence: Number(e.sequence),
            event_pos: Number(e.pos),
            event_id: e.id,
            event_type: e.type,
            resource_key: `${e.resource_type}:${e.resource_id}`,
            status: 'pending',
            attempts: 0,
            next_attempt_at: now,
            due_since: now,
            locked_until: null,
            claim_token: null,
            last_attempt_at: null,
            last_status_code: null,
            last_error: null,
            delivered_at: null,
            created_at: now,
          }));
        for (const part of chunks(rows, 200)) {
          // A redelivery may have created one already.
          await trx.insertInto('webhook_deliveries').values(part).onConflict((oc) => oc.columns(['webhook_id', 'sequence']).doNothing()).execute();
        }
        return rows.length;
      });
    }
    return made;
  }

  /** Leases up to `n` due deliveries, at most one per endpoint and resource. */
  async claim(n: number): Promise<Claimed[]> {
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const lease = new Date(now + this.opts.timeoutMs + 60_000).toISOString();
    const token = randomUUID();
    const lock = this.dialect.skipLocked('d');
    const { rows } = await sql<{ webhook_id: string; sequence: number | string; event_pos: number | string; resource_key: string; due_since: string; attempts: number | string }>`
      update webhook_deliveries set locked_until = ${lease}, claim_token = ${token}
      where status = 'pending' and (webhook_id, sequence) in (
        select d.webhook_id, d.sequence from webhook_deliveries d
        where d.status = 'pending' and d.next_attempt_at <= ${nowIso}
          and (d.locked_until is null or d.locked_until <= ${nowIso})
          and not exists (
            select 1 from webhook_deliveries p
            where p.webhook_id = d.webhook_id and p.resource_key = d.resource_key and p.status = 'pending' and p.sequence < d.sequence
          )
        order by d.next_attempt_at, d.sequence
        limit ${n}
        ${lock}
      )
      returning webhook_id, sequence, event_pos, resource_key, due_since, attempts`.execute(this.db);
    return rows.map((r) => ({ ...r, sequence: Number(r.sequence), event_pos: Number(r.event_pos), attempts: Number(r.attempts), token }));
  }

  private async launch(claimed: Claimed[]): Promise<void> {
    if (!claimed.length) return;
    const events = new Map<number, string>();
    for (const part of chunks([...new Set(claimed.map((c) => c.event_pos))])) {
      const rows = await this.db
        .selectFrom('events')
        .select(['pos', 'id', 'type', 'occurred_at', 'organization_id', 'connection_id', 'sequence', 'data'])
        .where('pos', 'in', part)
        .execute();
      for (const r of rows) events.set(Number(r.pos), JSON.stringify(eventFromRow(r)));
    }
    const targets = new Map<string, Target>();
    const hooks = await this.db
      .selectFrom('webhooks')
      .select(['id', 'url', 'secret'])
      .where('id', 'in', [...new Set(claimed.map((c) => c.webhook_id))])
      .execute();
    for (const h of hooks) targets.set(h.id, { url: h.url, secret: h.secret });
    for (const c of claimed) {
      const body = events.get(c.event_pos);
      const target = targets.get(c.webhook_id);
      if (!target) {
        // The endpoint was removed meanwhile (its deliveries go with it); nothing to send.
        await this.release(c);
        continue;
      }
      if (body === undefined) {
        // Never claimed again: the event is gone from the outbox.
        await this.whereClaim(c).set({ status: 'failed', last_error: 'the event is no longer stored', locked_until: null, claim_token: null }).execute();
        continue;
      }
      const p: Promise<void> = this.deliverOne(c, target, body)
        .catch((err) => this.log().error({ err, webhookId: c.webhook_id, sequence: c.sequence }, 'webhook delivery: recording the outcome failed'))
        .finally(() => {
          this.inflight.delete(p);
          this.nudge();
        });
      this.inflight.add(p);
    }
  }

  private async deliverOne(c: Claimed, target: Target, body: string): Promise<void> {
    const result = await this.post(target, body);
    if (result === 'aborted') return this.release(c);
    await this.record(c, result);
  }

  /** One POST. Returns 'aborted' when the worker stopped it. */
  private async post(target: Target, body: string): Promise<DeliveryResult | 'aborted'> {
    const controller = new AbortController();
    this.controllers.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, this.opts.timeoutMs);
    const eventId = (JSON.parse(body) as { id: string }).id;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          [SIGNATURE_HEADER]: signWebhook(body, target.secret, Math.floor(this.now() / 1000)),
          [EVENT_ID_HEADER]: eventId,
        },
        body,
        redirect: 'manual',
        signal: controller.signal,
      });
      const text = await readSome(res);
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
      const why = res.status >= 300 && res.status < 400 ? 'redirects are not followed' : text.trim().replace(/\s+/g, ' ').slice(0, 200);
      return { ok: false, status: res.status, error: `HTTP ${res.status}${why ? `: ${why}` : ''}` };
    } catch (err) {
      if (timedOut) return { ok: false, status: null, error: `no answer within ${this.opts.timeoutMs} ms` };
      if (controller.signal.aborted) return 'aborted';
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return { ok: false, status: null, error: (e.cause?.code ? `${e.cause.code}: ` : '') + (e.cause?.message ?? e.message).slice(0, 200) };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  private whereClaim(c: Claimed) {
    return this.db
      .updateTable('webhook_deliveries')
      .where('webhook_id', '=', c.webhook_id)
      .where('sequence', '=', c.sequence)
      .where('claim_token', '=', c.token);
  }

  /** Gives a claim back without counting an attempt. */
  private async release(c: Claimed): Promise<void> {
    await this.whereClaim(c).set({ locked_until: null, claim_token: null }).execute();
  }

  private async record(c: Claimed, r: DeliveryResult): Promise<void> {
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const attempted = {
      attempts: sql<number>`attempts + 1`,
      last_attempt_at: nowIso,
      last_status_code: r.status,
      locked_until: null,
      claim_token: null,
    };
    if (r.ok) {
      await this.whereClaim(c).set({ ...attempted, status: 'delivered', last_error: null, delivered_at: nowIso }).execute();
      return;
    }
    const deadline = Date.parse(c.due_since) + this.opts.retryWindowMs;
    if (now >= deadline) {
      await this.whereClaim(c).set({ ...attempted, status: 'failed', last_error: r.error }).execute();
      this.log().warn({ webhookId: c.webhook_id, sequence: c.sequence, error: r.error }, 'webhook delivery failed for good (retry window over)');
      return;
    }
    const attempts = c.attempts + 1;
    const next = new Date(Math.min(deadline, now + backoffDelay(attempts, this.opts.backoffMs, this.opts.maxBackoffMs))).toISOString();
    const r2 = await this.whereClaim(c)
      .set({ ...attempted, last_error: r.error, next_attempt_at: next })
      .executeTakeFirst();
    if (Number(r2.numUpdatedRows) !== 1) return; // redelivered or removed meanwhile
    // Later events of the resource wait for this one anyway: keep them out of the due set until then.
    await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: next })
      .where('webhook_id', '=', c.webhook_id)
      .where('resource_key', '=', c.resource_key)
      .where('status', '=', 'pending')
      .where('sequence', '>', c.sequence)
      .where('next_attempt_at', '<', next)
      .execute();
  }
}

/** Reads at most `max` bytes of a response body, then lets the rest go. */
async function readSome(res: Response, max = 2048): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(parts).toString('utf8').slice(0, max);
}
