/**
 * Reports each SCIM request to the Rollcall's request observer once its answer is
 * sent (directory/observer.ts describes what is reported).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ObservedRequest, RequestObserver } from '../directory/observer.js';
import { answeredError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The provisioning log's id of this SCIM request, taken on arrival (empty before). */
    provisioningId: string;
  }
}

const RESOURCE_ROUTES: ReadonlyArray<[RegExp, 'User' | 'Group']> = [
  [/\/Users(\/|$)/, 'User'],
  [/\/Groups(\/|$)/, 'Group'],
];

/** What `req` and its answer `reply` say about the request, as the observer is told it. */
export function observedRequest(req: FastifyRequest, reply: FastifyReply): ObservedRequest {
  const route = req.routeOptions.url ?? '';
  const error = answeredError(req);
  const userAgent = req.headers['user-agent'];
  return {
    method: req.method,
    route,
    path: req.url.split('?')[0],
    url: req.url,
    status: reply.statusCode,
    durationMs: reply.elapsedTime,
    connectionId: req.scim?.connectionId,
    urlConnectionId: urlConnectionId(req),
    body: req.method === 'GET' || req.method === 'DELETE' ? undefined : req.body,
    resourceType: RESOURCE_ROUTES.find(([pattern]) => pattern.test(route))?.[1],
    resourceId: resourceIdOf(req, reply),
    error: error && { code: error.code, scimType: error.scimType, detail: error.detail },
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    requestId: req.id,
    logId: req.provisioningId || undefined,
  };
}

function urlConnectionId(req: FastifyRequest): string | undefined {
  const id = (req.params as { connectionId?: unknown } | undefined)?.connectionId;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : undefined;
}

/** The id in the URL, or for a create the one its Location names. */
function resourceIdOf(req: FastifyRequest, reply: FastifyReply): string | undefined {
  const id = (req.params as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string') return id;
  const location = reply.getHeader('location');
  return reply.statusCode === 201 && typeof location === 'string' ? decodeURIComponent(location.slice(location.lastIndexOf('/') + 1)) : undefined;
}

/** Gives each request its provisioning log id on arrival; calls `observer` once per request the routes of `app` (and its 404 handler) answer. */
export function registerScimObserver(app: FastifyInstance, observer: RequestObserver, newId: () => string): void {
  // One time-ordered id per request, before authentication: a refused request has one too.
  app.decorateRequest('provisioningId', '');
  app.addHook('onRequest', async (req) => {
    req.provisioningId = newId();
  });
  app.addHook('onResponse', async (req, reply) => {
    observer.onRequest(observedRequest(req, reply));
  });
}
