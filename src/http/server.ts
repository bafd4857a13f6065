/**
 * The Fastify application: error handling for the whole server, and the SCIM API
 * as an encapsulated plugin under /scim/v2/:connectionId with its own auth hook.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { registerErrorHandling, sendScimError } from './errors.js';
import { ScimError } from '../scim/errors.js';
import { registerJsonBodies } from './body.js';
import { registerScimAuth } from './scim-auth.js';
import { registerDiscovery } from './scim-discovery.js';
import { registerResources } from './scim-resources.js';
import { adminPlugin } from './admin.js';

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
}

/** The SCIM API as a plugin, so a host application can mount it under its own prefix. */
export async function scimPlugin(app: FastifyInstance, opts: { rollcall: Rollcall }): Promise<void> {
  registerScimAuth(app, opts.rollcall);
  registerDiscovery(app);
  registerResources(app, opts.rollcall);
}

export async function buildServer(rc: Rollcall, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 10 * 1024 * 1024,
    // Entra ID has been seen calling /users; SCIM paths are case-insensitive in practice.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors raised by the router itself (a malformed or over-long URL) skip the
    // error handler; they are SCIM errors too.
    frameworkErrors: (error, req, reply) => {
      const status = typeof (error as { statusCode?: number }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 400;
      const detail =
        (error as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path segment of the URL is too long: no resource has such an id.'
          : `The URL cannot be understood: ${error.message}`;
      void sendScimError(reply, new ScimError(status, detail, status === 400 ? 'invalidSyntax' : undefined));
    },
  });
  registerErrorHandling(app);
  registerJsonBodies(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(scimPlugin, { prefix: '/scim/v2/:connectionId', rollcall: rc });
  await app.register(adminPlugin, { prefix: '/api/v1', rollcall: rc });
  return app;
}
