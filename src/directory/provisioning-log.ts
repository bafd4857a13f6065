/**
 * The provisioning log: every SCIM request a connection makes, for support staff
 * answering "why is this user missing?" without the server's logs. It is a
 * RequestObserver: the HTTP layer reports each answered request; rows are queued
 * in memory and written in batches by a timer, never on the request's path. A
 * crash loses at most the last flush interval of the log, never provisioned data.
 *
 * What a row holds: time, method, path with its query, status, duration, the SCIM
 * error, the resource, the client (Entra ID, Okta or other, from the User-Agent
 * and the request's shape) and the body with secrets replaced and its size bounded.
 * Per-day counts (request_days) outlive the rows, for a connection's health page.
 */
import type { Kysely } from 'kysely';
import type { DB, RequestDaysTable, RequestLogTable } from '../store/types.js';
import type { SqlDialect } from '../store/dialect.js';
import {
  type RequestSummaryRow,
  addRequestDays,
  getRequestRow,
  insertRequestRows,
  lastRequestRows,
  listRequestRows,
  pruneRequestRows,
  requestDayRows,
} from '../store/request-log.js';
import { monotonicUuidv7, uuidv7Floor } from '../events/outbox.js';
import { RequestBodyCompressor, decodeEventData } from '../events/event-data.js';
import type { Logger } from '../events/logger.js';
import type { ObservedRequest, RequestObserver } from './observer.js';
import { type Clock, DAY_MS } from './context.js';
import { fail } from '../scim/errors.js';

/** The IdP clients the log tells apart. */
export type ProvisioningClient = 'entra-id' | 'okta' | 'other';

export interface RequestLogOptions {
  /** Record requests at all (ROLLCALL_REQUEST_LOG, default true). */
  enabled?: boolean;
  /** Days a request is kept (ROLLCALL_REQUEST_LOG_DAYS, default 14); pruned by the purge. */
  days?: number;
  /** How often queued rows are written (default 200 ms). */
  flushMs?: number;
  /** Rows waiting at most; beyond it new ones are dropped and counted (default 20,000). */
  maxQueued?: number;
}

/** One logged request as the admin API shows it. */
export interface RequestView {
  id: string;
  at: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  client: ProvisioningClient;
  userAgent: string | null;
  resourceType: string | null;
  resourceId: string | null;
  error: { code: string; scimType: string | null; detail: string } | null;
  requestId: string;
}

export interface RequestPage {
  requests: RequestView[];
  /** Pass as `before` for the next (older) page; null on the last. */
  next: string | null;
}

export interface RequestQuery {
  limit?: number;
  before?: string;
  /** `201`, a class (`2xx`, `4xx`, `5xx`) or `error` (any status from 400). */
  status?: string;
  method?: string;
  resource?: string;
}

export interface ConnectionHealth {
  lastRequestAt: string | null;
  lastError: RequestView | null;
  /** The last 30 UTC days, oldest first, days without requests included. */
  days: { day: string; requests: number; errors: number }[];
}

export const DEFAULT_REQUEST_LOG_DAYS = 14;
/** Days of per-day counts kept for the health page. */
export const HEALTH_DAYS = 30;
export const MAX_REQUEST_PAGE = 200;

// --- bounding and redaction -------------------------------------------------

/** Keys whose values never reach the log, at any depth (and PATCH values at such paths). */
const SECRET_KEY = /(password|passwd|secret|token|credential|api[-_]?key|private[-_]?key)/i;
const REDACTED = '[redacted]';
const MAX_STRING = 1024;
const MAX_ITEMS = 100;
const MAX_DEPTH = 12;
/** Largest body kept, as JSON text; a larger one is replaced by a note of its size. */
export const MAX_LOGGED_BODY = 32 * 1024;
const MAX_PATH = 2048;
const MAX_USER_AGENT = 256;
const MAX_DETAIL = 2048;

/** The last name in a SCIM attribute path: `password`, `urn:…:User:password`, `name.givenName` → `givenName`. */
function lastSegment(path: string): string {
  // From the first [ to the last ], as a greedy /\[.*\]/ would, without its quadratic retries on a path of many [.
  const open = path.indexOf('['), close = path.lastIndexOf(']');
  const noFilter = open >= 0 && close > open ? path.slice(0, open) + path.slice(close + 1) : path;
  return noFilter.split(/[:.]/).pop() ?? noFilter;
}

