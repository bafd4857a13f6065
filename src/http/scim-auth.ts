/**
 * Bearer-token authentication for one connection's SCIM API. Resolves the
 * connection from the URL once per request and hands the request its own
 * RequestContext — never shared state.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BEARER_CHALLENGE, fail, retryAfter } from '../scim/errors.js';
import type { Rollcall } from '../rollcall.js';
import { type RequestContext, requestContext } from '../directory/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    scim: RequestContext | null;
  }
}

const UUIDISH = /^[A-Za-z0-9-]{1,64}$/;

/** `baseUrlOf` gives a connection's SCIM base URL (the plugin builds it from its mount path). */
export function registerScimAuth(app: FastifyInstance, rc: Rollcall, baseUrlOf: (connectionId: string) => string): void {
  app.decorateRequest('scim', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const connectionId = (req.params as { connectionId?: string }).connectionId ?? '';
    const header = req.headers.authorization;
    // Okta's "HTTP Header" mode sends the token alone, without the scheme: accepted
    // as a bearer token (one word; `Basic …` and other schemes stay refused).
    const match = typeof header === 'string' ? /^\s*(?:Bearer\s+)?([^\s:]+)\s*$/i.exec(header) : null;
    if (!match) throw fail('ROLLCALL_TOKEN_MISSING', 'Missing bearer token: send Authorization: Bearer <token>.', { ...BEARER_CHALLENGE });
    const grant = UUIDISH.test(connectionId) ? await rc.connections.authenticate(connectionId, match[1]) : undefined;
    // Same answer for an unknown connection and a wrong token: no probing for ids.
    if (!grant) throw fail('ROLLCALL_TOKEN_INVALID', 'The bearer token is not valid for this connection.', { ...BEARER_CHALLENGE });
    if (grant.disabled) throw fail('ROLLCALL_CONNECTION_DISABLED', 'This connection is disabled in Rollcall; an administrator can enable it again.');
    if (!grant.scimAllowed) {
      throw fail('ROLLCALL_SCIM_NOT_IN_PLAN', `Automatic provisioning (SCIM) is not included in this organisation's plan '${grant.plan}'; upgrade the plan to use it.`);
    }
    const rate = await rc.rateLimit.admit(connectionId);
    if (!rate.allowed) {
      throw fail(
        'ROLLCALL_RATE_LIMITED',
        `This connection may make ${rc.rateLimit.perMinute} requests a minute and has made them; try again in ${rate.retryAfterSeconds} s.`,
        retryAfter(rate.retryAfterSeconds),
      );
    }
    req.scim = requestContext(connectionId, grant, baseUrlOf(connectionId), req.provisioningId || undefined);
  });
}

/** The request's context; routes run only after the auth hook has set it. */
export function ctxOf(req: FastifyRequest): RequestContext {
  if (!req.scim) throw fail('ROLLCALL_TOKEN_MISSING', 'Not authenticated.', { ...BEARER_CHALLENGE });
  return req.scim;
}
