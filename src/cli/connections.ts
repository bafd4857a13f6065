/** `rollcall connection …` and `rollcall token rotate`: connections, their bearer tokens and OAuth client credentials. */
import { type Command, InvalidArgumentError } from 'commander';
import { fail } from '../scim/errors.js';
import { readJsonFile, readTextFile, nonNegativeInt, wholeDays } from './options.js';
import { GOOGLE_SCOPES, GOOGLE_WORKSPACE } from '../sources/index.js';
import { print } from './output.js';
import { withRollcall } from './runtime.js';
import { isLoopbackUrl } from '../rollcall.js';

interface CreateOptions {
  name: string;
  org?: string;
  workspace: string;
  settings?: string;
  source?: string;
  key?: string;
  adminEmail?: string;
  domain?: string;
  orgUnit?: string[];
  group?: string[];
  interval: number;
  json?: boolean;
}

function minutesOption(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number of minutes');
  return Number(v);
}

/** `connection create --source google-workspace …`: the connection, its source and the delegation facts to enter at Google. */
async function createPulled(opts: CreateOptions, settings: unknown): Promise<void> {
  if (opts.source !== GOOGLE_WORKSPACE) throw fail('ROLLCALL_CLI_BAD_INPUT', `--source '${opts.source}' is not one Rollcall pulls from; known: ${GOOGLE_WORKSPACE}`);
  const missing = (['key', 'adminEmail', 'domain'] as const).filter((k) => !opts[k]);
  if (missing.length) throw fail('ROLLCALL_CLI_BAD_INPUT', `--source google-workspace needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`).join(', ')}`);
  const key = readTextFile(opts.key!, 'service account key file');
  await withRollcall(async (rc) => {
    const c = await rc.sources.createGoogleWorkspace({
      name: opts.name,
      organizationId: opts.org,
      workspace: opts.workspace,
      settings,
      key,
      adminEmail: opts.adminEmail!,
      domain: opts.domain!,
      orgUnits: opts.orgUnit,
      groups: opts.group,
      intervalMinutes: opts.interval,
    });
    const config = c.source.config as { clientId: string; clientEmail: string };
    print(
      opts.json,
      { id: c.id, name: c.name, kind: c.kind, organizationId: c.organizationId, workspace: c.workspace, settings: c.settings, source: c.source, createdAt: c.createdAt },
      [
        `Connection created: ${c.name} (${c.id}), pulled from Google Workspace`,
        `  Organisation:  ${c.organizationId}, workspace ${c.workspace}`,
        `  Service account: ${config.clientEmail}`,
        `  In the Google Admin console (Security → Access and data control → API controls → Domain-wide delegation), add`,
        `    client id ${config.clientId} with the scopes`,
        `    ${GOOGLE_SCOPES.join(',')}`,
        `The first (full) sync runs within a minute on a running server, or now with: rollcall source sync ${c.id}`,
      ].join('\n'),
    );
  });
}

export function registerConnectionCommands(program: Command): void {
  const connection = program.command('connection').description('manage connections (one per customer IdP)');
  connection
    .command('create')
    .description('create a connection and print its SCIM URL and bearer token (shown only once), or one pulled from Google Workspace (--source)')
    .requiredOption('--name <name>', 'a name for the connection, e.g. the customer and IdP')
    .option('--org <id>', 'the organisation it belongs to (default: a new organisation on the SCIM plan)')
    .option('--workspace <name>', 'the workspace of the host application it provisions into', 'default')
    .option('--settings <file>', 'a JSON settings document (see README: Provisioning policies)')
    .option('--source <kind>', 'pull users and groups from a directory instead of receiving SCIM: google-workspace')
    .option('--key <file>', 'google-workspace: the service account key file (JSON), stored encrypted under ROLLCALL_SECRET_KEY')
    .option('--admin-email <address>', 'google-workspace: the Workspace admin the service account acts as (domain-wide delegation)')
    .option('--domain <domain>', "google-workspace: the customer's primary domain (the default verifiedDomains)")
    .option('--org-unit <path...>', 'google-workspace: only users in these organisational units, e.g. /Sales (default: all)')
    .option('--group <address...>', 'google-workspace: only these groups, by e-mail address (default: all)')
    .option('--interval <minutes>', 'google-workspace: minutes between syncs, 5 to 1440', minutesOption, 40)
    .option('--json', 'print one JSON object')
    .action(async (opts: CreateOptions) => {
      if (!opts.name.trim()) throw fail('ROLLCALL_CLI_BAD_INPUT', '--name must not be empty');
      const settings = opts.settings ? readJsonFile(opts.settings) : undefined;
      if (opts.source !== undefined) return createPulled(opts, settings);
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
        const source = await rc.sources.show(id);
        const pulled = source
          ? [
              `  Pulled from:   ${source.kind}, ${JSON.stringify(source.config)}`,
              `  Schedule:      every ${source.intervalMinutes} minutes, next ${source.running ? 'running now' : (source.nextRunAt ?? 'not scheduled')}`,
              `  Last run:      ${source.lastRun ? `${source.lastRun.status} at ${source.lastRun.startedAt} (rollcall source runs ${c.id})` : 'none yet'}`,
            ]
          : [`  SCIM base URL: ${c.scimUrl}`];
        print(
          opts.json,
          source ? { ...c, source } : c,
          [
            `${c.name} (${c.id}), ${c.kind}, ${c.status}`,
            ...pulled,
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
