/**
 * The standalone Fastify application: SCIM error handling and JSON bodies for the
 * whole server (health and readiness probes, metrics, 404s), and the SCIM API under /scim/v2/:connectionId
 * through the same encapsulated plugin a host application registers
 * (http/scim-plugin.ts, which embed/fastify.ts exports).
 */
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { SCIM_CONTENT_TYPE, answeredError, clientFailure, rawResponse, registerErrorHandling, requestPath } from './errors.js';
import { registerJsonBodies } from './body.js';
import { DEFAULT_SCIM_BODY_LIMIT, SCIM_ROUTER_OPTIONS, rollcallScim, scimFrameworkErrors } from './scim-plugin.js';
import { DEFAULT_SCIM_PREFIX } from '../directory/scim-url.js';
import { ADMIN_API_PREFIX, adminPlugin } from './admin.js';
import { type AdminErrorBody, sendAdminFrameworkError } from './admin-errors.js';
import { registerHealth } from './health.js';
import { registerMetrics } from './metrics.js';
import { registerConsole } from './console.js';
import { registerOpenApi } from './admin-openapi.js';
import { registerOAuthToken } from './oauth-token.js';

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /** Whose forwarded headers to believe (ROLLCALL_TRUST_PROXY; default none): the client address logs show. */
  trustProxy?: boolean | number | string[];
  /** ROLLCALL_METRICS_TOKEN: opens /metrics besides the admin key. */
  metricsToken?: string;
  /** ROLLCALL_OAUTH_FAILURES_PER_MINUTE: failed token requests per client id and per address (default 10). */
  oauthFailuresPerMinute?: number;
}

/** The SCIM API as a plugin a host application mounts under its own prefix (the same as `rollcallScim`). */
export const scimPlugin = rollcallScim;

export async function buildServer(rc: Rollcall, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_SCIM_BODY_LIMIT;
  const app = Fastify({
    logger: withoutPersonalData(opts.logger ?? false),
    logController: new RequestLogLines(),
    // A hop count is valid at runtime (Fastify docs) though not in every overload of its types.
    trustProxy: (opts.trustProxy ?? false) as boolean,
    bodyLimit,
    // Entra ID has been seen calling /users; SCIM paths are case-insensitive in practice.
    routerOptions: { ...SCIM_ROUTER_OPTIONS },
    // Errors raised by the router itself (a malformed or over-long URL) skip the
    // error handlers: answer them in the shape of the API the URL is under.
    frameworkErrors: (error, req, reply) =>
      isUnder(req.url, ADMIN_API_PREFIX) ? void sendAdminFrameworkError(error, reply) : scimFrameworkErrors(error, req, reply),
    // Node's parser refuses some requests before Fastify has one (431, a bad request
    // line): those get the error shape of the API the URL is under too.
    clientErrorHandler(err, socket) {
      answerClientError(this as unknown as FastifyInstance, err, socket);
    },
  });
  registerErrorHandling(app);
  registerJsonBodies(app);
  registerHealth(app, rc);
  registerMetrics(app, rc, { token: opts.metricsToken });
  await app.register(rollcallScim, { prefix: DEFAULT_SCIM_PREFIX, rollcall: rc, bodyLimit });
  await registerOAuthToken(app, rc, { failuresPerMinute: opts.oauthFailuresPerMinute });
  await registerOpenApi(app, ADMIN_API_PREFIX);
  await app.register(adminPlugin, { prefix: ADMIN_API_PREFIX, rollcall: rc });
  await registerConsole(app);
  return app;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One log line per request, when it is answered: method, route pattern, status,
 * duration, connection, request id (`reqId`, bound by Fastify), the provisioning
 * log's id and the catalogue code of a refusal. Never the URL: its query holds
 * SCIM filters (`userName eq "jane@example.com"`) and its path ids and names;
 * never a body. The provisioning log is where requests are kept, redacted.
 */
export class RequestLogLines extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = requestLine(request, reply);
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

function requestLine(req: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const route = req.routeOptions.url;
  const params = (req.params ?? {}) as Record<string, unknown>;
  // Only a UUID: the segment is the client's and could be anything, a name included.
  const id = params.connectionId ?? (route?.startsWith(`${ADMIN_API_PREFIX}/connections/:id`) ? params.id : undefined);
  return {
    method: req.method,
    route: route ?? '(no route)',
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    connectionId: typeof id === 'string' && UUID.test(id) ? id : undefined,
    provisioningId: (req as { provisioningId?: string }).provisioningId || undefined,
    code: answeredError(req)?.code,
    remoteAddress: req.ip,
  };
}

/**
 * Serializers for anything else that logs a request or an error: the route
 * pattern, never the URL; an error's type, message, code and stack, never the
 * fields a database adds (PostgreSQL's `detail` quotes the conflicting values).
 */
export function withoutPersonalData(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger || typeof logger !== 'object' || 'child' in logger) return logger;
  return {
    ...logger,
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, route: req.routeOptions?.url ?? '(no route)', remoteAddress: req.ip }),
      err: (err: Error & { code?: unknown; constraint?: unknown }) => ({
        type: err?.constructor?.name ?? typeof err,
        message: err?.message,
        code: err?.code,
        constraint: err?.constraint,
        stack: err?.stack,
      }),
      ...(logger as { serializers?: Record<string, unknown> }).serializers,
    },
  } as FastifyServerOptions['logger'];
}

/**
 * Answers what Node's HTTP parser refused, on the raw socket as Node itself would
 * (only when no response of this connection has started), in the admin API's
 * shape under its prefix and SCIM's everywhere else, then closes the connection.
 */
function answerClientError(app: FastifyInstance, err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = clientFailure(err);
  const path = requestPath(err.rawPacket);
  const admin = path !== undefined && isUnder(path, ADMIN_API_PREFIX);
  // The code and status only: the bytes are the client's and may hold anything.
  app.log.info({ status: e.status, code: e.code, parserCode: err.code, api: admin ? 'admin' : 'scim' }, 'request refused before routing');
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const adminBody: AdminErrorBody = { error: { status: e.status, code: e.code, message: e.message } };
    socket.write(admin ? rawResponse(e, 'application/json; charset=utf-8', adminBody) : rawResponse(e, SCIM_CONTENT_TYPE, e.toJSON()));
  }
  socket.destroy(err);
}

/** True when `url` is `prefix` or below it (case-insensitive, as the router matches). */
function isUnder(url: string, prefix: string): boolean {
  const head = url.slice(0, prefix.length + 1).toLowerCase();
  return head === prefix || head === prefix + '/' || head === prefix + '?';
}
