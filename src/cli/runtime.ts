/** What every command needs: the configuration, an opened Rollcall, and closing it again. */
import { loadConfig, type Config } from '../config.js';
import { createRollcall, type Rollcall } from '../rollcall.js';
import { fail, isRollcallError } from '../scim/errors.js';

/** The configuration from the environment; a bad variable is one line for the operator. */
export function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (isRollcallError(e) && e.code === 'ROLLCALL_CONFIG_INVALID') throw fail('ROLLCALL_CONFIG_INVALID', `configuration error: ${e.message}`);
    throw e;
  }
}

/** Opens the database (running migrations); a failure is one line for the operator. */
export interface OpenOverrides {
  /** false: leave the schema alone (rollcall migrate). */
  migrate?: boolean;
  /** This process serves HTTP (rollcall serve; see RollcallOptions.serving). */
  serving?: boolean;
}

export async function open(cfg: Config, overrides: OpenOverrides = {}): Promise<Rollcall> {
  try {
    return await createRollcall({
      databaseUrl: cfg.databaseUrl,
      // Unset PUBLIC_URL: the one `serve` recorded, so printed SCIM URLs match the server's.
      publicUrl: cfg.publicUrlSet ? cfg.publicUrl : undefined,
      defaultPublicUrl: cfg.publicUrl,
      serving: overrides.serving,
      scimPlans: cfg.scimPlans,
      adminToken: cfg.adminToken,
      events: cfg.events,
      eventRetentionDays: cfg.eventRetentionDays,
      requestLog: cfg.requestLog,
      sessionHours: cfg.sessionHours,
      rateLimitPerMinute: cfg.rateLimitPerMinute,
      oauthTokenTtlSeconds: cfg.oauthTokenTtlSeconds,
      limits: cfg.limits,
      webhooks: cfg.webhooks,
      sources: { googleWorkspace: cfg.googleWorkspace },
      migrate: overrides.migrate ?? cfg.migrate,
    });
  } catch (e) {
    // A schema refusal keeps its own code: a deploy script tells them apart.
    if (isRollcallError(e) && ['ROLLCALL_SCHEMA_NEWER', 'ROLLCALL_MIGRATIONS_PENDING', 'ROLLCALL_MIGRATION_FAILED'].includes(e.code)) throw e;
    throw fail('ROLLCALL_CLI_CANNOT_OPEN_DATABASE', (e as Error).message);
  }
}

/** Runs one command against the configured database and closes it whatever happens. */
export async function withRollcall<T>(fn: (rc: Rollcall) => Promise<T>, overrides: OpenOverrides = {}): Promise<T> {
  const rc = await open(config(), overrides);
  try {
    return await fn(rc);
  } finally {
    await rc.close();
  }
}
