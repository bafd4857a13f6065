/** `rollcall migrate`: the schema as a deploy step of its own. */
import type { Command } from 'commander';
import { print, plural } from './output.js';
import { withRollcall } from './runtime.js';

export function registerOperationCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (under the same lock as serve); --status lists them instead')
    .option('--status', 'list applied, pending and unknown (newer) migrations; change nothing')
    .option('--json', 'print one JSON object')
    .action(async (opts: { status?: boolean; json?: boolean }) => {
      // Opened without migrating: this command is where they run, or are only listed.
      await withRollcall(
        async (rc) => {
          if (opts.status) {
            const s = await rc.database.migrationStatus();
            const lines = [
              ...s.applied.map((m) => `applied  ${m.name}  (${m.executedAt})`),
              ...s.pending.map((name) => `pending  ${name}`),
              ...s.unknown.map((name) => `unknown  ${name}  (from a newer Rollcall: this version will not start on this database)`),
              s.unknown.length
                ? 'The database is newer than this version of Rollcall: upgrade Rollcall, or restore a backup taken before the upgrade.'
                : s.pending.length
                  ? `${plural(s.pending.length, 'migration', 'migrations')} pending: run \`rollcall migrate\`.`
                  : 'The schema is up to date.',
            ];
            print(opts.json, s, lines.join('\n'));
            return;
          }
          const applied = await rc.database.migrate('apply');
          const text = applied.length ? `Applied ${plural(applied.length, 'migration', 'migrations')}: ${applied.join(', ')}.` : 'Nothing to apply: the schema is up to date.';
          print(opts.json, { applied }, text);
        },
        { migrate: false },
      );
    });
}
