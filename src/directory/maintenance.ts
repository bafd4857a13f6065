/**
 * The chores of a long-running server, on unref'd timers so they never keep a
 * process alive: planner statistics every minute (SQLite's advice for long-lived
 * connections) and retention now and every hour. Purging is idempotent, so
 * several instances doing it on one database do no harm.
 */
import type { Logger } from '../events/logger.js';
import type { PurgeReport } from './lifecycle.js';

export interface MaintenanceOptions {
  /** How often planner statistics are refreshed (default 60 s). */
  optimizeEveryMs?: number;
  /** How often expired users and events are purged (default 1 h; the first run is at once). */
  purgeEveryMs?: number;
}

export interface MaintenanceTasks {
  optimize(): void;
  purge(): Promise<PurgeReport>;
  log(): Logger;
}

export interface Maintenance {
  stop(): void;
}

export function startMaintenance(tasks: MaintenanceTasks, opts: MaintenanceOptions = {}): Maintenance {
  const optimize = () => {
    try {
      tasks.optimize();
    } catch (err) {
      tasks.log().error({ err }, 'optimize failed');
    }
  };
  const purge = () =>
    tasks.purge().then(
      (r) => {
        if (r.purged) tasks.log().info({ purged: r.purged }, 'purged users past their retention window');
      },
      (err) => tasks.log().error({ err }, 'purge failed'),
    );
  const optimizer = setInterval(optimize, opts.optimizeEveryMs ?? 60_000);
  const purger = setInterval(() => void purge(), opts.purgeEveryMs ?? 60 * 60_000);
  optimizer.unref();
  purger.unref();
  void purge();
  return {
    stop() {
      clearInterval(optimizer);
      clearInterval(purger);
    },
  };
}
