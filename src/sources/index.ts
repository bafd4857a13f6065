/**
 * Pulled connections as `rollcall.sources`: setting one up, running its sync now
 * (`rollcall source sync`) or on its schedule, one run per connection at a time
 * over all instances (a lease in the database, see store/sources.ts).
 */
import { randomUUID } from 'node:crypto';
import { fail, hasCode, isRollcallError } from '../scim/errors.js';
import type { Logger } from '../events/logger.js';
import type { ConnectionInfo, CreateConnectionOptions } from '../directory/connections.js';
import type { ConnectionSettings } from '../directory/settings.js';
import { type LoadedSource, type RunCounts, type RunError, type RunTrigger, type SourceInfo, type SourceRun, emptyCounts } from '../directory/sources.js';
import type { DirectorySource } from './source.js';
import { SyncRun, type SyncParts, type SyncTuning } from './sync.js';
import { GOOGLE_WORKSPACE, type GoogleClientOptions, type GoogleSetupInput, openGoogle, prepareGoogle, reconfigureGoogle } from './google-workspace/index.js';

export type { DirectorySource, SourceGroup, SourceUser } from './source.js';
export { GOOGLE_SCOPES, GOOGLE_WORKSPACE } from './google-workspace/index.js';

export interface SourcesOptions {
  /** How the Google clients reach Google, retry and page (tests point them at a local server). */
  googleWorkspace?: GoogleClientOptions;
  /** Seconds a run's lease holds without renewal (renewed after every page and group; default 600, longer than a request's retries can wait). */
  leaseSeconds?: number;
  /** How often a server looks for connections whose run is due (default 60 s). */
  checkEveryMs?: number;
  tuning?: SyncTuning;
}

/** Counts of sync runs in this process (for /metrics). */
export interface SourceStats {
  runs: number;
  failures: number;
  /** Users created, updated, deactivated or deleted by runs. */
  usersChanged: number;
  lastSuccessAt: number | null;
}

export interface CreateGoogleOptions extends CreateConnectionOptions, GoogleSetupInput {
  intervalMinutes?: number;
}

