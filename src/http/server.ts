/**
 * The standalone Fastify application: SCIM error handling and JSON bodies for the
 * whole server (health and readiness probes, metrics, 404s), and the SCIM API under /scim/v2/:connectionId
 * through the same encapsulated plugin a host application registers
 * (http/scim-plugin.ts, which embed/fastify.ts exports).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { registerErrorHandling } from './errors.js';
import { registerJsonBodies } from './body.js';
import { DEFAULT_SCIM_BODY_LIMIT, SCIM_ROUTER_OPTIONS, rollcallScim, scimFrameworkErrors } from './scim-plugin.js';
import { DEFAULT_SCIM_PREFIX } from '../directory/scim-url.js';
import { ADMIN_API_PREFIX, adminPlugin } from './admin.js';
import { sendAdminFrameworkError } from './admin-errors.js';
import { registerHealth } from './health.js';
import { registerMetrics } from './metrics.js';
import { registerConsole } from './console.js';
import { registerOpenApi } from './admin-openapi.js';

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /** Whose forwarded headers to believe (ROLLCALL_TRUST_PROXY; default none): the client address logs show. */
  trustProxy?: boolean | number | string[];
  /** ROLLCALL_METRICS_TOKEN: opens /metrics besides the admin key. */
  metricsToken?: string;
}

/** The SCIM API as a plugin a host application mounts under its own prefix (the same as `rollcallScim`). */
export const scimPlugin = rollcallScim;

export async function buildServer(rc: Rollcall, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_SCIM_BODY_LIMIT;
  const app = Fastify({
    logger: withoutPersonalData(opts.logger ?? false),
    // A hop count is valid at runtime (Fastify docs) though not in every overload of its types.
    trustProxy: (opts.trustProxy ?? false) as boolean,
    bodyLimit,
    // Entra ID has been seen calling /users; SCIM paths are case-insensitive in practice.
    routerOptions: { ...SCIM_ROUTER_OPTIONS },
    // Errors raised by the router itself (a malformed or over-long URL) skip the
    // error handlers: answer them in the shape of the API the URL is under.
    frameworkErrors: (error, req, reply) =>
      isUnder(req.url, ADMIN_API_PREFIX) ? void sendAdminFrameworkError(error, reply) : scimFrameworkErrors(error, req, reply),
  });
  registerErrorHandling(app);
  registerJsonBodies(app);
  registerHealth(app, rc);
  registerMetrics(app, rc, { token: opts.metricsToken });
  await app.register(rollcallScim, { prefix: DEFAULT_SCIM_PREFIX, rollcall: rc, bodyLimit });
  await registerOpenApi(app, ADMIN_API_PREFIX);
  await app.register(adminPlugin, { prefix: ADMIN_API_PREFIX, rollcall: rc });
  await registerConsole(app);
  return app;
}

/**
 * Request log lines name the method and path, never the query: a SCIM filter
 * (`userName eq "jane@example.com"`) is personal data. Bodies are never logged.
 */
export function withoutPersonalData(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger || typeof logger !== 'object' || 'child' in logger) return logger;
  return {
    ...logger,
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, path: req.url.split('?')[0], remoteAddress: req.ip }),
      ...(logger as { serializers?: Record<string, unknown> }).serializers,
    },
  } as FastifyServerOptions['logger'];
}

/** True when `url` is `prefix` or below it (case-insensitive, as the router matches). */
function isUnder(url: string, prefix: string): boolean {
  const head = url.slice(0, prefix.length + 1).toLowerCase();
  return head === prefix || head === prefix + '/' || head === prefix + '?';
}
