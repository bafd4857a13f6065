/**
 * `rollcall serve`: the SCIM server and admin API on PORT/HOST until SIGINT or
 * SIGTERM, which stop it gracefully: no new connections, in-flight requests and
 * webhook deliveries finish, the provisioning log's queue is written, the
 * database closed, exit 0. A second signal exits at once (1).
 */
import type { Command } from 'commander';
import { buildServer } from '../http/server.js';
import { fail } from '../scim/errors.js';
import { type Rollcall, isLoopbackUrl } from '../rollcall.js';
import { config, open } from './runtime.js';
import { versionLine } from '../build-info.js';

/** The admin key: from the environment, or generated on the first start and shown this once. */
async function adminKeyLine(rc: Rollcall): Promise<string> {
  const key = await rc.admin.ensure();
  if (key.source === 'env') return 'Admin API (/api/v1): key from ROLLCALL_ADMIN_TOKEN.';
  return key.token
    ? `Admin API key (shown only this once; only a hash is stored): ${key.token}`
    : 'Admin API (/api/v1): key generated on first start (new one: rollcall admin-token rotate).';
}

async function serve() {
  const cfg = config();
  const rc = await open(cfg, { serving: true });
  // Pretty lines for a person at a terminal, JSON lines for a log collector (LOG_FORMAT).
  const logger =
    cfg.logFormat === 'pretty'
      ? { level: cfg.logLevel, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, colorize: !process.env.NO_COLOR } } }
      : { level: cfg.logLevel };
  const app = await buildServer(rc, { logger, bodyLimit: cfg.bodyLimit, trustProxy: cfg.trustProxy, metricsToken: cfg.metricsToken, oauthFailuresPerMinute: cfg.oauthFailuresPerMinute });
  let closing = false;
  // A kept-alive connection (a load balancer's) would hold close() until its idle
  // timeout: once stopping, each answer closes its connection.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  try {
    await app.listen({ port: cfg.port, host: cfg.host });
  } catch (e) {
    await rc.close();
    throw fail('ROLLCALL_CLI_CANNOT_START', `cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}`);
  }
  rc.setLogger(app.log);
  const addr = app.server.address();
  let adminLine: string;
  try {
    // Told no PUBLIC_URL and on a loopback default: the port it really got (PORT=0 picks one).
    if (!cfg.publicUrlSet && isLoopbackUrl(rc.publicUrl) && typeof addr === 'object' && addr) {
      const u = new URL(rc.publicUrl);
      u.port = String(addr.port);
      await rc.recordPublicUrl(u.origin + u.pathname);
    } else {
      await rc.recordPublicUrl(rc.publicUrl);
    }
    adminLine = await adminKeyLine(rc);
  } catch (e) {
    await app.close();
    await rc.close();
    throw fail('ROLLCALL_CLI_CANNOT_START', `cannot record the public URL or set up the admin API key: ${(e as Error).message}`);
  }
  // On stop a delivery in flight may take its whole timeout; after it, it is aborted and stays pending.
  rc.startDelivery({ stopGraceMs: cfg.webhooks.timeoutMs });
  const where = typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  process.stdout.write(
    [
      `Rollcall ${versionLine()} SCIM server listening on ${where} (public URL ${rc.publicUrl}, database ${cfg.databaseUrl})`,
      adminLine,
      `Admin console: ${rc.publicUrl}/admin (sign in with the admin key; connect an organisation's Entra ID or Okta there)`,
      `Or create a connection for an identity provider with:`,
      `  npx rollcall connection create --name "Acme Entra ID"`,
      `and paste the SCIM URL and token it prints into the IdP's provisioning settings.`,
      '',
    ].join('\n'),
  );
  // Planner statistics and retention run inside rollcall; close() stops them.
  rc.startMaintenance();
  const stop = async (signal: string) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting without waiting for in-flight requests and deliveries');
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests and webhook deliveries');
    try {
      // Both at once: the worker claims no new deliveries while the last requests finish.
      await Promise.all([app.close(), rc.stopDelivery()]);
      // Then maintenance, the provisioning log's queue (written out) and the database.
      await rc.close();
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the SCIM server (PORT, HOST, DATABASE_URL, PUBLIC_URL from the environment)')
    .action(serve);
}
