/**
 * Operator commands: `migrate` (the schema as a deploy step of its own),
 * `backup`/`restore` (SQLite), `export` (a connection as SCIM lines).
 */
import fs from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { backupDatabase, restoreDatabase } from '../rollcall.js';
import { fail } from '../scim/errors.js';
import { print, plural } from './output.js';
import { config, withRollcall } from './runtime.js';

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

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const counts = (rows: Record<string, number>) =>
  [plural(rows.users ?? 0, 'user', 'users'), plural(rows.groups ?? 0, 'group', 'groups'), plural(rows.connections ?? 0, 'connection', 'connections'), plural(rows.events ?? 0, 'event', 'events')].join(', ');

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .argument('<file>', 'the new backup file (never overwritten)')
    .description('write a consistent copy of the SQLite database while the server keeps serving (PostgreSQL: use pg_dump)')
    .option('--json', 'print one JSON object')
    .action((file: string, opts: { json?: boolean }) => {
      const r = backupDatabase(config().databaseUrl, file);
      print(opts.json, r, `Backup written: ${r.file} (${MiB(r.bytes)}; ${counts(r.rows)}; schema ${r.migrations.at(-1) ?? 'none'}) in ${r.ms} ms.\nIt holds every secret the server does (token hashes, webhook secrets): store it like one.`);
    });

  program
    .command('restore')
    .argument('<file>', 'a file written by rollcall backup')
    .description('replace the SQLite database by a backup, after checking it (stop the server first); the replaced file is kept beside it')
    .option('--json', 'print one JSON object')
    .action((file: string, opts: { json?: boolean }) => {
      const cfg = config();
      const r = restoreDatabase(cfg.databaseUrl, file);
      print(
        opts.json,
        r,
        [
          `Restored ${file} into ${r.file} (${counts(r.rows)}; schema ${r.migrations.at(-1) ?? 'none'}).`,
          r.kept ? `The replaced database is kept at ${r.kept}.` : 'There was no database to replace.',
          'Start the server: it applies any migrations the backup predates.',
        ].join('\n'),
      );
    });

  program
    .command('export')
    .argument('<connection-id>', 'the connection to export')
    .description("write a connection's users and groups as SCIM resources, one JSON document a line (streamed)")
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (connectionId: string, opts: { out?: string }) => {
      await withRollcall(async (rc) => {
        const out = opts.out ? fs.createWriteStream(opts.out, { flags: 'wx' }) : process.stdout;
        const n = { User: 0, Group: 0 };
        let created = false;
        try {
          if (opts.out) {
            await once(out, 'open');
            created = true;
          }
          for await (const r of rc.exportConnection(connectionId)) {
            n[r.resourceType]++;
            // Backpressure: at a million users the lines must not pile up in memory.
            if (!out.write(r.json + '\n')) await once(out, 'drain');
          }
        } catch (e) {
          if (opts.out) out.destroy();
          // A half-written export is removed; a file that was there before is not ours to touch.
          if (opts.out && created) fs.rmSync(opts.out, { force: true });
          if ((e as { code?: string }).code === 'EEXIST') throw fail('ROLLCALL_CLI_BAD_INPUT', `${opts.out} exists; export never overwrites a file`);
          throw e;
        }
        if (opts.out) {
          await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
          process.stderr.write(`Exported ${plural(n.User, 'user', 'users')} and ${plural(n.Group, 'group', 'groups')} to ${opts.out}.\n`);
        }
      });
    });
}
