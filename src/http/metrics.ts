/**
 * GET /metrics in Prometheus' text format, for the admin key or the metrics token
 * (ROLLCALL_METRICS_TOKEN) only: the build, the process (prom-client's defaults),
 * HTTP requests, SCIM requests per connection, event-loop delay, the webhook
 * backlog and delivery outcomes, purge runs and rate-limit refusals.
 *
 * Labels carry route patterns, methods, statuses and connection ids, never user
 * ids or names: no personal data. A connection label is only set once the
 * connection's token was verified, so its values are bounded by the connections
 * that exist, not by what a scanner puts in URLs.
 *
 * Cardinality: per connection there are counters only (requests by method and
 * status, seconds spent, refusals): some tens of series for an active one. The
 * latency histogram is by method and route pattern, not by connection: with a
 * thousand connections, twenty routes and fifteen buckets that would be 300,000
 * series. Per-connection mean latency is `rate(seconds_total) / rate(requests)`,
 * and the seconds show which tenant the server spends its time on.
 *
 * One registry per server, so several servers in one process (tests, embedding)
 * do not share HTTP counters; purge and delivery counts are the Rollcall's
 * (`rc.stats`), read at each scrape.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Rollcall } from '../rollcall.js';
import type { ErrorCode } from '../scim/errors.js';
import { buildInfo } from '../build-info.js';
import { answeredError } from './errors.js';
import { requireAdminBearer } from './admin-access.js';

export interface MetricsOptions {
  /** ROLLCALL_METRICS_TOKEN: a bearer token that opens /metrics (and nothing else), besides the admin key. */
  token?: string;
  /** The window the event-loop delay gauges describe (ms; default 60 s). */
  eventLoopWindowMs?: number;
}

/** Refusals answered after the connection's token was verified: the URL's connection id is authenticated. */
const REFUSED_AFTER_AUTH = new Set<ErrorCode>(['ROLLCALL_RATE_LIMITED', 'ROLLCALL_CONNECTION_DISABLED', 'ROLLCALL_SCIM_NOT_IN_PLAN']);

/** The authenticated connection a SCIM request ran as; undefined for other requests and failed authentication. */
function connectionOf(req: FastifyRequest): string | undefined {
  if (req.scim) return req.scim.connectionId;
  const code = answeredError(req)?.code;
  if (!code || !REFUSED_AFTER_AUTH.has(code)) return undefined;
  const id = (req.params as { connectionId?: unknown } | undefined)?.connectionId;
  return typeof id === 'string' ? id : undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** One call of `fn` for all callers while it runs: the gauges of one scrape share one query. */
function shared<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () =>
    (running ??= fn().finally(() => {
      running = undefined;
    }));
}

