/**
 * The transactional outbox. What a batch of writes emitted is stored in the
 * batch's own transaction (WriteBatcher's beforeCommit hook), so an event exists
 * if and only if its change was committed.
 *
 * Numbering: every event gets a per-organisation `sequence` and a global `pos`,
 * both from counter rows (`event_counters`) that one statement increments by the
 * batch's count and returns. The counter row stays locked until the transaction
 * commits, so numbers are handed out in commit order: a reader that has seen
 * number n has seen every number below it, and a feed cursor never skips an event
 * that committed late. Counters are touched in one fixed order (organisations
 * sorted, the global counter last), so concurrent batches on PostgreSQL wait on
 * each other instead of deadlocking.
 *
 * Cost per batch (any number of events): one counter upsert, one multi-row insert.
 * `data` is stored compressed where the backend allows (event-data.ts).
 */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type { SqlDialect } from '../store/dialect.js';
import type { DB, EventsTable } from '../store/types.js';
import { chunked } from '../store/chunks.js';
import type { EventType, NewEvent, RollcallEvent } from './types.js';
import { decodeEventData, encodeEventJson, encodeEventText } from './event-data.js';
import { boundedEventJson } from './bounded-data.js';

/** Counter key of events without an organisation. */
export const NO_ORGANIZATION_COUNTER = '';
/** Counter key of the global position (sorts apart from organisation ids; always taken last). */
export const GLOBAL_COUNTER = '*';

/** The counter key of an organisation's sequence. */
export function counterKey(organizationId: string | null): string {
  return organizationId ?? NO_ORGANIZATION_COUNTER;
}

/**
 * A UUIDv7: 48 bits of Unix milliseconds, then random bits. Unique like a v4, but
 * ordered by time, so inserting into a unique index on it (events.id, and the
 * user and group ids with every index that holds them) touches the index's right
 * edge instead of a random page: pages stay full and fewer are written.
 */
export function uuidv7(now = Date.now(), seq?: number): string {
  const ts = now.toString(16).padStart(12, '0').slice(-12);
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, variant bits already set
  // With `seq`, its 12 bits replace the first random ones (RFC 9562's counter method).
  const next = seq === undefined ? r.slice(15) : `${(seq & 0xfff).toString(16).padStart(3, '0')}${r.slice(18)}`;
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${next}`;
}

/**
 * UUIDv7s that increase strictly in the order they are made by this generator,
 * also within one millisecond (a counter) and when the clock steps back (the
 * last millisecond is kept).
 */
export function monotonicUuidv7(): (now: number) => string {
  let lastMs = -1;
  let seq = 0;
  return (now) => {
    if (now > lastMs) {
      lastMs = now;
      seq = 0;
    } else if (++seq > 0xfff) {
      lastMs++;
      seq = 0;
    }
    return uuidv7(lastMs, seq);
  };
}

/**
 * The smallest UUIDv7 string of millisecond `ms`: every id made at or after `ms`
 * compares >= it, every earlier one < (the time prefix is fixed-width hex).
 */
export function uuidv7Floor(ms: number): string {
  const ts = Math.max(0, ms).toString(16).padStart(12, '0').slice(-12);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-0000-0000-000000000000`;
}

/** 12 columns per row: far below both dialects' parameter limits. */
const INSERT_CHUNK = 500;

const EVENT_COLUMNS = ['pos', 'id', 'organization_id', 'sequence', 'tenant', 'type', 'resource_type', 'resource_id', 'occurred_at', 'data', 'request_id', 'member_id'] as const;

/**
 * The two statements as SQL text, built once per dialect and row count. They are
 * on the path of every write; Kysely's builder would spend longer compiling them
 * (about 150 µs for the upsert, 4 µs per inserted row) than SQLite spends running
 * them. Plain SQL both dialects accept, with bound parameters.
 */
class OutboxSql {
  private readonly counters = new Map<number, string>();
  private readonly inserts = new Map<number, string>();
  constructor(private readonly dialect: SqlDialect) {}

  /** `wrap` (by column index) turns a column's placeholder into an expression of it. */
  private values(rows: number, columns: number, wrap: Record<number, (slot: string) => string> = {}): string {
    const out: string[] = [];
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const slots: string[] = [];
      for (let c = 0; c < columns; c++) {
        const slot = this.dialect.placeholder(++n);
        slots.push(wrap[c] ? wrap[c](slot) : slot);
      }
      out.push(`(${slots.join(', ')})`);
    }
    return out.join(', ');
  }

  counter(keys: number): string {
    let text = this.counters.get(keys);
    if (!text) {
      text =
        `insert into "event_counters" ("key", "value") values ${this.values(keys, 2)} ` +
        `on conflict ("key") do update set "value" = "event_counters"."value" + "excluded"."value" returning "key", "value"`;
      this.counters.set(keys, text);
    }
    return text;
  }

  insert(rows: number): string {
    let text = this.inserts.get(rows);
    if (!text) {
      // The row's connection id is bound where its tenant key goes and looked up there (store/tenant.ts).
      const tenantKey = { [EVENT_COLUMNS.indexOf('tenant')]: (slot: string) => `(select "tenant" from "tenants" where "connection_id" = ${slot})` };
      text = `insert into "events" (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${this.values(rows, EVENT_COLUMNS.length, tenantKey)}`;
      this.inserts.set(rows, text);
    }
    return text;
  }
}

