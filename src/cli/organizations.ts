/** `rollcall org …` and `rollcall import`: organisations, their plans, and CSV import into one. */
import type { Command } from 'commander';
import { readFileBytes } from './options.js';
import { print } from './output.js';
import { withRollcall } from './runtime.js';

export function registerOrganizationCommands(program: Command): void {
  const org = program.command('org').description('manage organisations (customers of the host application) and their plans');
  org
    .command('create')
    .description('create an organisation')
    .requiredOption('--name <name>', 'the organisation\'s name')
    .requiredOption('--plan <plan>', 'its plan; only SCIM plans (ROLLCALL_SCIM_PLANS, default enterprise) may use the SCIM API')
    .option('--json', 'print one JSON object')
    .action(async (opts: { name: string; plan: string; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const o = await rc.connections.createOrganization(opts.name, opts.plan);
        print(opts.json, o, `Organisation created: ${o.name} (${o.id}), plan ${o.plan}${o.scimAllowed ? '' : ' (no SCIM on this plan)'}`);
      });
    });
  org
    .command('set-plan')
    .description('change an organisation\'s plan (takes effect on the next SCIM request)')
    .argument('<id>', 'organisation id')
    .argument('<plan>', 'the new plan')
    .option('--json', 'print one JSON object')
    .action(async (id: string, plan: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const o = await rc.connections.setPlan(id, plan);
        print(opts.json, o, `${o.name} (${o.id}) is now on plan ${o.plan}${o.scimAllowed ? '' : ' (no SCIM on this plan)'}`);
      });
    });
  org
    .command('list')
    .description('list organisations')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const list = await rc.connections.listOrganizations();
        print(opts.json, list, list.length ? list.map((o) => `${o.id}  ${o.name}  ${o.plan}`).join('\n') : 'No organisations yet.');
      });
    });

  program
    .command('import')
    .description('import users from CSV (first name, last name, e-mail, gender, group, language) into an organisation without a SCIM connection')
    .argument('<orgId>', 'organisation id')
    .argument('<file>', 'CSV file with a header row')
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, file: string, opts: { json?: boolean }) => {
      const bytes = readFileBytes(file);
      await withRollcall(async (rc) => {
        const r = await rc.importCsv(orgId, bytes);
        const lines = [`Imported into organisation ${r.organizationId}: ${r.created} created, ${r.updated} updated, ${r.refused.length} refused.`];
        for (const x of r.refused) lines.push(`  line ${x.line} (${x.email || 'no e-mail'}): ${x.reason}`);
        print(opts.json, r, lines.join('\n'));
      });
    });
}
