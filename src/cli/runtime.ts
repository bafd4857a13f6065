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
export async function open(cfg: Config): Promise<Rollcall> {
  try {
    return await createRollcall({
      databaseUrl: cfg.databaseUrl,
      publicUrl: cfg.publicUrl,
      scimPlans: cfg.scimPlans,
      adminToken: cfg.adminToken,
      events: cfg.events,
      eventRetentionDays: cfg.eventRetentionDays,
      rateLimitPerMinute: cfg.rateLimitPerMinute,
      webhooks: cfg.webhooks,
    });
  } catch (e) {
    throw fail('ROLLCALL_CLI_CANNOT_OPEN_DATABASE', (e as Error).message);
  }
}

/** Runs one command against the configured database and closes it whatever happens. */
export async function withRollcall<T>(fn: (rc: Rollcall) => Promise<T>): Promise<T> {
  const rc = await open(config());
  try {
    return await fn(rc);
  } finally {
    await rc.close();
  }
}
