/** The service object: one database, the directories on top of it. */
import { type ScimLimits, resolveLimits } from './scim/limits.js';
import { sql } from 'kysely';
import { openDatabase, type OpenedDatabase } from './store/db.js';
import { type MigrateMode, schemaDrift } from './store/migrations.js';
import { readServerSetting, writeServerSetting } from './store/server-settings.js';
import { parseDatabaseUrl } from './store/database-url.js';
import { type BackupReport, type RestoreReport, backupSqlite, restoreSqlite } from './store/sqlite-backup.js';
import { fail } from './scim/errors.js';
import { ConnectionDirectory } from './directory/connections.js';
import { UserDirectory } from './directory/users.js';
import { GroupDirectory } from './directory/groups.js';
import { type Clock, daysBefore, requestContext, systemClock } from './directory/context.js';
import { type ExportedResource, exportConnection } from './directory/export.js';
import { type PurgeReport, purgeExpired } from './directory/lifecycle.js';
import { type ImportReport, importCsv } from './directory/import.js';
import { settingsChecks } from './directory/policies/index.js';
import { TOKEN_TTL_SECONDS } from './directory/client-credentials.js';
import type { NewEvent, RollcallEvent } from './events/types.js';
import { writeEvents } from './events/outbox.js';
import { EventBus, type EventHandler, type SubscribeOptions } from './events/bus.js';
import { type FeedOptions, type FeedPage, readFeed } from './events/feed.js';
import { Webhooks } from './events/webhooks.js';
import { type AttemptOutcome, DeliveryWorker, type DeliveryOptions } from './events/delivery.js';
import { type DeliveryBacklog, deliveryBacklog } from './events/backlog.js';
import { type Logger, stderrLogger } from './events/logger.js';
import { AdminTokens } from './directory/admin-keys.js';
import { pruneEvents } from './events/retention.js';
import { RateLimiter, checkRateLimit } from './directory/rate-limit.js';
import { type RequestObserver, fanOutObservers } from './directory/observer.js';
import { ProvisioningLog, type RequestLogOptions } from './directory/provisioning-log.js';
import { DirectoryBrowser } from './directory/browse.js';
import { ConsoleAccess } from './directory/console-access.js';
import { type Maintenance, type MaintenanceOptions, startMaintenance } from './directory/maintenance.js';
import { SourceDirectory } from './directory/sources.js';
import { type SourceStats, Sources, type SourcesOptions } from './sources/index.js';

export interface RollcallOptions {
  databaseUrl: string;
  /**
   * Where clients reach this server (SCIM locations, the URLs the CLI and admin
   * API print). Unset: the one a server recorded (`recordPublicUrl`), else
   * `defaultPublicUrl`.
   */
  publicUrl?: string;
  /** The URL when none is given or recorded (default http://localhost:8080). */
  defaultPublicUrl?: string;
  /**
   * This instance serves HTTP itself (`rollcall serve`): without an explicit
   * publicUrl it prefers a recorded public address but not a recorded loopback
   * one, which was some earlier run's default. It records its own with
   * `recordPublicUrl` once it listens.
   */
  serving?: boolean;
  clock?: Clock;
  /** Plans whose organisations may use the SCIM API (default: enterprise). */
  scimPlans?: string[];
  /** The admin API key (ROLLCALL_ADMIN_TOKEN). Unset: a generated key stored as a hash (see `admin.ensure()`). */
  adminToken?: string;
  /**
   * Store events for the feed, webhooks and in-process subscribers (default true).
   * False: no outbox at all — for deployments that never read events.
   */
  events?: boolean;
  /** Days events are kept for the feed and webhooks (default 30; 0: forever). Pruned by `purge`. */
  eventRetentionDays?: number;
  /** Webhook delivery settings, used when the worker is started (`startDelivery`). */
  webhooks?: DeliveryOptions;
  /** Where event handler and delivery errors are logged (default: JSON lines on stderr). */
  logger?: Logger;
  /**
   * SCIM requests one connection may make per minute, over all instances
   * (ROLLCALL_RATE_LIMIT); more get 429 with Retry-After. Default 0: no limit.
   */
  rateLimitPerMinute?: number;
  /** Seconds an OAuth access token (client credentials grant, POST /oauth/token) works: 60 to 86,400, default 3,600 (ROLLCALL_OAUTH_TOKEN_TTL). */
  oauthTokenTtlSeconds?: number;
  /** Told about every SCIM request once it is answered (metrics, the host's own log), after the provisioning log. One that throws is logged. */
  observers?: RequestObserver[];
  /** The provisioning log of SCIM requests per connection (default on, 14 days). */
  requestLog?: RequestLogOptions;
  /** Hours a console session lasts (ROLLCALL_SESSION_HOURS, default 12); a setup link's ends with the link at the latest. */
  sessionHours?: number;
  /**
   * The schema on opening (ROLLCALL_MIGRATE): `apply` (default) runs pending
   * migrations, `check` refuses to start while any are pending, false leaves the
   * schema alone (`rollcall migrate` then applies or lists them).
   */
  migrate?: boolean | MigrateMode;
  /** Cost bounds of one SCIM request (ROLLCALL_MAX_*); unset ones keep their defaults (scim/limits.ts). */
  limits?: Partial<ScimLimits>;
  /** ROLLCALL_SECRET_KEY for secrets at rest (default: `webhooks.secretKey`); pulled connections need it for their credentials. */
  secretKey?: Uint8Array;
  /** Pulled connections (Google Workspace): how the clients reach the source, leases, schedule checks. */
  sources?: SourcesOptions;
}

