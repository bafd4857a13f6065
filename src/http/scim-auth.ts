/**
 * Bearer-token authentication for one connection's SCIM API. Resolves the
 * connection from the URL once per request and hands the request its own
 * RequestContext — never shared state.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../scim/errors.js';
import type { Rollcall } from '../rollcall.js';
import { type RequestContext, requestContext } from '../directory/context.js';
import { scimUrl } from '../directory/connections.js';

declare module 'fastify' {
  interface FastifyRequest {
    scim: RequestContext | null;
  }
}

const UUIDISH = /^[A-Za-z0-9-]{1,64}$/;

/** `baseUrlOf` gives a connection's SCIM base URL (default: `<publicUrl>/scim/v2/<id>`; the embedded plugin passes its own mount path). */
export function registerScimAuth(app: FastifyInstance, rc: Rollcall, baseUrlOf: (connectionId: string) => string = (id) => scimUrl(rc.publicUrl, id)): void {
  app.decorateRequest('scim', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const connectionId = (req.params as { connectionId?: string }).connectionId ?? '';
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^\s*Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw errors.unauthorized('Missing bearer token: send Authorization: Bearer <token>.');
    const grant = UUIDISH.test(connectionId) ? await rc.connections.authenticate(connectionId, match[1]) : undefined;
    // Same answer for an unknown connection and a wrong token: no probing for ids.
    if (!grant) throw errors.unauthorized('The bearer token is not valid for this connection.');
    if (!grant.scimAllowed) {
      throw errors.forbidden(`Automatic provisioning (SCIM) is not included in this organisation's plan '${grant.plan}'; upgrade the plan to use it.`);
    }
    const rate = await rc.rateLimit.admit(connectionId);
    if (!rate.allowed) {
      throw errors.tooManyRequests(
        `This connection may make ${rc.rateLimit.perMinute} requests a minute and has made them; try again in ${rate.retryAfterSeconds} s.`,
        rate.retryAfterSeconds,
      );
    }
    req.scim = requestContext(connectionId, grant, baseUrlOf(connectionId));
  });
}

/** The request's context; routes run only after the auth hook has set it. */
export function ctxOf(req: FastifyRequest): RequestContext {
  if (!req.scim) throw errors.unauthorized('Not authenticated.');
  return req.scim;
}
