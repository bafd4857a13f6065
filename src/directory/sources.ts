/**
 * Connections pulled from a directory (Google Workspace; later HRIS or LDAP): the
 * source's settings and sealed credentials, its schedule, the lease that lets one
 * instance at a time run a connection's sync, the runs with their progress and
 * result, and the map from the source's ids to our users and groups. What a sync
 * writes goes through UserDirectory and GroupDirectory like a SCIM request; this
 * module only keeps the books (the sync itself is in src/sources/).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import * as store from '../store/sources.js';
import type { SourceObjectRow, SourceRunRow } from '../store/sources.js';
import { SecretBox, SecretKeyError } from '../store/secret-box.js';
import type { SqlDialect } from '../store/dialect.js';
import { type RollcallError, fail } from '../scim/errors.js';
import type { Clock, RequestContext } from './context.js';
import { requestContext } from './context.js';
import type { ConnectionDirectory, ConnectionInfo, CreateConnectionOptions } from './connections.js';
import type { ConnectionSettings } from './settings.js';

/** Minutes between two runs of a connection: default 40 (like an IdP's cycle), 5 to 1,440. */
export const SYNC_INTERVAL_MINUTES = { default: 40, min: 5, max: 1440 } as const;

/** Errors kept per run, the first ones (`counts.errors` counts them all; a run keeps no more in memory either). */
export const ERRORS_KEPT = 100;

export type RunTrigger = 'setup' | 'schedule' | 'manual';
export type RunStatus = 'running' | 'succeeded' | 'failed';

/** What a run did, as counted while it runs. */
export interface RunCounts {
  usersSeen: number;
  usersCreated: number;
  usersUpdated: number;
  usersUnchanged: number;
  usersDeactivated: number;
  usersDeleted: number;
  groupsSeen: number;
  groupsCreated: number;
  groupsUpdated: number;
  groupsDeleted: number;
  errors: number;
  /** HTTP requests made to the source, retries included. */
  requests: number;
}

export const emptyCounts = (): RunCounts => ({
  usersSeen: 0,
  usersCreated: 0,
  usersUpdated: 0,
  usersUnchanged: 0,
  usersDeactivated: 0,
  usersDeleted: 0,
  groupsSeen: 0,
  groupsCreated: 0,
  groupsUpdated: 0,
  groupsDeleted: 0,
  errors: 0,
  requests: 0,
});

/** One object the run could not write (a policy refused it, a name was taken). */
export interface RunError {
  kind: 'user' | 'group';
  /** The source's id of the object. */
  sourceId: string;
  /** What the source calls it (an e-mail address, a group name). */
  name: string;
  code: string;
  message: string;
}

export interface SourceRun {
  id: string;
  connectionId: string;
  trigger: RunTrigger;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  counts: RunCounts;
  /** The first 100 errors (`counts.errors` counts them all). */
  errors: RunError[];
  /** Why a failed run stopped. */
  message: string | null;
}

/** A pulled connection as the admin API shows it: never the credentials. */
export interface SourceInfo {
  connectionId: string;
  kind: string;
  /** The source's settings (for Google Workspace: admin e-mail, domain, client id, …). */
  config: Record<string, unknown>;
  intervalMinutes: number;
  nextRunAt: string | null;
  /** A run holds the lease now. */
  running: boolean;
  lastRun: SourceRun | null;
}

/** What a sync needs: the connection as a context, the source's settings and its opened credentials. */
export interface LoadedSource {
  ctx: RequestContext;
  connection: ConnectionInfo & { settings: ConnectionSettings };
  kind: string;
  config: Record<string, unknown>;
  /**
   * The credentials, opened (decrypted) when the run needs them, so a key that
   * does not open fails the run (recorded, and retried after the interval)
   * instead of failing before there is one: ROLLCALL_SOURCE_CREDENTIALS_UNREADABLE.
   */
  credentials(): string;
  intervalMinutes: number;
}

export interface CreatePulledOptions extends CreateConnectionOptions {
  kind: string;
  config: Record<string, unknown>;
  /** The credentials as uploaded (sealed before they are stored). */
  credentials: string;
  intervalMinutes?: number;
}