/** What this process has done since it opened the Rollcall, for metrics (http/metrics.ts reads it at each scrape). */
export interface OperationalStats {
  /** `purge()` runs: by the maintenance timer, the admin API or the CLI in this process. */
  purge: { runs: number; failures: number; usersPurged: number; /** ms since the epoch of the last run that succeeded. */ lastSuccessAt: number | null };
  /** Webhook delivery attempts this process made, by outcome. */
  deliveryAttempts: Record<AttemptOutcome, number>;
  /** Sync runs of pulled connections (Google Workspace) this process made. */
  sourceSyncs: SourceStats;
}

/** Events for a host application in the same process, and the feed. */
export interface RollcallEvents {
  /**
   * Calls `handler` with every event this instance commits from now on (after the
   * commit, in order, per subscriber one at a time). Errors thrown by the handler
   * are logged; they never affect the write. Returns the unsubscribe function.
   */
  subscribe(handler: EventHandler, opts?: SubscribeOptions): () => void;
  /** Stored events after a cursor, in commit order (see GET /api/v1/events). */
  feed(opts?: FeedOptions): Promise<FeedPage>;
}

export interface Rollcall {
  /** Where clients reach this server (see RollcallOptions.publicUrl). */
  readonly publicUrl: string;
  /**
   * Serve under `url` from now on and record it in the database, where the CLI and
   * instances told no PUBLIC_URL find it (`rollcall serve` calls it once it listens).
   */
  recordPublicUrl(url: string): Promise<void>;
  readonly database: OpenedDatabase<NewEvent>;
  /** The cost bounds every SCIM request is held to (scim/limits.ts). */
  readonly limits: Readonly<ScimLimits>;
  readonly connections: ConnectionDirectory;
  readonly users: UserDirectory;
  readonly groups: GroupDirectory;
  /** Connections pulled from a directory (Google Workspace): setup, runs, `sync` now. */
  readonly sources: Sources;
  readonly events: RollcallEvents;
  /** Webhook endpoints per organisation and their deliveries. */
  readonly webhooks: Webhooks;
  /** The admin API key. */
  readonly admin: AdminTokens;
  /** Requests per connection per minute (see RollcallOptions.rateLimitPerMinute). */
  readonly rateLimit: RateLimiter;
  /** The provisioning log and `RollcallOptions.observers` as one; the HTTP layer calls it once per SCIM request. */
  readonly requestObserver: RequestObserver;
  /** Every SCIM request per connection, and connection health (see directory/provisioning-log.ts). */
  readonly requestLog: ProvisioningLog;
  /** Users and groups as the admin API lists them, one user in any state, a user's history. */
  readonly browse: DirectoryBrowser;
  /** Console sessions, setup links and the organisations' audit trail. */
  readonly console: ConsoleAccess;
  /** The delivery worker, when started. */
  readonly delivery: DeliveryWorker | undefined;
  /** Starts delivering webhooks from this process (options over those given at creation). */
  startDelivery(opts?: DeliveryOptions): DeliveryWorker;
  /** Stops delivering (in-flight requests finish or are aborted, see DeliveryOptions.stopGraceMs). */
  stopDelivery(): Promise<void>;
  /** Replaces the logger (e.g. with Fastify's once the server exists). */
  setLogger(logger: Logger): void;
  /** Imports users from CSV text into an organisation without a SCIM connection. */
  /** `csv` as read from the file (bytes: its encoding is checked) or already decoded text. */
  importCsv(organizationId: string, csv: string | Uint8Array): Promise<ImportReport>;
  /** Purges users past their connection's retention window, events past eventRetentionDays and logged requests past the request log's days, treating `asOf` as now. */
  purge(asOf?: Date): Promise<PurgeReport>;
  /**
   * Starts what a long-running server does on its own: planner statistics every
   * minute, `purge` now and every hour, and the pulled connections' syncs when
   * they are due (`rollcall serve` calls it). A second call changes nothing;
   * close() stops it.
   */
  startMaintenance(opts?: MaintenanceOptions): void;
  /**
   * The connection's users, then its groups, as SCIM resources (JSON text, one per
   * item), read page by page: memory stays bounded at any size. Unknown id: CONNECTION_NOT_FOUND.
   */
  exportConnection(connectionId: string): AsyncGenerator<ExportedResource>;
  /**
   * Resolves when the database answers on the reads' and the writes' connection
   * and its schema is this version's (for /readyz); rejects with the reason
   * otherwise: MIGRATIONS_PENDING, SCHEMA_NEWER (another instance of a newer
   * version migrated it: this one must not write there), or the database's error.
   */
  ready(): Promise<void>;
  /** Counts of purges and delivery attempts in this process (live; read, do not change). */
  readonly stats: Readonly<OperationalStats>;
  /** Pending webhook deliveries over all instances and the oldest one's due time. */
  deliveryBacklog(): Promise<DeliveryBacklog>;
  close(): Promise<void>;
}

