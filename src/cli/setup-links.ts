/** `rollcall setup-link create|list|revoke`: links an organisation's IT admin opens to set up SCIM in the console. */
import type { Command } from 'commander';
import { isLoopbackUrl } from '../rollcall.js';
import { print } from './output.js';
import { withRollcall } from './runtime.js';

export function registerSetupLinkCommands(program: Command): void {
  const link = program.command('setup-link').description("links that open the console's connection wizard for one organisation, without the admin key");
  link
    .command('create')
    .description('create a setup link (its URL is shown only now; send it to the organisation)')
    .argument('<orgId>', 'organisation id')
    .option('--expires <duration>', 'how long it works: 5m to 30d, e.g. 7d, 24h, 90m', '7d')
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, opts: { expires: string; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const l = await rc.console.createSetupLink(orgId, opts.expires, 'cli');
        const warn = isLoopbackUrl(l.url) ? '\nWarning: this URL is on a loopback address; set PUBLIC_URL (or start `rollcall serve` with it) so the organisation can open it.' : '';
        print(opts.json, l, `Setup link for organisation ${orgId} (${l.id}), valid until ${l.expiresAt}:\n  ${l.url}\nShown only this once.${warn}`);
      });
    });
  link
    .command('list')
    .description("list an organisation's setup links (never their secrets)")
    .argument('<orgId>', 'organisation id')
    .option('--json', 'print a JSON array')
    .action(async (orgId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const links = await rc.console.setupLinks(orgId);
        const lines = links.map((l) => `${l.id}  ${l.status.padEnd(7)}  until ${l.expiresAt}  used ${l.uses}×${l.lastUsedAt ? ` (last ${l.lastUsedAt})` : ''}`);
        print(opts.json, links, lines.length ? lines.join('\n') : 'No setup links.');
      });
    });
  link
    .command('revoke')
    .description('revoke a setup link and end the sessions it opened')
    .argument('<orgId>', 'organisation id')
    .argument('<linkId>', 'setup link id')
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, linkId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const l = await rc.console.revokeSetupLink(orgId, linkId, 'cli');
        print(opts.json, l, `Setup link ${l.id} revoked.`);
      });
    });
}