const sqlByDialect = new WeakMap<SqlDialect, OutboxSql>();

function outboxSql(dialect: SqlDialect): OutboxSql {
  let s = sqlByDialect.get(dialect);
  if (!s) sqlByDialect.set(dialect, (s = new OutboxSql(dialect)));
  return s;
}

/**
 * Stores `events` inside `trx` (which must be a transaction) and returns them as
 * published, in the order given. Throws when the database refuses (the caller's
 * transaction then rolls back with the change).
 */
export async function writeEvents(trx: Kysely<DB>, events: readonly NewEvent[], dialect: SqlDialect): Promise<RollcallEvent[]> {
  if (!events.length) return [];
  const perOrg = new Map<string, number>();
  for (const e of events) {
    const k = counterKey(e.organizationId);
    perOrg.set(k, (perOrg.get(k) ?? 0) + 1);
  }
  const keys = [...perOrg.keys()].sort();
  const increments = keys.map((key) => ({ key, value: perOrg.get(key)! }));
  increments.push({ key: GLOBAL_COUNTER, value: events.length });
  const statements = outboxSql(dialect);
  const { rows: counted } = await trx.executeQuery<{ key: string; value: number | string }>(
    CompiledQuery.raw(
      statements.counter(increments.length),
      increments.flatMap((c) => [c.key, c.value]),
    ),
  );
  // Each counter now holds the last number of the batch; the batch's range ends there.
  const next = new Map<string, number>();
  for (const c of counted) next.set(c.key, Number(c.value) - (c.key === GLOBAL_COUNTER ? events.length : perOrg.get(c.key)!) + 1);
  if (next.size !== increments.length) throw new Error('event counters were not all returned');
  let pos = next.get(GLOBAL_COUNTER)!;
  const now = Date.now();
  const out: RollcallEvent[] = [];
  // Built and inserted a chunk at a time, with a turn of the event loop between
  // chunks: a group of 10,000 members emits 10,000 events, whose JSON and
  // compression would otherwise hold the loop for a long while.
  for await (const part of chunked(events as NewEvent[], INSERT_CHUNK)) {
    const params: unknown[] = [];
    for (const e of part) {
      const k = counterKey(e.organizationId);
      const sequence = next.get(k)!;
      next.set(k, sequence + 1);
      const id = uuidv7(now);
      const { data, json } = boundedEventJson(e.data ?? {});
      const row: Omit<EventsTable, 'tenant'> & { tenant: string } = {
        pos: pos++,
        id,
        organization_id: e.organizationId,
        sequence,
        tenant: e.connectionId,
        type: e.type,
        resource_type: e.resourceType,
        resource_id: e.resourceId,
        occurred_at: e.occurredAt,
        data: dialect.storesBytesInTextColumns ? encodeEventJson(json, true) : encodeEventText(json),
        request_id: e.requestId ?? null,
        member_id: e.memberId ?? null,
      };
      for (const c of EVENT_COLUMNS) params.push(row[c]);
      out.push({
        id,
        type: e.type,
        occurredAt: e.occurredAt,
        organizationId: e.organizationId,
        connectionId: e.connectionId,
        sequence,
        data,
      });
    }
    await trx.executeQuery(CompiledQuery.raw(statements.insert(part.length), params));
  }
  return out;
}

/** A stored row as the published event (key order fixed: it is the webhook body). */
/** An event row as read with its connection id (EVENT_READ_COLUMNS, joined to tenants). */
export type EventReadRow = Pick<EventsTable, 'pos' | 'id' | 'type' | 'occurred_at' | 'organization_id' | 'sequence' | 'data'> & { connection_id: string };

/** The columns of a published event, from `events` joined to `tenants` (`tenantsOfEvents`). */
export const EVENT_READ_COLUMNS = ['events.pos', 'events.id', 'events.type', 'events.occurred_at', 'events.organization_id', 'tenants.connection_id', 'events.sequence', 'events.data'] as const;

export function eventFromRow(row: Omit<EventReadRow, 'pos'>): RollcallEvent {
  return {
    id: row.id,
    type: row.type as EventType,
    occurredAt: row.occurred_at,
    organizationId: row.organization_id,
    connectionId: row.connection_id,
    sequence: Number(row.sequence),
    data: decodeEventData(row.data),
  };
}