export async function createRollcall(opts: RollcallOptions): Promise<Rollcall> {
  checkRateLimit(opts.rateLimitPerMinute ?? 0);
  const limits = resolveLimits(opts.limits);
  const database = await openDatabase<NewEvent>(opts.databaseUrl, { migrate: opts.migrate ?? 'apply' });
  const clock = opts.clock ?? systemClock;
  let publicUrl: string;
  try {
    publicUrl = (await resolvePublicUrl(database, opts)).replace(/\/+$/, '');
  } catch (e) {
    await database.close();
    throw e;
  }
  const connections = new ConnectionDirectory(database.db, database.readDb, database.writes, clock, () => publicUrl, opts.scimPlans ?? ['enterprise'], settingsChecks, checkedTokenTtl(opts.oauthTokenTtlSeconds), database.dialect.lockRows);
  const users = new UserDirectory(database.db, database.writes, database.readDb, database.dialect, clock, limits, database.scan);
  const groups = new GroupDirectory(database.db, database.writes, database.readDb, database.dialect, clock, limits, database.scan);

  let logger: Logger = opts.logger ?? stderrLogger;
  const log = () => logger;
  const bus = new EventBus(log);
  let delivery: DeliveryWorker | undefined;
  let maintenance: Maintenance | undefined;
  // The egress policy and the secret key apply to adding endpoints as to delivering.
  const webhooks = new Webhooks(database.db, clock, opts.webhooks);
  webhooks.onWork = () => delivery?.nudge();
  const afterCommit = (events: RollcallEvent[]) => {
    bus.publish(events);
    delivery?.nudge();
  };
  if (opts.events !== false) wireOutbox(database, afterCommit);
  const adminTokens = new AdminTokens(database.db, database.readDb, opts.adminToken || undefined, clock);
  const consoleAccess = new ConsoleAccess(database.db, adminTokens, connections, clock, () => `${publicUrl}/admin`, opts.sessionHours);
  const requestLog = new ProvisioningLog(database.db, database.readDb, database.dialect, clock, log, opts.requestLog);
  const stats: OperationalStats = {
    purge: { runs: 0, failures: 0, usersPurged: 0, lastSuccessAt: null },
    deliveryAttempts: { delivered: 0, retrying: 0, failed: 0 },
    sourceSyncs: { runs: 0, failures: 0, usersChanged: 0, lastSuccessAt: null },
  };
  const sourceDirectory = new SourceDirectory(database.db, connections, clock, opts.secretKey ?? opts.webhooks?.secretKey, database.dialect);
  const sources = new Sources({ users, groups, sources: sourceDirectory, log: requestLog }, log, stats.sourceSyncs, opts.sources);
  const purgeOnce = async (asOf?: Date): Promise<PurgeReport> => {
    const at = asOf ?? clock();
    const report = await purgeExpired(database, connections, at);
    const days = opts.eventRetentionDays ?? 30;
    if (days > 0) report.events = await pruneEvents(database.db, daysBefore(at, days));
    if (requestLog.enabled) report.requests = await requestLog.prune(at);
    await consoleAccess.pruneSessions(at);
    return report;
  };
  const purge = async (asOf?: Date): Promise<PurgeReport> => {
    stats.purge.runs++;
    try {
      const report = await purgeOnce(asOf);
      stats.purge.usersPurged += report.purged;
      // The wall clock, not `asOf`: an alert asks how long ago a purge last worked.
      stats.purge.lastSuccessAt = Date.now();
      return report;
    } catch (e) {
      stats.purge.failures++;
      throw e;
    }
  };

  return {
    limits,
    get publicUrl() {
      return publicUrl;
    },
    async recordPublicUrl(url: string) {
      const clean = url.replace(/\/+$/, '');
      await writeServerSetting(database.db, 'public_url', clean, clock().toISOString());
      publicUrl = clean;
    },
    database,
    events: {
      subscribe: (handler, o) => bus.subscribe(handler, o),
      feed: (o) => readFeed(database.readDb, o),
    },
    webhooks,
    admin: adminTokens,
    console: consoleAccess,
    requestLog,
    browse: new DirectoryBrowser(database.readDb, connections),
    requestObserver: fanOutObservers([requestLog, ...(opts.observers ?? [])], (err) => logger.error({ err }, 'request observer failed; the request was answered')),
    rateLimit: new RateLimiter(database.db, database.dialect, opts.rateLimitPerMinute ?? 0, clock, (err) => logger.error({ err }, 'rate limit: cannot claim requests; letting them through')),
    get delivery() {
      return delivery;
    },
    startDelivery(o?: DeliveryOptions) {
      if (delivery?.isRunning) return delivery;
      delivery = new DeliveryWorker(database.db, database.dialect, log, { ...opts.webhooks, ...o });
      delivery.onAttempt = (outcome) => stats.deliveryAttempts[outcome]++;
      delivery.start();
      return delivery;
    },
    stopDelivery: async () => {
      await delivery?.stop();
    },
    setLogger(l: Logger) {
      logger = l;
    },
    importCsv: (organizationId: string, csv: string | Uint8Array) => importCsv({ connections, users, groups }, organizationId, csv),
    purge,
    startMaintenance(o?: MaintenanceOptions) {
      maintenance ??= startMaintenance({ optimize: () => database.optimize(), purge: () => purge(), log }, o);
      sources.start();
    },
    connections,
    users,
    groups,
    sources,
    async *exportConnection(connectionId: string) {
      const c = await connections.show(connectionId);
      if (!c) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `Connection '${connectionId}' not found.`);
      yield* exportConnection(users, groups, requestContext(c.id, c, c.scimUrl));
    },
    ready: async () => {
      await sql`select 1`.execute(database.readDb);
      if (database.readDb !== database.db) await sql`select 1`.execute(database.db);
      const schema = await schemaDrift(database.db, database.dialect);
      if (schema.unknown.length) {
        throw fail('ROLLCALL_SCHEMA_NEWER', `the database was migrated by a newer Rollcall (migrations ${schema.unknown.join(', ')} are unknown to this version)`);
      }
      if (schema.pending.length) throw fail('ROLLCALL_MIGRATIONS_PENDING', `${schema.pending.length} migration(s) are pending (${schema.pending.join(', ')}); run \`rollcall migrate\``);
    },
    stats,
    deliveryBacklog: () => deliveryBacklog(database.readDb),
    close: async () => {
      maintenance?.stop();
      await sources.stop();
      await delivery?.stop();
      await requestLog.close();
      await database.close();
    },
  };
}

