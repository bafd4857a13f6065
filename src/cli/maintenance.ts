/** `rollcall purge` and `rollcall admin-token rotate`: operator chores. */
import type { Command } from 'commander';
import { fail } from '../scim/errors.js';
import { print, plural } from './output.js';
import { config, withRollcall } from './runtime.js';

export function registerMaintenanceCommands(program: Command): void {
  program
    .command('purge')
    .description('purge users deleted (or deactivated) longer ago than their connection\'s retentionDays')
    .option('--as-of <timestamp>', 'treat this ISO 8601 time as now (e.g. 2026-12-31T00:00:00Z)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { asOf?: string; json?: boolean }) => {
      let asOf: Date | undefined;
      if (opts.asOf !== undefined) {
        asOf = new Date(opts.asOf);
        if (!/^\d{4}-\d{2}-\d{2}/.test(opts.asOf) || Number.isNaN(asOf.getTime())) throw fail('ROLLCALL_CLI_BAD_INPUT', `--as-of '${opts.asOf}' is not an ISO 8601 timestamp`);
      }
      await withRollcall(async (rc) => {
        const r = await rc.purge(asOf);
        const pruned = r.events ? `; pruned ${plural(r.events.events, 'event', 'events')} and ${plural(r.events.deliveries, 'finished delivery', 'finished deliveries')}` : '';
        const requests = r.requests ? `; pruned ${plural(r.requests, 'logged request', 'logged requests')}` : '';
        print(opts.json, r, `Purged ${plural(r.purged, 'user', 'users')}${pruned}${requests} (as of ${r.asOf}).`);
      });
    });

  program
    .command('admin-token')
    .description('the admin API key')
    .command('rotate')
    .description('replace the generated admin API key and print the new one (the old one stops working)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const cfg = config();
      if (cfg.adminToken) throw fail('ROLLCALL_ADMIN_KEY_FROM_ENV', 'ROLLCALL_ADMIN_TOKEN is set: the admin key is the environment\'s; change it there');
      await withRollcall(async (rc) => {
        const token = await rc.admin.rotate();
        print(opts.json, { token }, `New admin API key (shown only this once): ${token}`);
      });
    });
}