export function registerMetrics(app: FastifyInstance, rc: Rollcall, opts: MetricsOptions = {}): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'rollcall_' });
  const info = buildInfo();
  new Gauge({ name: 'rollcall_build_info', help: 'Always 1; the labels say which build runs.', labelNames: ['version', 'commit', 'node'], registers })
    .labels(info.version, info.commit ?? 'unknown', info.node)
    .set(1);

  // --- HTTP and SCIM requests ----------------------------------------------------
  const requests = new Counter({
    name: 'rollcall_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'rollcall_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers,
  });
  const scimRequests = new Counter({
    name: 'rollcall_scim_requests_total',
    help: 'SCIM requests answered, by authenticated connection id, method and status (failed authentication is in rollcall_http_requests_total only).',
    labelNames: ['connection', 'method', 'status'],
    registers,
  });
  const scimSeconds = new Counter({
    name: 'rollcall_scim_request_seconds_total',
    help: 'Time spent answering SCIM requests, by authenticated connection id.',
    labelNames: ['connection'],
    registers,
  });
  const refusals = new Counter({
    name: 'rollcall_rate_limit_refusals_total',
    help: 'SCIM requests refused with 429 by ROLLCALL_RATE_LIMIT, by connection id.',
    labelNames: ['connection'],
    registers,
  });
  app.addHook('onResponse', async (req, reply) => {
    // Unmatched URLs share one label: a scanner must not grow the series without bound.
    const route = req.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    const status = String(reply.statusCode);
    const seconds = reply.elapsedTime / 1000;
    requests.labels(req.method, route, status).inc();
    duration.labels(req.method, route).observe(seconds);
    const connection = connectionOf(req);
    if (connection === undefined) return;
    scimRequests.labels(connection, req.method, status).inc();
    scimSeconds.labels(connection).inc(seconds);
    if (answeredError(req)?.code === 'ROLLCALL_RATE_LIMITED') refusals.labels(connection).inc();
  });

  // --- Event-loop delay ----------------------------------------------------------
  // prom-client's rollcall_nodejs_eventloop_lag_* are reset at every scrape (two
  // scrapers each see half). These describe fixed windows instead: the last complete
  // one (the one so far until the first ends), whoever scrapes and how often.
  // The monitor's samples include its own 10 ms timer period (an idle loop reads
  // ~10.1 ms): it is taken off, so the gauges say how late callbacks ran.
  const RESOLUTION_MS = 10;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  const late = (ns: number) => Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000);
  const snapshot = () => (loop.count ? { p50: late(loop.percentile(50)), p99: late(loop.percentile(99)), max: late(loop.max) } : undefined);
  let window: ReturnType<typeof snapshot>;
  const roll = setInterval(() => {
    window = snapshot();
    loop.reset();
  }, opts.eventLoopWindowMs ?? 60_000);
  roll.unref();
  const loopDelay = () => window ?? snapshot();
  for (const [key, label] of [
    ['p50', 'median'],
    ['p99', '99th percentile'],
    ['max', 'maximum'],
  ] as const) {
    new Gauge({
      name: `rollcall_event_loop_delay_${key}_seconds`,
      help: `Event-loop delay, ${label}, over the last complete window (node:perf_hooks monitorEventLoopDelay less its 10 ms period).`,
      registers,
      collect() {
        this.set(loopDelay()?.[key] ?? 0);
      },
    });
  }
  app.addHook('onClose', async () => {
    clearInterval(roll);
    loop.disable();
  });

  // --- Webhooks --------------------------------------------------------------------
  const backlog = shared(async () => {
    try {
      return await rc.deliveryBacklog();
    } catch (err) {
      app.log.warn({ err }, 'metrics: cannot read the webhook backlog');
      return undefined;
    }
  });
  new Gauge({
    name: 'rollcall_webhook_deliveries_pending',
    help: 'Webhook deliveries not yet delivered nor given up, over all instances (the same on each: take the max). NaN when the database did not answer.',
    registers,
    async collect() {
      const b = await backlog();
      this.set(b ? b.pending : NaN);
    },
  });
  new Gauge({
    name: 'rollcall_webhook_oldest_pending_seconds',
    help: 'How long ago the oldest pending webhook delivery became due (0: none pending), over all instances.',
    registers,
    async collect() {
      const b = await backlog();
      this.set(!b ? NaN : b.oldestDueSince ? Math.max(0, (Date.now() - Date.parse(b.oldestDueSince)) / 1000) : 0);
    },
  });
  new Counter({
    name: 'rollcall_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts this process made, by outcome (delivered or failed; a failed one is retried until the retry window is over).',
    labelNames: ['outcome'],
    registers,
    collect() {
      const a = rc.stats.deliveryAttempts;
      this.reset();
      this.labels('delivered').inc(a.delivered);
      this.labels('failed').inc(a.retrying + a.failed);
    },
  });
  new Counter({
    name: 'rollcall_webhook_deliveries_given_up_total',
    help: 'Webhook deliveries this process gave up on: their last attempt failed after the retry window was over.',
    registers,
    collect() {
      this.reset();
      this.inc(rc.stats.deliveryAttempts.failed);
    },
  });

  // --- Purge -------------------------------------------------------------------------
  new Counter({
    name: 'rollcall_purge_runs_total',
    help: 'Purge runs in this process (retention: users, events, logged requests, sessions), by outcome.',
    labelNames: ['outcome'],
    registers,
    collect() {
      const p = rc.stats.purge;
      this.reset();
      this.labels('ok').inc(p.runs - p.failures);
      this.labels('failed').inc(p.failures);
    },
  });
  new Counter({
    name: 'rollcall_purge_users_total',
    help: 'Users purged (past their connection retention window) by this process.',
    registers,
    collect() {
      this.reset();
      this.inc(rc.stats.purge.usersPurged);
    },
  });
  new Gauge({
    name: 'rollcall_purge_last_success_timestamp_seconds',
    help: 'When a purge last succeeded in this process (Unix time; 0: not yet).',
    registers,
    collect() {
      const at = rc.stats.purge.lastSuccessAt;
      this.set(at === null ? 0 : at / 1000);
    },
  });

  // --- Pulled sources (Google Workspace) ------------------------------------------------
  new Counter({
    name: 'rollcall_source_sync_runs_total',
    help: 'Sync runs of pulled connections (Google Workspace) in this process, by outcome.',
    labelNames: ['outcome'],
    registers,
    collect() {
      const r = rc.stats.sourceSyncs;
      this.reset();
      this.labels('ok').inc(r.runs - r.failures);
      this.labels('failed').inc(r.failures);
    },
  });
  new Counter({
    name: 'rollcall_source_sync_users_changed_total',
    help: 'Users created, updated, deactivated or deleted by sync runs in this process.',
    registers,
    collect() {
      this.reset();
      this.inc(rc.stats.sourceSyncs.usersChanged);
    },
  });
  new Gauge({
    name: 'rollcall_source_sync_last_success_timestamp_seconds',
    help: 'When a sync run last succeeded in this process (Unix time; 0: not yet).',
    registers,
    collect() {
      const at = rc.stats.sourceSyncs.lastSuccessAt;
      this.set(at === null ? 0 : at / 1000);
    },
  });

  // --- The endpoint --------------------------------------------------------------------
  const tokenHash = opts.token ? sha256(opts.token) : undefined;
  // Hashes of equal length, compared in constant time: the answer's timing tells nothing of the token.
  const isMetricsToken = (token: string) => !!tokenHash && timingSafeEqual(sha256(token), tokenHash);
  const accepted = tokenHash ? 'the admin key or ROLLCALL_METRICS_TOKEN' : 'the admin key';
  const words = { missing: `Metrics need credentials: send Authorization: Bearer <${accepted}>.`, invalid: `The token is not ${accepted}.` };
  app.get(
    '/metrics',
    { onRequest: async (req) => requireAdminBearer(rc, req.headers.authorization, { alsoAccept: isMetricsToken, ...words }) },
    async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  return registry;
}