/** The SQLite file DATABASE_URL names; PostgreSQL has its own backup tools. */
function sqliteFileFor(databaseUrl: string, command: string): string {
  const loc = parseDatabaseUrl(databaseUrl);
  if (loc.kind === 'postgres') {
    throw fail(
      'ROLLCALL_BACKUP_UNSUPPORTED',
      `rollcall ${command} works on SQLite; on PostgreSQL use its own tools: pg_dump -Fc (restore with pg_restore) for logical backups, pg_basebackup with WAL archiving for point-in-time recovery (see docs/operations.md)`,
    );
  }
  if (loc.file === ':memory:') throw fail('ROLLCALL_BACKUP_UNSUPPORTED', `rollcall ${command} needs a database file; DATABASE_URL names an in-memory database`);
  return loc.file;
}

/** A consistent copy of the SQLite database at `databaseUrl` in the new file `file`, taken while servers keep writing. */
export function backupDatabase(databaseUrl: string, file: string): BackupReport {
  return backupSqlite(sqliteFileFor(databaseUrl, 'backup'), file);
}

/** Replaces the (stopped) SQLite database at `databaseUrl` by the backup `file`, after checking it; the replaced file is kept beside it. */
export function restoreDatabase(databaseUrl: string, file: string, now: Date = new Date()): RestoreReport {
  return restoreSqlite(file, sqliteFileFor(databaseUrl, 'restore'), now);
}

