/**
 * The provisioning log's tables: request_log (one row per SCIM request, kept for
 * ROLLCALL_REQUEST_LOG_DAYS) and request_days (per-day counts, kept longer, for
 * connection health). What goes in a row is decided in directory/provisioning-log.ts.
 */
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { SqlDialect } from './dialect.js';
import type { DB, RequestDaysTable, RequestLogTable } from './types.js';

/** 16 columns a row: 200 rows stay far below both dialects' parameter limits. */
const INSERT_CHUNK = 200;
/** Rows deleted per statement when pruning: bounded work per round. */
const PRUNE_CHUNK = 5000;

const COLUMNS = [
  'id',
  'connection_id',
  'at',
  'method',
  'path',
  'status',
  'duration_ms',
  'client',
  'user_agent',
  'resource_type',
  'resource_id',
  'error_code',
  'scim_type',
  'error_detail',
  'body',
  'request_id',
] as const satisfies readonly (keyof RequestLogTable)[];

/** The insert's SQL text per dialect and row count: Kysely's builder would spend ~6 µs a row compiling it. */
const insertSql = new WeakMap<SqlDialect, Map<number, string>>();

function insertText(dialect: SqlDialect, rows: number): string {
  let byCount = insertSql.get(dialect);
  if (!byCount) insertSql.set(dialect, (byCount = new Map()));
  let text = byCount.get(rows);
  if (!text) {
    let n = 0;
    const tuples = Array.from({ length: rows }, () => `(${COLUMNS.map(() => dialect.placeholder(++n)).join(', ')})`);
    text = `insert into "request_log" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    byCount.set(rows, text);
  }
  return text;
}

/**
 * A path's connection id segment is stored as one space, which no request line can
 * hold (`/scim/v2/ /Users`): 35 bytes of every row, put back when rows are read.
 * Rows stored before this kept their whole path and read back unchanged.
 */
const CONNECTION_MARK = ' ';

function compactPath(path: string, connectionId: string): string {
  if (path.includes(CONNECTION_MARK)) return path;
  const segment = `/${connectionId}`;
  const at = path.indexOf(segment);
  const end = at + segment.length;
  if (at < 0 || (end < path.length && !'/?'.includes(path[end]))) return path;
  return `${path.slice(0, at + 1)}${CONNECTION_MARK}${path.slice(end)}`;
}

function expandPath<T extends { path: string; connection_id: string }>(row: T): T {
  const at = row.path.indexOf(CONNECTION_MARK);
  if (at >= 0) row.path = `${row.path.slice(0, at)}${row.connection_id}${row.path.slice(at + 1)}`;
  return row;
}

export async function insertRequestRows(db: Kysely<DB>, dialect: SqlDialect, rows: RequestLogTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const part = rows.slice(i, i + INSERT_CHUNK);
    const params: unknown[] = [];
    for (const r of part) for (const c of COLUMNS) params.push(c === 'path' ? compactPath(r.path, r.connection_id) : r[c]);
    await db.executeQuery(CompiledQuery.raw(insertText(dialect, part.length), params));
  }
}

/** Adds `counts` to the per-day totals (several instances add to the same rows). */
export async function addRequestDays(db: Kysely<DB>, counts: RequestDaysTable[]): Promise<void> {
  for (let i = 0; i < counts.length; i += INSERT_CHUNK) {
    await db
      .insertInto('request_days')
      .values(counts.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) =>
        oc.columns(['connection_id', 'day']).doUpdateSet({
          requests: sql<number>`request_days.requests + excluded.requests`,
          errors: sql<number>`request_days.errors + excluded.errors`,
        }),
      )
      .execute();
  }
}

export interface RequestRowQuery {
  limit: number;
  /** Only rows older than this id (the previous page's `next`). */
  before?: string;
  /** An exact status, or a range: [400, 499] for 4xx; errors are >= 400. */
  status?: number | [number, number];
  method?: string;
  resourceId?: string;
}

export type RequestSummaryRow = Omit<RequestLogTable, 'body'>;

/** Every column but the body: what lists show. */
const SUMMARY_COLUMNS = COLUMNS.filter((c): c is Exclude<(typeof COLUMNS)[number], 'body'> => c !== 'body');

/** A connection's requests, newest first, without their bodies. */
export async function listRequestRows(db: Kysely<DB>, connectionId: string, q: RequestRowQuery): Promise<RequestSummaryRow[]> {
  let query = db.selectFrom('request_log').select(SUMMARY_COLUMNS).where('connection_id', '=', connectionId);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  if (q.method !== undefined) query = query.where('method', '=', q.method);
  if (q.resourceId !== undefined) query = query.where('resource_id', '=', q.resourceId);
  if (typeof q.status === 'number') query = query.where('status', '=', q.status);
  else if (q.status) {
    const [min, max] = q.status;
    // The literal term lets both planners pick the partial index of errors.
    if (min >= 400) query = query.where(sql.ref('status'), '>=', sql.lit(400));
    query = query.where('status', '>=', min).where('status', '<=', max);
  }
  return (await query.orderBy('id', 'desc').limit(q.limit).execute()).map(expandPath);
}

export async function getRequestRow(db: Kysely<DB>, connectionId: string, id: string): Promise<RequestLogTable | undefined> {
  const row = await db.selectFrom('request_log').selectAll().where('connection_id', '=', connectionId).where('id', '=', id).executeTakeFirst();
  return row && expandPath(row);
}

/** The newest request of a connection, and its newest error. */
export async function lastRequestRows(db: Kysely<DB>, connectionId: string): Promise<{ last?: RequestSummaryRow; lastError?: RequestSummaryRow }> {
  const [last] = await listRequestRows(db, connectionId, { limit: 1 });
  const [lastError] = await listRequestRows(db, connectionId, { limit: 1, status: [400, 599] });
  return { last, lastError };
}

/** A connection's per-day counts from `fromDay` (YYYY-MM-DD) on, oldest first. */
export async function requestDayRows(db: Kysely<DB>, connectionId: string, fromDay: string): Promise<RequestDaysTable[]> {
  return db.selectFrom('request_days').selectAll().where('connection_id', '=', connectionId).where('day', '>=', fromDay).orderBy('day').execute();
}

/**
 * Deletes log rows with ids below `beforeId` (ids are time-ordered) and day
 * counts before `beforeDay`, a chunk per statement. Returns the log rows deleted.
 * (A deleted connection's rows went with it.)
 */
export async function pruneRequestRows(db: Kysely<DB>, beforeId: string, beforeDay: string): Promise<number> {
  let deleted = 0;
  // Per connection, through the (connection_id, id) index: each round reads only what it deletes.
  const connections = await db.selectFrom('connections').select('id').execute();
  for (const { id: connectionId } of connections) {
    for (;;) {
      const res = await db
        .deleteFrom('request_log')
        .where('connection_id', '=', connectionId)
        .where('id', 'in', (eb) => eb.selectFrom('request_log').select('id').where('connection_id', '=', connectionId).where('id', '<', beforeId).orderBy('id').limit(PRUNE_CHUNK))
        .executeTakeFirst();
      const n = Number(res.numDeletedRows);
      deleted += n;
      if (n < PRUNE_CHUNK) break;
    }
  }
  await db.deleteFrom('request_days').where('day', '<', beforeDay).execute();
  return deleted;
}
