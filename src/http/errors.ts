/**
 * The one place errors become HTTP responses: every refusal is a SCIM error
 * document; anything unexpected is logged with the request id and answered as a
 * generic 500 without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, ScimError, errors, fail, isScimError } from '../scim/errors.js';

/** Codes for the 4xx statuses Fastify and Node raise themselves; any other is a 400. */
const FRAMEWORK_CODES: Record<number, ErrorCode> = { 404: 'ROLLCALL_ROUTE_NOT_FOUND', 413: 'ROLLCALL_BODY_TOO_LARGE', 414: 'ROLLCALL_URL_SEGMENT_TOO_LONG', 415: 'ROLLCALL_UNSUPPORTED_MEDIA_TYPE' };

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function toScimError(err: FastifyError | Error, req: FastifyRequest): ScimError {
  if (isScimError(err)) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge('The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.unsupportedMediaType(
        `Unsupported Content-Type '${req.headers['content-type'] ?? ''}'; send application/scim+json or application/json.`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidSyntax('The request body is empty; a JSON object is required.');
  }
  if (isTransientDatabaseError(err)) {
    // Nothing was written; IdPs retry a 503 (Entra ID and Okta both do).
    req.log.warn({ err }, 'database busy: answered 503');
    return errors.serviceUnavailable('The database is busy (lock conflict or timeout); nothing was changed. Retry the request.', 1);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return fail(FRAMEWORK_CODES[fe.statusCode] ?? 'ROLLCALL_BAD_REQUEST', fe.message);
  }
  req.log.error({ err }, 'unhandled error');
  return errors.internal();
}

/**
 * PostgreSQL errors that say "try again", not "this is wrong": deadlock and
 * serialization failure (after the batcher's own retries), lock and statement
 * timeouts; SQLite's busy and locked (another process held the write lock too long).
 */
function isTransientDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '40P01' || code === '40001' || code === '55P03' || code === '57014' || code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** The error each request was answered with, for the request observer (http/scim-observe.ts). */
const answered = new WeakMap<FastifyRequest, ScimError>();

/** The SCIM error `req` was answered with, if it was refused. */
export function answeredError(req: FastifyRequest): ScimError | undefined {
  return answered.get(req);
}

export function sendScimError(reply: FastifyReply, e: ScimError): FastifyReply {
  answered.set(reply.request, e);
  if (e.headers) reply.headers(e.headers);
  return reply.status(e.status).type(SCIM_CONTENT_TYPE).send(e.toJSON());
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => sendScimError(reply, toScimError(err, req)));
  app.setNotFoundHandler((req, reply) =>
    sendScimError(reply, errors.notFound(`No endpoint ${req.method} ${req.url.split('?')[0]}.`)),
  );
}

/**
 * What the router says about a URL it cannot route (malformed, or a segment over
 * maxParamLength), as a status and a sentence; each API puts them in its own
 * error shape (SCIM here, the admin API in admin.ts).
 */
export function routerFailure(error: FastifyError): { status: number; detail: string } {
  const status = typeof error.statusCode === 'number' ? error.statusCode : 400;
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment of the URL is too long: no resource has such an id.' : `The URL cannot be understood: ${error.message}`;
  return { status, detail };
}
