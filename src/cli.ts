#!/usr/bin/env node
/**
 * `rollcall` command line: serve, connection create|list, token rotate.
 * Commands that change data work while the server runs on the same database.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, ConfigError, type Config } from './config.js';
import { createRollcall, type Rollcall } from './rollcall.js';
import { buildServer } from './http/server.js';

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
    return await createRollcall({ databaseUrl: cfg.databaseUrl, publicUrl: cfg.publicUrl });
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
  const addr = app.server.address();
  const where = typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  process.stdout.write(
    [
      `Rollcall SCIM server listening on ${where} (public URL ${cfg.publicUrl}, database ${cfg.databaseUrl})`,
      `Create a connection for an identity provider with:`,
      `  npx rollcall connection create --name "Acme Entra ID"`,
      `and paste the SCIM URL and token it prints into the IdP's provisioning settings.`,
      '',
    ].join('\n'),
  );
  // SQLite's advice for long-running processes: refresh planner statistics now and then.
  const optimizer = setInterval(() => rc.database.optimize(), 60_000);
  optimizer.unref();
  let closing = false;
  const stop = async (signal: string) => {
    if (closing) return;
    closing = true;
    clearInterval(optimizer);
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
  program.name('rollcall').description('Self-hosted SCIM 2.0 provisioning server').showHelpAfterError();

  program
    .command('serve')
    .description('start the SCIM server (PORT, HOST, DATABASE_URL, PUBLIC_URL from the environment)')
    .action(serve);

  const connection = program.command('connection').description('manage connections (one per customer IdP)');
  connection
    .command('create')
    .description('create a connection and print its SCIM URL and bearer token (shown only once)')
    .requiredOption('--name <name>', 'a name for the connection, e.g. the customer and IdP')
    .option('--json', 'print one JSON object')
    .action(async (opts: { name: string; json?: boolean }) => {
      if (!opts.name.trim()) throw new CliError('--name must not be empty');
      await withRollcall(async (rc) => {
        const c = await rc.connections.create(opts.name);
        print(
          !!opts.json,
          { id: c.id, name: c.name, scimUrl: c.scimUrl, token: c.token, workspace: c.workspace, createdAt: c.createdAt },
          [
            `Connection created: ${c.name} (${c.id})`,
            `  SCIM base URL: ${c.scimUrl}`,
            `  Bearer token:  ${c.token}`,
            `The token is shown only this once; rotate it with: rollcall token rotate ${c.id}`,
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
    const msg = e instanceof CliError ? e.message : `unexpected error: ${(e as Error)?.stack ?? e}`;
    process.stderr.write(`rollcall: ${msg}\n`);
    process.exit(1);
  }
}

void main();
