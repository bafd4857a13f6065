/**
 * Rollcall's SCIM API as a Fastify plugin, for a host application that runs its own
 * Fastify (the library exports it, through embed/fastify.ts) — and the one
 * registration path the standalone server uses too:
 *
 *   await app.register(rollcallScim, { rollcall, prefix: '/identity/scim/v2' });
 *
 * serves `/identity/scim/v2/:connectionId/Users`, `/Groups`, `/.search`,
 * `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`. Everything SCIM-specific is
 * encapsulated in the plugin's own context: its body parsing (application/scim+json
 * and application/json only), its error handler (every refusal a SCIM error document)
 * and its 404s (for URLs under the prefix). The host's other routes keep their own
 * parsers, error handler and 404 handler.
 *
 * Resource locations (`meta.location`, `$ref`s, the `Location` header) are
 * `publicUrl` + the plugin's full mount path (the host's own prefixes included) +
 * `/<connection id>`; see `scimBaseUrl` (directory/scim-url.ts).
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { registerErrorHandling, routerFailure, sendScimError, toScimError } from './errors.js';
import { registerJsonBodies } from './body.js';
import { registerScimAuth } from './scim-auth.js';
import { registerDiscovery } from './scim-discovery.js';
import { registerResources } from './scim-resources.js';
import { registerScimObserver } from './scim-observe.js';
import { normalizePrefix, scimBaseUrl } from '../directory/scim-url.js';

/** Largest SCIM request body by default (a group PUT with many members is large). */
/**
 * 1 MiB: the largest body an IdP sends is a PATCH naming the most members one
 * request may (1,000, about 80 KB); a larger limit only lets a client make the
 * server parse, check and log megabytes for nothing (ROLLCALL_BODY_LIMIT raises it).
 */
export const DEFAULT_SCIM_BODY_LIMIT = 1024 * 1024;

export interface RollcallScimOptions {
  /** The Rollcall instance whose directory the routes serve. */
  rollcall: Rollcall;
  /**
   * The external base URL of the host (scheme, host, port, and any path a proxy adds
   * before the routes), used with the mount path for `meta.location` and `$ref`s.
   * Default: `rollcall.publicUrl`.
   */
  publicUrl?: string;
  /** Largest SCIM request body in bytes (larger: SCIM 413). Default 10 MiB. */
  bodyLimit?: number;
}

/**
 * The router settings the SCIM API wants from the Fastify instance that serves it
 * (the standalone server and the Express adapter's instance use them). A host's own
 * Fastify keeps its settings; pass these (at least `caseSensitive: false`, since
 * Entra ID has been seen calling `/users`) when creating it if it can.
 */
export const SCIM_ROUTER_OPTIONS = { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 200 } as const;

/**
 * Errors raised by the router itself (a malformed or over-long URL) skip every error
 * handler; on an instance that serves only SCIM they are SCIM errors too.
 */
export const scimFrameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, _req, reply) => {
  void sendScimError(reply, routerFailure(error));
};

/** The per-connection routes (mounted under `/:connectionId`), with the bearer-token hook. */
async function connectionRoutes(app: FastifyInstance, opts: { rollcall: Rollcall; baseUrlOf: (connectionId: string) => string; bodyLimit: number }): Promise<void> {
  registerScimAuth(app, opts.rollcall, opts.baseUrlOf);
  registerDiscovery(app, { limits: opts.rollcall.limits, bodyLimit: opts.bodyLimit });
  registerResources(app, opts.rollcall);
}

/**
 * The SCIM API as an encapsulated Fastify plugin. Register it with a `prefix`
 * (default none: then give one, e.g. '/scim/v2'); the connection id is the next path
 * segment. Mounted at the root (no prefix) it leaves 404s to the host.
 */
export const rollcallScim: FastifyPluginAsync<RollcallScimOptions> = async (app, opts) => {
  const rc = opts?.rollcall;
  if (!rc || typeof rc.users?.list !== 'function') throw new TypeError('rollcallScim: the `rollcall` option (from createRollcall) is required');
  // The full path the host mounted this plugin at, its own prefixes included.
  const mount = normalizePrefix(app.prefix);
  const bodyLimit = opts.bodyLimit ?? DEFAULT_SCIM_BODY_LIMIT;
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimit;
  });
  registerJsonBodies(app);
  // Before the 404 handler is set, so that unknown URLs under the mount are observed too.
  registerScimObserver(app, rc.requestObserver, () => rc.requestLog?.newId() ?? '');
  if (mount) registerErrorHandling(app);
  else app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => sendScimError(reply, toScimError(err, req)));
  await app.register(connectionRoutes, {
    prefix: '/:connectionId',
    rollcall: rc,
    bodyLimit,
    baseUrlOf: (connectionId: string) => scimBaseUrl(opts.publicUrl ?? rc.publicUrl, mount, connectionId),
  });
};
