#!/usr/bin/env node
/**
 * `rollcall` command line: serve, org, connection, token, purge, import, webhook,
 * events, admin-token.
 * Commands that change data work while the server runs on the same database.
 */
import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { AdminError } from './directory/connections.js';
import { loadConfig, ConfigError, type Config } from './config.js';
import { createRollcall, type Rollcall } from './rollcall.js';
import { buildServer } from './http/server.js';
import { EventsError } from './events/errors.js';
import { EVENT_TYPES } from './events/types.js';
import { MAX_FEED_LIMIT } from './events/feed.js';

class CliError extends Error {}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`configuration error: ${e.message}`);
    throw e;
  }
}

/** Opens the database (running migrations); a failure is one line for the operator. */
async function open(cfg: Config): Promise<Rollcall> {
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
    throw new CliError((e as Error).message);
  }
}

async function withRollcall<T>(fn: (rc: Rollcall) => Promise<T>): Promise<T> {
  const rc = await open(config());
  try {
    return await fn(rc);
  } finally {
    await rc.close();
  }
}

function print(json: boolean, obj: unknown, text: string) {
  process.stdout.write(json ? JSON.stringify(obj) + '\n' : text + '\n');
}

/** Reads a JSON settings file; one clear line when it is missing or not JSON. */
function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read settings file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`settings file '${file}' is not valid JSON: ${(e as Error).message}`);
  }
}

function limitOption(max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return Number(v);
  };
}

function eventTypesOption(v: string): string[] {
  const types = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!types.length) throw new InvalidArgumentError('names no event type; leave --events out to receive every type');
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw new InvalidArgumentError(`unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${EVENT_TYPES.join(', ')}`);
  return types;
}

function nonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(v);
}