/** True for localhost, 127.0.0.0/8 and ::1: a URL no IdP in the cloud can reach. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
}

async function resolvePublicUrl(database: OpenedDatabase<NewEvent>, opts: RollcallOptions): Promise<string> {
  const fallback = opts.defaultPublicUrl ?? 'http://localhost:8080';
  let url = opts.publicUrl;
  if (url === undefined) {
    const recorded = await readServerSetting(database.readDb, 'public_url');
    url = recorded && !(opts.serving && isLoopbackUrl(recorded)) ? recorded : fallback;
  }
  return url;
}

/**
 * The outbox: what a batch of writes emitted is stored in the batch's transaction,
 * and once it has committed the stored events go to `afterCommit` (in-process
 * subscribers, the delivery worker) before the batch's callers are answered.
 */
function wireOutbox(database: OpenedDatabase<NewEvent>, afterCommit: (events: RollcallEvent[]) => void): void {
  database.writes.setBeforeCommit((trx, emitted) => writeEvents(trx, emitted, database.dialect), afterCommit);
}

/** The access token lifetime, or a RangeError naming what it accepts. */
function checkedTokenTtl(seconds: number | undefined): number {
  const s = seconds ?? TOKEN_TTL_SECONDS.default;
  if (!Number.isInteger(s) || s < TOKEN_TTL_SECONDS.min || s > TOKEN_TTL_SECONDS.max) {
    throw new RangeError(`oauthTokenTtlSeconds must be a whole number of seconds from ${TOKEN_TTL_SECONDS.min} to ${TOKEN_TTL_SECONDS.max}, got ${seconds}`);
  }
  return s;
}