function bounded(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…(${value.length - MAX_STRING} more characters)` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '…(nested too deep)';
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map((v) => bounded(v, depth + 1));
    if (value.length > MAX_ITEMS) kept.push(`…(${value.length - MAX_ITEMS} more items)`);
    return kept;
  }
  const obj = value as Record<string, unknown>;
  // A PATCH operation setting a secret by path: {"op":"replace","path":"password","value":"…"}.
  const secretPath = typeof obj.path === 'string' && SECRET_KEY.test(lastSegment(obj.path));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = SECRET_KEY.test(k) || (secretPath && k.toLowerCase() === 'value') ? REDACTED : bounded(v, depth + 1);
  }
  return out;
}

/**
 * `body` as the log keeps it: secrets replaced by "[redacted]", long strings and
 * lists cut with a note of what was left out, and at most MAX_LOGGED_BODY bytes
 * of JSON (else a note of the size). Undefined for no body.
 */
export function loggedBody(body: unknown): unknown {
  const json = loggedJson(body);
  return json === undefined ? undefined : JSON.parse(json);
}

/** Words that may name a secret somewhere in a body; without any, no key or PATCH path does. */
const MAYBE_SECRET = /passw|secret|token|credential|api[-_]?key|private[-_]?key/i;
/** Long enough to hold a string that must be cut. */
const MAYBE_LONG = MAX_STRING;

/** loggedBody's JSON text. Most bodies (small, nothing secret, short lists) are kept as sent without a walk. */
function loggedJson(body: unknown): string | undefined {
  if (body === undefined || body === null || (typeof body === 'string' && body === '')) return undefined;
  const sent = JSON.stringify(body);
  if (sent.length <= MAYBE_LONG && !MAYBE_SECRET.test(sent)) return sent;
  const kept = JSON.stringify(bounded(body, 0));
  const bytes = Buffer.byteLength(kept);
  return bytes > MAX_LOGGED_BODY ? JSON.stringify({ truncated: true, bytes, note: `the body was larger than ${MAX_LOGGED_BODY} bytes after shortening; not kept` }) : kept;
}

/**
 * Which IdP sent the request. The User-Agent when it says (Okta's client names
 * itself; Entra ID's names Azure AD or Microsoft), else the shape: Entra ID
 * capitalises PATCH ops ("Replace", "Add") and adds its aadOptscim flag to URLs.
 */
export function provisioningClient(userAgent: string | undefined, url: string, body: unknown): ProvisioningClient {
  const ua = userAgent ?? '';
  if (/okta/i.test(ua)) return 'okta';
  if (/azure|microsoft|entra|\baad\b/i.test(ua)) return 'entra-id';
  if (/[?&]aadOptscim/i.test(url)) return 'entra-id';
  const ops = (body as { Operations?: unknown } | null)?.Operations;
  if (Array.isArray(ops) && ops.some((o) => typeof (o as { op?: unknown })?.op === 'string' && /^(Add|Replace|Remove)$/.test((o as { op: string }).op))) return 'entra-id';
  return 'other';
}

// --- the log ------------------------------------------------------------------

interface Queued {
  row: RequestLogTable;
  /** The connection id only the URL named (authentication failed): kept if the connection exists. */
  unverified: boolean;
  /** The bounded body's JSON text, encoded at flush time. */
  body: string | undefined;
}

function view(row: RequestSummaryRow): RequestView {
  return {
    id: row.id,
    at: row.at,
    method: row.method,
    path: row.path,
    status: Number(row.status),
    durationMs: Math.round(Number(row.duration_ms) * 100) / 100,
    client: row.client as ProvisioningClient,
    userAgent: row.user_agent,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    error: row.error_code ? { code: row.error_code, scimType: row.scim_type, detail: row.error_detail ?? '' } : null,
    requestId: row.request_id,
  };
}

/** The log's `status` filter: a code (201), a class (4xx) or `error`; the admin API checks queries with it. */
export const STATUS_FILTER = /^(?:([1-5]\d\d)|([1-5])xx|(error))$/i;

/** `status` of the query as an exact code or an inclusive range; undefined when not given. */
export function parseStatusFilter(status: string | undefined): number | [number, number] | undefined {
  if (status === undefined) return undefined;
  const m = STATUS_FILTER.exec(status);
  if (!m) throw fail('ROLLCALL_ADMIN_BAD_INPUT', `'status' must be a status code (201), a class (4xx) or 'error'; got '${status.slice(0, 20)}'`);
  if (m[1]) return Number(m[1]);
  if (m[2]) return [Number(m[2]) * 100, Number(m[2]) * 100 + 99];
  return [400, 599];
}

export class ProvisioningLog implements RequestObserver {
  readonly enabled: boolean;
  readonly days: number;
  private queue: Queued[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxQueued: number;
  private readonly compressor = new RequestBodyCompressor();
  /** Ids in the order requests were answered here, also within a millisecond. */
  private readonly nextId = monotonicUuidv7();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly readDb: Kysely<DB>,
    private readonly dialect: SqlDialect,
    private readonly clock: Clock,
    private readonly log: () => Logger,
    opts: RequestLogOptions = {},
  ) {
    this.enabled = opts.enabled ?? true;
    this.days = opts.days ?? DEFAULT_REQUEST_LOG_DAYS;
    this.maxQueued = opts.maxQueued ?? 20_000;
    if (this.enabled) {
      this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 200);
      this.timer.unref();
    }
  }

  /** A new log id, time-ordered after every one this log made before (the HTTP layer takes one per request on arrival). */
  newId(): string {
    return this.nextId(this.clock().getTime());
  }

  onRequest(r: ObservedRequest): void {
    const connectionId = r.connectionId ?? r.urlConnectionId;
    if (!this.enabled || !connectionId) return;
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    const now = this.clock();
    const authenticated = r.connectionId !== undefined;
    this.queue.push({
      unverified: !authenticated,
      // Only an authenticated request's body: anyone can send one with a wrong token.
      body: authenticated ? loggedJson(r.body) : undefined,
      row: {
        // The id the request got on arrival (its events name it), else one now.
        id: r.logId ?? this.nextId(now.getTime()),
        connection_id: connectionId,
        at: now.toISOString(),
        method: r.method,
        path: (r.url ?? r.path).slice(0, MAX_PATH),
        status: r.status,
        duration_ms: r.durationMs,
        client: provisioningClient(r.userAgent, r.url ?? r.path, r.body),
        user_agent: r.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
        resource_type: r.resourceType ?? null,
        resource_id: r.resourceId?.slice(0, 200) ?? null,
        error_code: r.error?.code ?? null,
        scim_type: r.error?.scimType ?? null,
        error_detail: r.error?.detail.slice(0, MAX_DETAIL) ?? null,
        body: null,
        request_id: r.requestId,
      },
    });
  }

  /** Writes what is queued (the admin API calls it before reading, tests to see their requests). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeQueued());
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    if (this.dropped) {
      this.log().warn({ dropped: this.dropped }, 'provisioning log: queue full, requests not logged');
      this.dropped = 0;
    }
    const batch = this.queue;
    if (!batch.length) return;
    this.queue = [];
    try {
      const unverified = [...new Set(batch.filter((q) => q.unverified).map((q) => q.row.connection_id))];
      const known = new Set<string>();
      if (unverified.length) {
        for (const c of await this.readDb.selectFrom('connections').select('id').where('id', 'in', unverified).execute()) known.add(c.id);
      }
      const rows: RequestLogTable[] = [];
      const days = new Map<string, RequestDaysTable>();
      const kept = batch.filter((q) => !q.unverified || known.has(q.row.connection_id));
      const bodies = await this.compressor.encode(
        kept.map((q) => q.body ?? null),
        this.dialect.storesBytesInTextColumns,
      );
      for (const [i, q] of kept.entries()) {
        const row = q.row;
        row.body = bodies[i];
        rows.push(row);
        const day = row.at.slice(0, 10);
        const key = `${row.connection_id} ${day}`;
        const d = days.get(key) ?? { connection_id: row.connection_id, day, requests: 0, errors: 0 };
        d.requests++;
        if (row.status >= 400) d.errors++;
        days.set(key, d);
      }
      if (!rows.length) return;
      await this.db.transaction().execute(async (trx) => {
        await insertRequestRows(trx, this.dialect, rows);
        await addRequestDays(trx, [...days.values()]);
      });
    } catch (err) {
      this.log().error({ err, requests: batch.length }, 'provisioning log: could not write requests; they are not logged');
    }
  }

  async list(connectionId: string, q: RequestQuery = {}): Promise<RequestPage> {
    await this.flush();
    const limit = Math.min(q.limit ?? 50, MAX_REQUEST_PAGE);
    const rows = await listRequestRows(this.readDb, connectionId, {
      limit: limit + 1,
      before: q.before,
      status: parseStatusFilter(q.status),
      method: q.method?.toUpperCase(),
      resourceId: q.resource,
    });
    const page = rows.slice(0, limit).map(view);
    return { requests: page, next: rows.length > limit ? page[page.length - 1].id : null };
  }

  /** One request with its (redacted, bounded) body; undefined if the connection has no such request. */
  async get(connectionId: string, id: string): Promise<(RequestView & { body: unknown }) | undefined> {
    await this.flush();
    const row = await getRequestRow(this.readDb, connectionId, id);
    if (!row) return undefined;
    return { ...view(row), body: row.body === null ? null : decodeEventData(row.body) };
  }

  async health(connectionId: string): Promise<ConnectionHealth> {
    await this.flush();
    const today = Date.parse(this.clock().toISOString().slice(0, 10));
    const first = new Date(today - (HEALTH_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
    const counted = new Map((await requestDayRows(this.readDb, connectionId, first)).map((d) => [d.day, d]));
    const days = Array.from({ length: HEALTH_DAYS }, (_, i) => {
      const day = new Date(today - (HEALTH_DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10);
      const d = counted.get(day);
      return { day, requests: Number(d?.requests ?? 0), errors: Number(d?.errors ?? 0) };
    });
    const { last, lastError } = await lastRequestRows(this.readDb, connectionId);
    return { lastRequestAt: last?.at ?? null, lastError: lastError ? view(lastError) : null, days };
  }

  /** Deletes requests older than the retention window (day counts after HEALTH_DAYS). */
  async prune(asOf: Date): Promise<number> {
    await this.flush();
    const cutoff = asOf.getTime() - this.days * DAY_MS;
    const dayFloor = new Date(asOf.getTime() - (HEALTH_DAYS + 1) * DAY_MS).toISOString().slice(0, 10);
    return pruneRequestRows(this.db, uuidv7Floor(cutoff), dayFloor);
  }

  /** Stops the timer and writes what is queued. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.compressor.close();
  }
}