async function serve() {
  const cfg = config();
  const rc = await open(cfg);
  const app = await buildServer(rc, { logger: { level: cfg.logLevel }, bodyLimit: cfg.bodyLimit });
  try {
    await app.listen({ port: cfg.port, host: cfg.host });
  } catch (e) {
    await rc.close();
    throw new CliError(`cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}`);
  }
  rc.setLogger(app.log);
  // The admin key: from the environment, or generated on the first start and shown this once.
  let adminLine: string;
  try {
    const key = await rc.admin.ensure();
    adminLine =
      key.source === 'env'
        ? 'Admin API (/api/v1): key from ROLLCALL_ADMIN_TOKEN.'
        : key.token
          ? `Admin API key (shown only this once; only a hash is stored): ${key.token}`
          : 'Admin API (/api/v1): key generated on first start (new one: rollcall admin-token rotate).';
  } catch (e) {
    await app.close();
    await rc.close();
    throw new CliError(`cannot set up the admin API key: ${(e as Error).message}`);
  }
  rc.startDelivery();
  const addr = app.server.address();
  const where = typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  process.stdout.write(
    [
      `Rollcall SCIM server listening on ${where} (public URL ${cfg.publicUrl}, database ${cfg.databaseUrl})`,
      adminLine,
      `Create a connection for an identity provider with:`,
      `  npx rollcall connection create --name "Acme Entra ID"`,
      `and paste the SCIM URL and token it prints into the IdP's provisioning settings.`,
      '',
    ].join('\n'),
  );
  // SQLite's advice for long-running processes: refresh planner statistics now and then.
  const optimizer = setInterval(() => rc.database.optimize(), 60_000);
  optimizer.unref();
  // Retention: purge what has expired now and every hour (idempotent, so several
  // runs or processes doing it do no harm).
  const purge = () =>
    rc.purge().then(
      (r) => r.purged && app.log.info({ purged: r.purged }, 'purged users past their retention window'),
      (err) => app.log.error({ err }, 'purge failed'),
    );
  void purge();
  const purger = setInterval(purge, 60 * 60_000);
  purger.unref();
  let closing = false;
  const stop = async (signal: string) => {
    if (closing) return;
    closing = true;
    clearInterval(optimizer);
    clearInterval(purger);
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await rc.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

export function buildCli(): Command {
  const program = new Command();
  // Bad input is one line on stderr (scripts read it); `--help` shows the usage.
  program
    .name('rollcall')
    .description('Self-hosted SCIM 2.0 provisioning server')
    .configureOutput({ outputError: (text, write) => write(`rollcall: ${text.replace(/^error: /, '').trim()} (see --help)\n`) });

  program
    .command('serve')
    .description('start the SCIM server (PORT, HOST, DATABASE_URL, PUBLIC_URL from the environment)')
    .action(serve);

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
      if (!opts.name.trim()) throw new CliError('--name must not be empty');
      const settings = opts.settings ? readJsonFile(opts.settings) : undefined;
      await withRollcall(async (rc) => {
        const c = await rc.connections.create({ name: opts.name, organizationId: opts.org, workspace: opts.workspace, settings });
        print(
          !!opts.json,
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
        print(!!opts.json, { id: c.id, name: c.name, settings: c.settings }, `Settings of ${c.name} (${c.id}):\n${JSON.stringify(c.settings, null, 2)}`);
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
        if (!c) throw new CliError(`no connection with id '${id}'`);
        print(
          !!opts.json,
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
          !!opts.json,
          list,
          list.length ? list.map((c) => `${c.id}  ${c.name}  ${c.scimUrl}`).join('\n') : 'No connections yet: rollcall connection create --name NAME',
        );
      });
    });

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
        print(!!opts.json, o, `Organisation created: ${o.name} (${o.id}), plan ${o.plan}${o.scimAllowed ? '' : ' (no SCIM on this plan)'}`);
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
        print(!!opts.json, o, `${o.name} (${o.id}) is now on plan ${o.plan}${o.scimAllowed ? '' : ' (no SCIM on this plan)'}`);
      });
    });
  org
    .command('list')
    .description('list organisations')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const list = await rc.connections.listOrganizations();
        print(!!opts.json, list, list.length ? list.map((o) => `${o.id}  ${o.name}  ${o.plan}`).join('\n') : 'No organisations yet.');
      });
    });

  program
    .command('purge')
    .description('purge users deleted (or deactivated) longer ago than their connection\'s retentionDays')
    .option('--as-of <timestamp>', 'treat this ISO 8601 time as now (e.g. 2026-12-31T00:00:00Z)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { asOf?: string; json?: boolean }) => {
      let asOf: Date | undefined;
      if (opts.asOf !== undefined) {
        asOf = new Date(opts.asOf);
        if (!/^\d{4}-\d{2}-\d{2}/.test(opts.asOf) || Number.isNaN(asOf.getTime())) throw new CliError(`--as-of '${opts.asOf}' is not an ISO 8601 timestamp`);
      }
      await withRollcall(async (rc) => {
        const r = await rc.purge(asOf);
        const pruned = r.events ? `; pruned ${r.events.events} event${r.events.events === 1 ? '' : 's'} and ${r.events.deliveries} finished deliver${r.events.deliveries === 1 ? 'y' : 'ies'}` : '';
        print(!!opts.json, r, `Purged ${r.purged} user${r.purged === 1 ? '' : 's'}${pruned} (as of ${r.asOf}).`);
      });
    });

  program
    .command('import')
    .description('import users from CSV (first name, last name, e-mail, gender, group, language) into an organisation without a SCIM connection')
    .argument('<orgId>', 'organisation id')
    .argument('<file>', 'CSV file with a header row')
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, file: string, opts: { json?: boolean }) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      await withRollcall(async (rc) => {
        const r = await rc.importCsv(orgId, text);
        const lines = [`Imported into organisation ${r.organizationId}: ${r.created} created, ${r.updated} updated, ${r.refused.length} refused.`];
        for (const x of r.refused) lines.push(`  line ${x.line} (${x.email || 'no e-mail'}): ${x.reason}`);
        print(!!opts.json, r, lines.join('\n'));
      });
    });

  const webhook = program.command('webhook').description('manage webhook endpoints (per organisation; events are POSTed to them, signed)');
  webhook
    .command('add')
    .description('register an endpoint for an organisation\'s events; prints its id and signing secret (shown only once)')
    .argument('<orgId>', 'organisation id')
    .argument('<url>', 'http(s) URL the events are POSTed to')
    .option('--events <types>', `comma-separated event types (default: all), e.g. user.created,user.deactivated`, eventTypesOption)
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, url: string, opts: { events?: string[]; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const w = await rc.webhooks.add(orgId, { url, events: opts.events });
        print(
          !!opts.json,
          { id: w.id, url: w.url, events: w.events, secret: w.secret, organizationId: w.organizationId, createdAt: w.createdAt },
          [
            `Webhook added: ${w.id}`,
            `  URL:     ${w.url}`,
            `  Events:  ${w.events.length ? w.events.join(', ') : 'all'}`,
            `  Secret:  ${w.secret}`,
            `The secret is shown only this once; check each delivery's Rollcall-Signature header with it (README: Events and webhooks).`,
          ].join('\n'),
        );
      });
    });
  webhook
    .command('list')
    .description('list an organisation\'s endpoints (secrets are not shown)')
    .argument('<orgId>', 'organisation id')
    .option('--json', 'print a JSON array')
    .action(async (orgId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const list = await rc.webhooks.list(orgId);
        print(
          !!opts.json,
          list,
          list.length ? list.map((w) => `${w.id}  ${w.url}  ${w.events.length ? w.events.join(',') : 'all events'}`).join('\n') : `No webhooks for organisation ${orgId}.`,
        );
      });
    });
  webhook
    .command('remove')
    .description('remove an endpoint (its delivery record goes with it)')
    .argument('<id>', 'webhook id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        if (!(await rc.webhooks.remove(id))) throw new CliError(`no webhook with id '${id}'`);
        print(!!opts.json, { id, removed: true }, `Webhook ${id} removed.`);
      });
    });
  webhook
    .command('deliveries')
    .description('an endpoint\'s deliveries, newest event first: status, attempts, last answer')
    .argument('<id>', 'webhook id')
    .option('--status <status>', 'pending, delivered or failed')
    .option('--limit <n>', 'at most this many (1 to 1000, default 100)', limitOption(1000))
    .option('--json', 'print a JSON array')
    .action(async (id: string, opts: { status?: string; limit?: number; json?: boolean }) => {
      if (opts.status && !['pending', 'delivered', 'failed'].includes(opts.status)) throw new CliError(`--status must be pending, delivered or failed, not '${opts.status}'`);
      await withRollcall(async (rc) => {
        const list = await rc.webhooks.deliveries(id, { status: opts.status as 'pending' | undefined, limit: opts.limit });
        print(
          !!opts.json,
          list,
          list.length
            ? list
                .map(
                  (d) =>
                    `${d.sequence}  ${d.eventType}  ${d.eventId}  ${d.status}  attempts ${d.attempts}` +
                    (d.lastStatusCode !== null || d.lastError ? `  last: ${d.lastError ?? d.lastStatusCode}` : '') +
                    (d.nextAttemptAt ? `  next ${d.nextAttemptAt}` : ''),
                )
                .join('\n')
            : 'No deliveries.',
        );
      });
    });
  webhook
    .command('redeliver')
    .description('deliver an event to an endpoint again (with a fresh retry window)')
    .argument('<id>', 'webhook id')
    .argument('<eventId>', 'event id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, eventId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const d = await rc.webhooks.redeliver(id, eventId);
        print(!!opts.json, d, `Event ${eventId} queued for delivery to webhook ${id} (the running server sends it).`);
      });
    });

  program
    .command('events')
    .description('print stored events in commit order (the events feed)')
    .option('--after <cursor>', 'continue after this cursor (the `next` of a previous call)')
    .option('--limit <n>', `at most this many (1 to ${MAX_FEED_LIMIT}, default 100)`, limitOption(MAX_FEED_LIMIT))
    .option('--org <id>', 'only this organisation\'s events')
    .option('--json', 'print one JSON object {events, next}')
    .action(async (opts: { after?: string; limit?: number; org?: string; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const page = await rc.events.feed({ after: opts.after, limit: opts.limit, organizationId: opts.org });
        print(
          !!opts.json,
          page,
          [
            ...page.events.map((e) => `${e.occurredAt}  ${e.type}  org ${e.organizationId ?? '-'} #${e.sequence}  ${e.id}`),
            page.events.length ? `next: ${page.next}` : `No events after this cursor; next: ${page.next}`,
          ].join('\n'),
        );
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
      if (cfg.adminToken) throw new CliError('ROLLCALL_ADMIN_TOKEN is set: the admin key is the environment\'s; change it there');
      await withRollcall(async (rc) => {
        const token = await rc.admin.rotate();
        print(!!opts.json, { token }, `New admin API key (shown only this once): ${token}`);
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
        if (!r) throw new CliError(`no connection with id '${id}'`);
        print(
          !!opts.json,
          { id: r.id, name: r.name, scimUrl: r.scimUrl, token: r.token, previousTokenValidUntil: r.previousValidUntil },
          [
            `New token for ${r.name} (${r.id}): ${r.token}`,
            `The previous token is valid until ${r.previousValidUntil}.`,
          ].join('\n'),
        );
      });
    });
  return program;
}

async function main() {
  try {
    await buildCli().parseAsync(process.argv);
  } catch (e) {
    const msg = e instanceof CliError || e instanceof AdminError || e instanceof EventsError ? e.message : `unexpected error: ${(e as Error)?.stack ?? e}`;
    process.stderr.write(`rollcall: ${msg}\n`);
    process.exit(1);
  }
}

void main();
