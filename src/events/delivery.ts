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
 * 3. Deliver: POST the event, signed, where the egress policy allows (checked
 *    on the URL and on the addresses each socket connects to); record the
 *    outcome only if the claim token is still ours. 2xx: delivered. Anything
 *    else (status, refusal, timeout): retried after a backoff doubling from `backoffMs` up to `maxBackoffMs`, with
 *    full jitter between the two, until `retryWindowMs` (24 h) has passed since
 *    the delivery became due; then `failed`, which unblocks the resource's next
 *    event. Later pending deliveries of the same resource are pushed back with a
 *    failed one, so they do not come due only to be blocked.
 *
 * The loop sleeps until the next due delivery or `pollMs`, and wakes early when
 * nudged (this process committed events), or when a delivery finishes.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import type { SqlDialect } from '../store/dialect.js';
import { EVENT_READ_COLUMNS, eventFromRow } from './outbox.js';
import { chunks } from '../store/chunks.js';
import { type AttemptOutcome, type Claimed, DeliveryQueue } from './delivery-queue.js';
import { type Egress, type Target, closeEgress, openEgress, reason, sendWebhook } from './delivery-send.js';
import { SecretBox } from '../store/secret-box.js';
import { sealStoredSecrets, secretContext } from './webhooks.js';
import type { LookupAll } from './egress-policy.js';

import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions, type ResolvedDeliveryOptions } from './delivery-options.js';

export { type AttemptOutcome, backoffDelay } from './delivery-queue.js';
export { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions } from './delivery-options.js';
export type { DeliveryResult } from './delivery-send.js';
import type { Logger } from './logger.js';

export class DeliveryWorker {
  readonly opts: ResolvedDeliveryOptions;
  private running = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  private endPause: (() => void) | undefined;
  private readonly queue: DeliveryQueue;
  /** Told each attempt's outcome once it is recorded (metrics count them); must not throw. */
  onAttempt: ((outcome: AttemptOutcome) => void) | undefined;
  private readonly box: SecretBox;
  /** The connection pools of a running worker, whose sockets only reach what the egress policy allows. */
  private egress: Egress | undefined;

  /** `lookup` replaces dns.lookup for the connect-time check (tests). */
  constructor(
    private readonly db: Kysely<DB>,
    dialect: SqlDialect,
    private readonly log: () => Logger,
    opts: DeliveryOptions = {},
    private readonly now: () => number = Date.now,
    private readonly lookup?: LookupAll,
  ) {
    this.opts = { ...DEFAULT_DELIVERY_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    this.queue = new DeliveryQueue(db, dialect, now);
    this.box = new SecretBox(this.opts.secretKey);
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.egress = openEgress({ allowPrivate: this.opts.allowPrivate, lookup: this.lookup });
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
    this.endPause?.();
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
    if (this.egress) closeEgress(this.egress);
    this.egress = undefined;
    this.running = false;
  }

  private async loop(): Promise<void> {
    // Secrets stored before the key was set are sealed by the first worker that has it.
    try {
      const sealed = await sealStoredSecrets(this.db, this.box);
      if (sealed) this.log().info({ sealed }, 'webhook secrets sealed with ROLLCALL_SECRET_KEY');
    } catch (err) {
      this.log().error({ err }, 'webhook delivery worker: sealing stored secrets failed; they stay as they are');
    }
    while (!this.stopping) {
      const passStart = Date.now();
      this.woken = false;
      let wait = this.opts.pollMs;
      try {
        await this.queue.materialise(() => this.stopping);
        const free = this.opts.concurrency - this.inflight.size;
        if (free > 0 && !this.stopping) {
          const claimed = await this.queue.claim(free, this.opts.timeoutMs);
          await this.launch(claimed);
          // A full claim means there may be more: look again once a slot frees.
          if (claimed.length === free) wait = this.opts.pollMs;
          else wait = await this.queue.untilNextDue(this.opts.pollMs);
        }
      } catch (err) {
        if (this.stopping) break;
        this.log().error({ err }, 'webhook delivery worker: looking for work failed');
      }
      if (this.stopping) break;
      if (!this.woken && !this.queue.backlog) await this.sleep(wait);
      // Nudges that came meanwhile (one per commit) wait for the rest of the pass's
      // minimum length and are then served by one pass: at most one per minPassMs.
      const rest = passStart + this.opts.minPassMs - Date.now();
      if (rest > 0 && !this.stopping) await this.pause(rest);
    }
  }

  /** A wait only stop() cuts short (nudges do not). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.endPause = undefined;
        resolve();
      }, ms);
      this.endPause = () => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
    });
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

  private async launch(claimed: Claimed[]): Promise<void> {
    if (!claimed.length) return;
    const events = new Map<number, string>();
    for (const part of chunks([...new Set(claimed.map((c) => c.event_pos))])) {
      const rows = await this.db
        .selectFrom('events')
        .innerJoin('tenants', 'tenants.tenant', 'events.tenant')
        .select(EVENT_READ_COLUMNS)
        .where('events.pos', 'in', part)
        .execute();
      for (const r of rows) events.set(Number(r.pos), JSON.stringify(eventFromRow(r)));
    }
    const targets = new Map<string, Target | { error: string }>();
    const hooks = await this.db
      .selectFrom('webhooks')
      .select(['id', 'url', 'secret'])
      .where('id', 'in', [...new Set(claimed.map((c) => c.webhook_id))])
      .execute();
    for (const h of hooks) {
      try {
        targets.set(h.id, { url: h.url, secret: this.box.open(h.secret, secretContext(h.id)) });
      } catch (err) {
        // Retried like any failure: once the right key is set, the deliveries go through.
        targets.set(h.id, { error: reason('secret-key', (err as Error).message) });
      }
    }
    for (const c of claimed) {
      const body = events.get(c.event_pos);
      const target = targets.get(c.webhook_id);
      if (!target) {
        // The endpoint was removed meanwhile (its deliveries go with it); nothing to send.
        await this.queue.release(c);
        continue;
      }
      if (body === undefined) {
        // Never claimed again: the event is gone from the outbox.
        await this.queue.whereClaim(c).set({ status: 'failed', last_error: 'the event is no longer stored', locked_until: null, claim_token: null }).execute();
        continue;
      }
      if ('error' in target) {
        const outcome = await this.queue.record(c, { ok: false, status: null, error: target.error }, this.opts, this.log());
        this.onAttempt?.(outcome);
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
    const controller = new AbortController();
    this.controllers.add(controller);
    let result: Awaited<ReturnType<typeof sendWebhook>>;
    try {
      // Launched only by the running loop, which opened the pools before it started.
      result = await sendWebhook(target, body, this.opts.timeoutMs, this.now(), controller, this.egress!);
    } finally {
      this.controllers.delete(controller);
    }
    if (result === 'aborted') return this.queue.release(c);
    // Recorded first: `onAttempt?.(await …)` would skip the record when nobody listens.
    const outcome = await this.queue.record(c, result, this.opts, this.log());
    this.onAttempt?.(outcome);
  }
}