function runView(r: SourceRunRow): SourceRun {
  return {
    id: r.id,
    connectionId: r.connection_id,
    trigger: r.trigger as RunTrigger,
    status: r.status as RunStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    counts: JSON.parse(r.counts) as RunCounts,
    errors: JSON.parse(r.errors) as RunError[],
    message: r.message,
  };
}

export function checkInterval(minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < SYNC_INTERVAL_MINUTES.min || minutes > SYNC_INTERVAL_MINUTES.max) {
    throw fail('ROLLCALL_SOURCE_INVALID_CONFIG', `the sync interval must be a whole number of minutes from ${SYNC_INTERVAL_MINUTES.min} to ${SYNC_INTERVAL_MINUTES.max}, got ${minutes}`);
  }
  return minutes;
}

const credentialsContext = (connectionId: string) => `connection_sources.credentials:${connectionId}`;

export class SourceDirectory {
  private readonly box: SecretBox;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly connections: ConnectionDirectory,
    private readonly clock: Clock,
    /** ROLLCALL_SECRET_KEY: credentials are only ever stored sealed. */
    secretKey: Uint8Array | undefined,
    /** Leases compare on the database's clock (shared by every instance), through the dialect. */
    private readonly dialect: SqlDialect,
  ) {
    this.box = new SecretBox(secretKey);
  }

  private requireKey(): void {
    if (!this.box.sealing) {
      throw fail('ROLLCALL_SOURCE_SECRET_KEY_REQUIRED', 'a pulled connection stores its credentials encrypted: set ROLLCALL_SECRET_KEY (32 bytes, e.g. `openssl rand -base64 32`) first');
    }
  }

  private seal(plain: string, connectionId: string): string {
    this.requireKey();
    return this.box.seal(plain, credentialsContext(connectionId));
  }

  /** A new pulled connection with its source row; its first run is due at once. */
  async create(o: CreatePulledOptions): Promise<ConnectionInfo & { settings: ConnectionSettings; source: SourceInfo }> {
    const interval = checkInterval(o.intervalMinutes ?? SYNC_INTERVAL_MINUTES.default);
    this.requireKey();
    const created = await this.connections.createPulled(o, o.kind, async (trx, connectionId, now) => {
      await store.insertSource(trx, {
        connection_id: connectionId,
        kind: o.kind,
        config: JSON.stringify(o.config),
        credentials: this.seal(o.credentials, connectionId),
        interval_minutes: interval,
        next_run_at: now,
        lease_holder: null,
        lease_until: null,
        created_at: now,
      });
    });
    return { ...created, source: (await this.show(created.id))! };
  }

  /** The source of a pulled connection, or undefined for a SCIM or import connection. */
  async show(connectionId: string): Promise<SourceInfo | undefined> {
    const row = await store.getSource(this.db, connectionId);
    if (!row) return undefined;
    const [last] = await store.listRuns(this.db, connectionId, 1);
    const state = await store.sourceState(this.db, this.dialect, connectionId);
    return {
      connectionId,
      kind: row.kind,
      config: JSON.parse(row.config) as Record<string, unknown>,
      intervalMinutes: row.interval_minutes,
      nextRunAt: row.next_run_at,
      running: state?.held ?? false,
      lastRun: last ? runView(last) : null,
    };
  }

  /** Changes the source's settings, credentials (sealed again) or interval. */
  async configure(connectionId: string, change: { config?: Record<string, unknown>; credentials?: string; intervalMinutes?: number }): Promise<SourceInfo> {
    const values: Parameters<typeof store.updateSource>[2] = {};
    if (change.config) values.config = JSON.stringify(change.config);
    if (change.credentials !== undefined) values.credentials = this.seal(change.credentials, connectionId);
    if (change.intervalMinutes !== undefined) values.interval_minutes = checkInterval(change.intervalMinutes);
    if (!(await store.updateSource(this.db, connectionId, values))) throw this.notPulled(connectionId);
    return (await this.show(connectionId))!;
  }

  /**
   * Why a run of this connection must not go on, when it must not: the connection
   * was deleted or disabled, or is no longer a `kind` source (ROLLCALL_SOURCE_SYNC_CANCELLED).
   */
  async cancelled(connectionId: string, kind: string): Promise<RollcallError | undefined> {
    return cancellation(connectionId, kind, await store.sourceState(this.db, this.dialect, connectionId));
  }

  /**
   * The source's primary domain changed from `from` to `to`: the connection's
   * verified domains follow (`from` replaced by `to`, or `to` added), so users of
   * the new domain are not refused. An empty list (no domain check) stays empty.
   */
  async primaryDomainChanged(connectionId: string, from: string, to: string): Promise<void> {
    if (from === to) return;
    const connection = await this.connections.show(connectionId);
    if (!connection) throw this.notPulled(connectionId);
    const domains = connection.settings.domains ?? [];
    if (!domains.length) return;
    const next = [...new Set(domains.map((d) => (d.toLowerCase() === from ? to : d)).concat(to))];
    if (JSON.stringify(next) !== JSON.stringify(domains)) await this.connections.configure(connectionId, { domains: next });
  }

  private notPulled(connectionId: string) {
    return fail('ROLLCALL_SOURCE_NOT_CONFIGURED', `connection '${connectionId}' is not pulled from a directory source (it is a SCIM or CSV import connection, or does not exist)`);
  }

  /** Everything a run needs, credentials opened. */
  async load(connectionId: string): Promise<LoadedSource> {
    const row = await store.getSource(this.db, connectionId);
    const connection = row && (await this.connections.show(connectionId));
    if (!row || !connection) throw this.notPulled(connectionId);
    return {
      ctx: requestContext(connection.id, connection, connection.scimUrl),
      connection,
      kind: row.kind,
      config: JSON.parse(row.config) as Record<string, unknown>,
      credentials: () => {
        try {
          return this.box.open(row.credentials, credentialsContext(connectionId));
        } catch (e) {
          if (!(e instanceof SecretKeyError)) throw e;
          throw fail(
            'ROLLCALL_SOURCE_CREDENTIALS_UNREADABLE',
            `the stored credentials of connection '${connectionId}' cannot be opened: ${e.message}. Start the server with the ROLLCALL_SECRET_KEY they were stored under, or upload the key file again (PATCH …/source with "key")`,
          );
        }
      },
      intervalMinutes: row.interval_minutes,
    };
  }

  /** Connections whose run is due now and not running anywhere. */
  due(limit = 10): Promise<string[]> {
    return store.dueSources(this.db, this.dialect, this.clock().toISOString(), limit);
  }

  /** Takes the lease for `holder` for `seconds` (by the database's clock); false when it is held (by anyone, `holder` too). */
  claim(connectionId: string, holder: string, seconds: number): Promise<boolean> {
    return store.claimLease(this.db, this.dialect, connectionId, holder, seconds);
  }

  /**
   * Renews the lease `holder` has for another `seconds`. Refused when it was given
   * back, expired or taken by another run (ROLLCALL_SOURCE_SYNC_RUNNING), and when
   * the connection was disabled or deleted or is no longer a `kind` source
   * (ROLLCALL_SOURCE_SYNC_CANCELLED): either way the run must stop.
   */
  async renew(connectionId: string, holder: string, kind: string, seconds: number): Promise<void> {
    if (await store.renewLease(this.db, this.dialect, connectionId, holder, kind, seconds)) return;
    const state = await store.sourceState(this.db, this.dialect, connectionId);
    const cancelled = cancellation(connectionId, kind, state);
    if (cancelled || !state) throw cancelled;
    const why = state.lease_holder === holder ? 'expired before it was renewed' : state.lease_holder ? 'was taken by another run' : 'was given back';
    throw fail('ROLLCALL_SOURCE_SYNC_RUNNING', `the sync lease of connection '${connectionId}' ${why}; this run stopped`);
  }

  /** Gives the lease up; the next run is due `intervalMinutes` from now. */
  release(connectionId: string, holder: string, intervalMinutes: number): Promise<void> {
    const next = new Date(this.clock().getTime() + intervalMinutes * 60_000).toISOString();
    return store.releaseLease(this.db, connectionId, holder, next);
  }

  /**
   * A new run's row. Called holding the lease, so a row still `running` belongs to
   * an instance that died mid-run (its lease expired): it is closed as failed first.
   */
  async startRun(connectionId: string, trigger: RunTrigger, id: string = randomUUID()): Promise<SourceRun> {
    await store.failAbandonedRuns(this.db, connectionId, this.clock().toISOString(), 'the instance running it stopped before it finished (its lease expired); what it finished stays');
    const row: SourceRunRow = {
      id,
      connection_id: connectionId,
      trigger,
      status: 'running',
      started_at: this.clock().toISOString(),
      finished_at: null,
      counts: JSON.stringify(emptyCounts()),
      errors: '[]',
      message: null,
    };
    await store.insertRun(this.db, row);
    return runView(row);
  }

  /** The run's counts and errors so far (the console shows them while it runs). */
  async progress(runId: string, counts: RunCounts, errors: RunError[]): Promise<void> {
    await store.updateRun(this.db, runId, { counts: JSON.stringify(counts), errors: JSON.stringify(errors.slice(0, ERRORS_KEPT)) });
  }

  async finishRun(runId: string, status: 'succeeded' | 'failed', counts: RunCounts, errors: RunError[], message: string | null): Promise<void> {
    await store.updateRun(this.db, runId, {
      status,
      finished_at: this.clock().toISOString(),
      counts: JSON.stringify(counts),
      errors: JSON.stringify(errors.slice(0, ERRORS_KEPT)),
      message,
    });
  }

  /** The connection's runs, newest first (at most 100). */
  async runs(connectionId: string, limit = 20): Promise<SourceRun[]> {
    if (!(await store.getSource(this.db, connectionId))) throw this.notPulled(connectionId);
    return (await store.listRuns(this.db, connectionId, Math.min(Math.max(limit, 1), 100))).map(runView);
  }

  /** One run of the connection, or undefined. */
  async run(connectionId: string, runId: string): Promise<SourceRun | undefined> {
    const row = await store.getRun(this.db, connectionId, runId);
    return row && runView(row);
  }

  /** The map rows of these source ids, by source id. */
  async objects(connectionId: string, kind: 'user' | 'group', sourceIds: string[]): Promise<Map<string, SourceObjectRow>> {
    const rows = await store.objectsBySourceId(this.db, connectionId, kind, sourceIds);
    return new Map(rows.map((r) => [r.source_id, r]));
  }

  /** Map rows of one kind and state, a page at a time in source id order. */
  objectsInState(connectionId: string, kind: 'user' | 'group', state: 'present' | 'absent' | 'deleted', after: string, limit: number): Promise<SourceObjectRow[]> {
    return store.objectsInState(this.db, connectionId, kind, state, after, limit);
  }

  /** Records what many source objects are here now (a page's worth, in a few statements). */
  saveObjects(connectionId: string, kind: 'user' | 'group', rows: { sourceId: string; localId: string; digest: string | null; state: 'present' | 'absent' | 'deleted' }[]): Promise<void> {
    return store.upsertObjects(
      this.db,
      rows.map((r) => ({ connection_id: connectionId, kind, source_id: r.sourceId, local_id: r.localId, digest: r.digest, state: r.state })),
    );
  }

  /** Records what a source object is here now. */
  saveObject(connectionId: string, kind: 'user' | 'group', sourceId: string, localId: string, digest: string | null, state: 'present' | 'absent' | 'deleted'): Promise<void> {
    return store.upsertObject(this.db, { connection_id: connectionId, kind, source_id: sourceId, local_id: localId, digest, state });
  }
}

/** The cancellation `state` (of sourceState) means for a run of a `kind` source, if any. */
function cancellation(connectionId: string, kind: string, state: Awaited<ReturnType<typeof store.sourceState>>): RollcallError | undefined {
  if (!state) return fail('ROLLCALL_SOURCE_SYNC_CANCELLED', `connection '${connectionId}' was deleted (or is no longer pulled from a directory) while its sync ran; the run stopped`);
  if (state.status !== 'active') return fail('ROLLCALL_SOURCE_SYNC_CANCELLED', `connection '${connectionId}' was disabled while its sync ran; the run stopped (what it finished stays)`);
  if (state.kind !== kind) return fail('ROLLCALL_SOURCE_SYNC_CANCELLED', `connection '${connectionId}' is no longer a ${kind} source; the run stopped`);
  return undefined;
}