export class Sources {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopping = false;
  /** Aborted by stop(): a run's requests to its source and its retry waits end at once. */
  private readonly stopper = new AbortController();
  /** Runs this instance started in the background, awaited by stop(). */
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly parts: SyncParts,
    private readonly log: () => Logger,
    private readonly stats: SourceStats,
    private readonly opts: SourcesOptions = {},
  ) {}

  /**
   * A Google Workspace connection. Its settings default to the domain as
   * verifiedDomains and Google's user id (externalId) as the mapping key, so a
   * renamed address stays the same user. Its first (full) run is due at once.
   */
  async createGoogleWorkspace(o: CreateGoogleOptions): Promise<ConnectionInfo & { settings: ConnectionSettings; source: SourceInfo }> {
    const { config, credentials } = prepareGoogle(o);
    const given = (o.settings ?? {}) as Record<string, unknown>;
    const settings = { domains: [config.domain], mappingKey: 'externalId', ...given };
    const created = await this.parts.sources.create({ name: o.name, organizationId: o.organizationId, workspace: o.workspace, settings, kind: GOOGLE_WORKSPACE, config, credentials, intervalMinutes: o.intervalMinutes });
    if (this.timer) this.soon(created.id, 'setup');
    return created;
  }

  /**
   * New settings, a new key or interval for a Google Workspace connection. A new
   * `domain` also replaces the old one in the connection's verified domains.
   */
  async configureGoogleWorkspace(connectionId: string, change: Partial<GoogleSetupInput> & { intervalMinutes?: number }): Promise<SourceInfo> {
    const current = await this.parts.sources.show(connectionId);
    if (!current || current.kind !== GOOGLE_WORKSPACE) throw fail('ROLLCALL_SOURCE_NOT_CONFIGURED', `connection '${connectionId}' is not a Google Workspace connection`);
    const { key, intervalMinutes, ...rest } = change;
    let config = reconfigureGoogle(current.config, rest);
    let credentials: string | undefined;
    if (key !== undefined) {
      const prepared = prepareGoogle({ ...config, key });
      config = prepared.config;
      credentials = prepared.credentials;
    }
    const info = await this.parts.sources.configure(connectionId, { config, credentials, intervalMinutes });
    // The primary domain is among the verified domains (as at setup): a new one replaces the old there.
    const before = String(current.config.domain ?? '');
    if (config.domain !== before) await this.parts.sources.primaryDomainChanged(connectionId, before, config.domain);
    return info;
  }

  show(connectionId: string): Promise<SourceInfo | undefined> {
    return this.parts.sources.show(connectionId);
  }

  runs(connectionId: string, limit?: number): Promise<SourceRun[]> {
    return this.parts.sources.runs(connectionId, limit);
  }

  run(connectionId: string, runId: string): Promise<SourceRun | undefined> {
    return this.parts.sources.run(connectionId, runId);
  }

  private open(loaded: LoadedSource): DirectorySource {
    if (loaded.kind === GOOGLE_WORKSPACE) return openGoogle(loaded, this.opts.googleWorkspace ?? {}, this.stopper.signal);
    throw fail('ROLLCALL_SOURCE_NOT_CONFIGURED', `connection '${loaded.ctx.connectionId}' has a source of unknown kind '${loaded.kind}'`);
  }

  /**
   * Runs the connection's sync now and answers its result (a failed run is
   * answered, not thrown: its row says why). Another run holding the lease, here
   * or in another instance: ROLLCALL_SOURCE_SYNC_RUNNING.
   */
  async sync(connectionId: string, trigger: RunTrigger = 'manual'): Promise<SourceRun> {
    return (await this.begin(connectionId, trigger)).done;
  }

  /**
   * Starts a run and answers once it holds the lease and its row exists (the
   * admin API answers 202 with it); `done` settles with the finished run.
   */
  async begin(connectionId: string, trigger: RunTrigger = 'manual'): Promise<{ run: SourceRun; done: Promise<SourceRun> }> {
    const loaded = await this.parts.sources.load(connectionId);
    if (loaded.connection.status !== 'active') throw fail('ROLLCALL_CONNECTION_DISABLED', `connection '${connectionId}' is disabled; enable it to sync`);
    const runId = randomUUID();
    const lease = this.opts.leaseSeconds ?? 600;
    const sources = this.parts.sources;
    if (!(await sources.claim(connectionId, runId, lease))) {
      throw fail('ROLLCALL_SOURCE_SYNC_RUNNING', `connection '${connectionId}' is being synced by another run; try again when it has finished`);
    }
    this.stats.runs++;
    let run: SourceRun;
    try {
      run = await sources.startRun(connectionId, trigger, runId);
    } catch (e) {
      this.stats.failures++;
      await sources.release(connectionId, runId, loaded.intervalMinutes);
      throw e;
    }
    const done = this.execute(loaded, run, lease);
    this.track(done.catch(() => undefined));
    return { run, done };
  }

  private async execute(loaded: LoadedSource, started: SourceRun, lease: number): Promise<SourceRun> {
    const connectionId = loaded.ctx.connectionId;
    const runId = started.id;
    const sources = this.parts.sources;
    try {
      let message: string | null = null;
      let failure: unknown;
      let counts = emptyCounts();
      let errors: RunError[] = [];
      const startedMs = performance.now();
      try {
        const source = this.open(loaded);
        const renew = async () => {
          // Closing: the run ends here, as a failed run that keeps the pages it finished.
          if (this.stopping) throw shuttingDown();
          // Still ours (not given back, expired or taken), and the connection still an enabled source of this kind.
          await sources.renew(connectionId, runId, loaded.kind, lease);
        };
        const run = new SyncRun(this.parts, loaded.ctx, source, runId, renew, this.opts.tuning);
        ({ counts, errors } = run);
        try {
          await run.run();
        } finally {
          counts.requests = source.requests;
        }
      } catch (err) {
        // A write refused because the connection went away under the run (deleted, disabled) says so.
        failure = (!this.stopping && !hasCode(err, 'ROLLCALL_SOURCE_SYNC_CANCELLED') && (await sources.cancelled(connectionId, loaded.kind).catch(() => undefined))) || err;
        message = (failure as Error).message;
        this.log().error({ err: failure, cause: failure === err ? undefined : err, connectionId, runId }, 'source sync failed');
      }
      this.stats.usersChanged += counts.usersCreated + counts.usersUpdated + counts.usersDeactivated + counts.usersDeleted;
      if (message === null) this.stats.lastSuccessAt = Date.now();
      else this.stats.failures++;
      await sources.finishRun(runId, message === null ? 'succeeded' : 'failed', counts, errors, message);
      this.logRun(loaded, runId, performance.now() - startedMs, counts, errors, failure);
      // A deleted connection's runs went with it: the run as it ended, from memory.
      return (await sources.run(connectionId, runId)) ?? { ...started, status: message === null ? 'succeeded' : 'failed', finishedAt: new Date().toISOString(), counts, errors, message };
    } finally {
      await sources.release(connectionId, runId, loaded.intervalMinutes);
    }
  }

  /** The run as one entry of the provisioning log (its writes are entries of their own, see SyncRun.logged). */
  private logRun(loaded: LoadedSource, runId: string, durationMs: number, counts: RunCounts, errors: RunError[], failure: unknown): void {
    const log = this.parts.log;
    if (!log?.enabled) return;
    const path = `/sources/${loaded.kind}/runs/${runId}`;
    const failed = failure !== undefined;
    log.onRequest({
      method: 'SYNC',
      route: `/sources/${loaded.kind}/runs/:runId`,
      path,
      status: failed ? (isRollcallError(failure) ? failure.status : 500) : 200,
      durationMs,
      connectionId: loaded.ctx.connectionId,
      body: { counts, errors: errors.slice(0, 20) },
      userAgent: `Rollcall ${loaded.kind} sync`,
      requestId: runId,
      error: failed && isRollcallError(failure) ? { code: failure.code, scimType: failure.scimType, detail: failure.message } : undefined,
    });
  }

  /** Runs a sync in the background (the setup's full sync, a due one); a lease held elsewhere is no error. */
  private soon(connectionId: string, trigger: RunTrigger): void {
    this.track(
      this.sync(connectionId, trigger).catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'ROLLCALL_SOURCE_SYNC_RUNNING') this.log().error({ err, connectionId }, 'source sync could not start');
      }),
    );
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Looks for due connections and runs them one after another. */
  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const id of await this.parts.sources.due()) {
        if (this.stopping) break;
        const first = !(await this.parts.sources.show(id))?.lastRun;
        await this.sync(id, first ? 'setup' : 'schedule').catch((err: unknown) => {
          if ((err as { code?: string }).code !== 'ROLLCALL_SOURCE_SYNC_RUNNING') this.log().error({ err, connectionId: id }, 'scheduled source sync could not start');
        });
      }
    } catch (err) {
      this.log().error({ err }, 'looking for due source syncs failed');
    } finally {
      this.checking = false;
    }
  }

  /** Runs due syncs now and every `checkEveryMs` (a server calls it; a second call changes nothing). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.track(this.check()), this.opts.checkEveryMs ?? 60_000);
    this.timer.unref();
    this.track(this.check());
  }

  /** Stops the schedule and waits for the runs in this process, each of which stops after the page it is on. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    // A run waiting out a retry's backoff (up to a minute) or a slow answer stops now.
    this.stopper.abort(shuttingDown());
    await Promise.all([...this.background]);
  }
}

function shuttingDown(): Error {
  return new Error('the instance is shutting down; the run stopped after its last finished page');
}
