/**
 * The delivery queue in the database (see delivery.ts for the whole cycle): turning
 * events into pending deliveries, leasing due ones, recording each attempt's outcome.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../store/types.js';
import type { SqlDialect } from '../store/dialect.js';
import { chunks } from '../store/chunks.js';
import type { Logger } from './logger.js';
import type { DeliveryResult } from './delivery-send.js';
import type { DeliveryOptions } from './delivery-options.js';

/** Events turned into deliveries per endpoint per transaction. */
const MATERIALISE_BATCH = 1000;

/**
 * Delay before the attempt after `attempts` failed ones: uniform between the base
 * and a ceiling that doubles per attempt (base·2^attempts, at most `max`).
 */
export function backoffDelay(attempts: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempts, 40));
  if (ceiling <= base) return Math.min(base, max);
  return Math.round(base + random() * (ceiling - base));
}

/** What one attempt came to: delivered, to be retried, or failed for good (retry window over). */
export type AttemptOutcome = 'delivered' | 'retrying' | 'failed';

export interface Claimed {
  webhook_id: string;
  sequence: number;
  event_pos: number;
  resource_key: string;
  due_since: string;
  /** Attempts made before this one. */
  attempts: number;
  token: string;
}

export class DeliveryQueue {
  /** The last materialise() stopped at its batch size: there are more events to turn into deliveries. */
  backlog = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: SqlDialect,
    private readonly now: () => number,
  ) {}

  /** Milliseconds until the earliest future attempt, at most pollMs. */
  async untilNextDue(pollMs: number): Promise<number> {
    const nowIso = new Date(this.now()).toISOString();
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '>', nowIso)
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst();
    if (!row) return pollMs;
    return Math.min(pollMs, Math.max(1, Date.parse(row.next_attempt_at) - this.now()));
  }

  /** Turns new events into pending deliveries for every endpoint that is behind. Returns how many. */
  async materialise(stopping: () => boolean): Promise<number> {
    const behind = await this.db
      .selectFrom('webhooks as w')
      .innerJoin('event_counters as c', 'c.key', 'w.organization_id')
      .select(['w.id', 'w.organization_id', 'w.events', 'w.cursor', 'c.value'])
      .whereRef('c.value', '>', 'w.cursor')
      .execute();
    let made = 0;
    this.backlog = false;
    for (const w of behind) {
      if (stopping()) break;
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
  async claim(n: number, timeoutMs: number): Promise<Claimed[]> {
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const lease = new Date(now + timeoutMs + 60_000).toISOString();
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

  whereClaim(c: Claimed) {
    return this.db
      .updateTable('webhook_deliveries')
      .where('webhook_id', '=', c.webhook_id)
      .where('sequence', '=', c.sequence)
      .where('claim_token', '=', c.token);
  }

  /** Gives a claim back without counting an attempt. */
  async release(c: Claimed): Promise<void> {
    await this.whereClaim(c).set({ locked_until: null, claim_token: null }).execute();
  }

  /** Records an attempt's outcome: delivered, retried after a backoff, or failed once the retry window is over. Returns which. */
  async record(c: Claimed, r: DeliveryResult, opts: Pick<Required<DeliveryOptions>, 'retryWindowMs' | 'backoffMs' | 'maxBackoffMs'>, log: Logger): Promise<AttemptOutcome> {
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
      return 'delivered';
    }
    const deadline = Date.parse(c.due_since) + opts.retryWindowMs;
    if (now >= deadline) {
      await this.whereClaim(c).set({ ...attempted, status: 'failed', last_error: r.error }).execute();
      log.warn({ webhookId: c.webhook_id, sequence: c.sequence, error: r.error }, 'webhook delivery failed for good (retry window over)');
      return 'failed';
    }
    const attempts = c.attempts + 1;
    const next = new Date(Math.min(deadline, now + backoffDelay(attempts, opts.backoffMs, opts.maxBackoffMs))).toISOString();
    const r2 = await this.whereClaim(c)
      .set({ ...attempted, last_error: r.error, next_attempt_at: next })
      .executeTakeFirst();
    if (Number(r2.numUpdatedRows) !== 1) return 'retrying'; // redelivered or removed meanwhile
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
    return 'retrying';
  }
}
