/**
 * The JSON admin API under /api/v1, the console's only back end: organisations
 * and their connections, users, groups, the provisioning log, setup links and
 * the audit trail, webhooks and the events feed. Authentication and what each
 * caller may see: admin-access.ts; input schemas: admin-input.ts; every error in
 * the shape of admin-errors.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { fail } from '../scim/errors.js';
import { sendAdminError, toAdminError } from './admin-errors.js';
import { accessGuard, registerAdminAccess } from './admin-access.js';
import { registerDirectoryRoutes } from './admin-directory.js';
import { registerSetupLinkRoutes } from './admin-setup-links.js';
import { registerEventRoutes } from './admin-events.js';

/** The error body every admin API refusal has (re-exported for the library's entry). */
export type { AdminErrorBody } from './admin-errors.js';

export interface AdminPluginOptions {
  rollcall: Rollcall;
}

/** Where the standalone server mounts the admin API. */
export const ADMIN_API_PREFIX = '/api/v1';

/** The admin API as a Fastify plugin; register it with prefix ADMIN_API_PREFIX. */
export async function adminPlugin(app: FastifyInstance, opts: AdminPluginOptions): Promise<void> {
  const rc = opts.rollcall;
  // Route schemas are for the OpenAPI document (admin-openapi.ts); zod validates in the handlers.
  app.setValidatorCompiler(() => () => true);
  app.setErrorHandler((err, req, reply) => sendAdminError(reply, toAdminError(err, req)));
  app.setNotFoundHandler((req, reply) => sendAdminError(reply, fail('ROLLCALL_ROUTE_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`)));
  await registerAdminAccess(app, rc);
  const guard = accessGuard(rc);
  registerDirectoryRoutes(app, rc, guard);
  registerSetupLinkRoutes(app, rc, guard);
  await app.register(async (events) => registerEventRoutes(events, rc, guard));
}
