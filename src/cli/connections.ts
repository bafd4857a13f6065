/** `rollcall connection …` and `rollcall token rotate`: connections, their bearer tokens and OAuth client credentials. */
import type { Command } from 'commander';
import { fail } from '../scim/errors.js';
import { readJsonFile, nonNegativeInt, wholeDays } from './options.js';
import { print } from './output.js';
import { withRollcall } from './runtime.js';
import { isLoopbackUrl } from '../rollcall.js';

export function registerConnectionCommands(program: Command): void {
  const connection = program.command('connection').description('manage connections (one per customer IdP)');
  connection
    .command('create')
    .description('create a connection and print its SCIM URL and bearer token (shown only once)')
    .requiredOption('--name <name>', 'a name for the connection, e.g. the customer and IdP')
    .option('--org <id>', 'the organisation it belongs to (default: a new organisation on the SCIM plan)')
    .option('--workspace <name>', 'the workspace of the host application it provisions into', 'default')
    .option('--settings <file>', 'a JSON settings document (see README: Provisioning policies)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { name: string; org?: string; workspace: string; settings?: string; json?: boolean }) => {
      if (!opts.name.trim()) throw fail('ROLLCALL_CLI_BAD_INPUT', '--name must not be empty');
      const settings = opts.settings ? readJsonFile(opts.settings) : undefined;
      await withRollcall(async (rc) => {
        const c = await rc.connections.create({ name: opts.name, organizationId: opts.org, workspace: opts.workspace, settings });
        print(
          opts.json,
          {
            id: c.id,
            name: c.name,
            scimUrl: c.scimUrl,
            token: c.token,
            organizationId: c.organizationId,
            workspace: c.workspace,
            settings: c.settings,
            createdAt: c.createdAt,
          },
          [
            `Connection created: ${c.name} (${c.id})`,
            `  SCIM base URL: ${c.scimUrl}`,
            `  Bearer token:  ${c.token}`,
            `  Organisation:  ${c.organizationId}, workspace ${c.workspace}`,
            `The token is shown only this once; rotate it with: rollcall token rotate ${c.id}`,
          ].join('\n'),
        );
        // On stderr, so --json output stays one document.
        if (isLoopbackUrl(c.scimUrl)) {
          process.stderr.write(
            `warning: the SCIM URL is on a loopback address (${new URL(c.scimUrl).host}): an IdP in the cloud cannot reach it. Start the server with PUBLIC_URL set to its public https address.\n`,
          );
        }
      });
    });
  connection
    .command('configure')
    .description('merge a JSON settings document over a connection\'s settings')
    .argument('<id>', 'connection id')
    .requiredOption('--settings <file>', 'a JSON settings document; its top-level keys replace the current ones')
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { settings: string; json?: boolean }) => {
      const patch = readJsonFile(opts.settings);
      await withRollcall(async (rc) => {
        const c = await rc.connections.configure(id, patch);
        print(opts.json, { id: c.id, name: c.name, settings: c.settings }, `Settings of ${c.name} (${c.id}):\n${JSON.stringify(c.settings, null, 2)}`);
      });
    });
  connection
    .command('show')
    .description('show a connection with its organisation and settings')
    .argument('<id>', 'connection id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const c = await rc.connections.show(id);
        if (!c) throw fail('ROLLCALL_CLI_NOT_FOUND', `no connection with id '${id}'`);
        print(
          opts.json,
          c,
          [
            `${c.name} (${c.id}), ${c.kind}, ${c.status}`,
            `  SCIM base URL: ${c.scimUrl}`,
            `  Organisation:  ${c.organization ? `${c.organization.name} (${c.organization.id}), plan ${c.organization.plan}${c.organization.scimAllowed ? '' : ' — SCIM not included'}` : 'none'}`,
            `  Workspace:     ${c.workspace}`,
            `  Settings:      ${JSON.stringify(c.settings, null, 2).replace(/\n/g, '\n  ')}`,
          ].join('\n'),
        );
      });
    });
  connection
    .command('list')
    .description('list connections')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const list = await rc.connections.list();
        print(
          opts.json,
          list,
          list.length ? list.map((c) => `${c.id}  ${c.name}  ${c.scimUrl}`).join('\n') : 'No connections yet: rollcall connection create --name NAME',
        );
      });
    });

  const credentials = connection.command('credentials').description('OAuth 2.0 client credentials of a connection (Entra ID gallery apps use these)');
  credentials
    .command('create')
    .description('create a client secret and print the token URL, client id and secret (shown only once)')
    .argument('<id>', 'connection id')
    .option('--name <name>', 'what the secret is for, e.g. "Entra ID, 2027"')
    .option('--expires-in-days <days>', 'days until it expires: 365 to 1095', wholeDays, 730)
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { name?: string; expiresInDays: number; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const c = await rc.connections.createCredential(id, { name: opts.name, expiresInDays: opts.expiresInDays });
        print(
          opts.json,
          c,
          [
            `Client secret created for connection ${id}: ${c.name} (${c.secretId}), expires ${c.expiresAt}`,
            `  Tenant URL (SCIM):  ${c.scimUrl}`,
            `  Token endpoint:     ${c.tokenUrl}`,
            `  Client identifier:  ${c.clientId}`,
            `  Client secret:      ${c.clientSecret}`,
            `The secret is shown only this once. Access tokens from it last ${rc.connections.oauthTokenTtlSeconds} s; revoke it with: rollcall connection credentials revoke ${id} ${c.secretId}`,
          ].join('\n'),
        );
      });
    });
  credentials
    .command('list')
    .description("list a connection's client secrets (never the secrets themselves)")
    .argument('<id>', 'connection id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const secrets = await rc.connections.listCredentials(id);
        const tokenUrl = rc.connections.oauthTokenUrl();
        print(
          opts.json,
          { clientId: id, tokenUrl, secrets },
          [
            `Client id ${id}, token endpoint ${tokenUrl}`,
            ...(secrets.length
              ? secrets.map((s) => `  ${s.secretId}  ${s.status.padEnd(7)}  expires ${s.expiresAt}  last used ${s.lastUsedAt ?? 'never'}  ${s.name}`)
              : [`  no client secrets yet: rollcall connection credentials create ${id}`]),
          ].join('\n'),
        );
      });
    });
  credentials
    .command('revoke')
    .description('revoke a client secret; access tokens it obtained stop working at once')
    .argument('<id>', 'connection id')
    .argument('<secretId>', 'the secret id (from create or list)')
    .option('--json', 'print one JSON object')
    .action(async (id: string, secretId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        await rc.connections.revokeCredential(id, secretId);
        print(opts.json, { connectionId: id, secretId, revoked: true }, `Client secret ${secretId} of connection ${id} is revoked.`);
      });
    });

  const token = program.command('token').description('manage connection tokens');
  token
    .command('rotate')
    .description('issue a new bearer token for a connection')
    .argument('<id>', 'connection id')
    .option('--grace <seconds>', 'keep the previous token valid this long', nonNegativeInt, 0)
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { grace: number; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const r = await rc.connections.rotateToken(id, opts.grace);
        if (!r) throw fail('ROLLCALL_CLI_NOT_FOUND', `no connection with id '${id}'`);
        print(
          opts.json,
          { id: r.id, name: r.name, scimUrl: r.scimUrl, token: r.token, previousTokenValidUntil: r.previousValidUntil },
          [
            `New token for ${r.name} (${r.id}): ${r.token}`,
            `The previous token is valid until ${r.previousValidUntil}.`,
          ].join('\n'),
        );
      });
    });
}
