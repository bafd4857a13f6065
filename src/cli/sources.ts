/** `rollcall source …`: connections pulled from a directory (Google Workspace): run a sync now, list the runs. */
import type { Command } from 'commander';
import type { SourceRun } from '../directory/sources.js';
import { limitOption } from './options.js';
import { print } from './output.js';
import { withRollcall } from './runtime.js';

function runLines(r: SourceRun): string {
  const c = r.counts;
  const lines = [
    `${r.status === 'succeeded' ? 'Sync succeeded' : r.status === 'failed' ? 'Sync failed' : 'Sync running'} (${r.id}, ${r.trigger}, started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''})`,
    `  users:  ${c.usersSeen} seen, ${c.usersCreated} created, ${c.usersUpdated} updated, ${c.usersUnchanged} unchanged, ${c.usersDeactivated} deactivated, ${c.usersDeleted} deleted`,
    `  groups: ${c.groupsSeen} seen, ${c.groupsCreated} created, ${c.groupsUpdated} updated, ${c.groupsDeleted} deleted`,
    `  ${c.errors} error(s), ${c.requests} request(s) to the source`,
  ];
  if (r.message) lines.push(`  stopped: ${r.message}`);
  for (const e of r.errors.slice(0, 20)) lines.push(`  ${e.kind} ${e.name}: ${e.code}: ${e.message}`);
  if (r.errors.length > 20) lines.push(`  … and ${c.errors - 20} more (rollcall source runs --json)`);
  return lines.join('\n');
}

export function registerSourceCommands(program: Command): void {
  const source = program.command('source').description('connections pulled from a directory (Google Workspace)');
  source
    .command('sync')
    .description("run the connection's sync now and print its result (exit code 1 when the run failed)")
    .argument('<id>', 'connection id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const run = await rc.sources.sync(id);
        print(opts.json, run, runLines(run));
        if (run.status === 'failed') process.exitCode = 1;
      });
    });
  source
    .command('runs')
    .description("the connection's last sync runs, newest first")
    .argument('<id>', 'connection id')
    .option('--limit <n>', 'how many (1 to 100)', limitOption(100), 10)
    .option('--json', 'print a JSON array')
    .action(async (id: string, opts: { limit: number; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const runs = await rc.sources.runs(id, opts.limit);
        print(opts.json, runs, runs.length ? runs.map(runLines).join('\n\n') : `No runs yet: rollcall source sync ${id}`);
      });
    });
}
