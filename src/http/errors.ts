/**
 * The one place errors become SCIM responses: every refusal is a SCIM error
 * document with its catalogue code; anything unexpected is logged with the request
 * id and answered as a generic 500 without internals. What Fastify and its router
 * refuse becomes a catalogue error here for both APIs (frameworkFailure, routerFailure),
 * and so does what Node's HTTP parser refuses before Fastify sees a request (clientFailure).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, type RollcallError, fail, isRollcallError, retryAfter } from '../scim/errors.js';

/** Codes for the 4xx statuses Fastify and Node raise themselves; any other is a 400. */
const FRAMEWORK_CODES: Record<number, ErrorCode> = { 404: 'ROLLCALL_ROUTE_NOT_FOUND', 413: 'ROLLCALL_BODY_TOO_LARGE', 414: 'ROLLCALL_URL_SEGMENT_TOO_LONG', 415: 'ROLLCALL_UNSUPPORTED_MEDIA_TYPE' };

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/**
 * A 4xx that Fastify or Node raised (a bad header, a body too large, …) as the
 * catalogue error of its status, with their message; undefined for anything else.
 * Both APIs use it; the SCIM API words some of them itself first (toScimError).
 */
export function frameworkFailure(err: unknown): RollcallError | undefined {
  const fe = err as FastifyError;
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return fail('ROLLCALL_EMPTY_BODY', fe.message);
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return fail(FRAMEWORK_CODES[fe.statusCode] ?? 'ROLLCALL_BAD_REQUEST', fe.message);
  }
  return undefined;
}

export function toScimError(err: FastifyError | Error, req: FastifyRequest): RollcallError {
  if (isRollcallError(err)) return err;
  switch ((err as FastifyError).code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return fail('ROLLCALL_BODY_TOO_LARGE', 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return fail(
        'ROLLCALL_UNSUPPORTED_MEDIA_TYPE',
        `Unsupported Content-Type '${req.headers['content-type'] ?? ''}'; send application/scim+json or application/json.`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return fail('ROLLCALL_EMPTY_BODY', 'The request body is empty; a JSON object is required.');
  }
  if (isTransientDatabaseError(err)) {
    // Nothing was written; IdPs retry a 503 (Entra ID and Okta both do).
    req.log.warn({ err }, 'database busy: answered 503');
    return fail('ROLLCALL_DATABASE_BUSY', 'The database is busy (lock conflict or timeout); nothing was changed. Retry the request.', retryAfter(1));
  }
  const framework = frameworkFailure(err);
  if (framework) return framework;
  req.log.error({ err }, 'unhandled error');
  return fail('ROLLCALL_INTERNAL', 'Internal server error; the request id is logged for the operator.');
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
const answered = new WeakMap<FastifyRequest, RollcallError>();

/** The SCIM error `req` was answered with, if it was refused. */
export function answeredError(req: FastifyRequest): RollcallError | undefined {
  return answered.get(req);
}

export function sendScimError(reply: FastifyReply, e: RollcallError): FastifyReply {
  answered.set(reply.request, e);
  if (e.headers) reply.headers(e.headers);
  return reply.status(e.status).type(SCIM_CONTENT_TYPE).send(e.toJSON());
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => sendScimError(reply, toScimError(err, req)));
  app.setNotFoundHandler((req, reply) =>
    sendScimError(reply, fail('ROLLCALL_ROUTE_NOT_FOUND', `No endpoint ${req.method} ${req.url.split('?')[0]}.`)),
  );
}

/**
 * What the router says about a URL it cannot route (malformed, or a segment over
 * maxParamLength); each API sends it in its own error shape (SCIM here, the admin
 * API in admin-errors.ts).
 */
export function routerFailure(error: FastifyError): RollcallError {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH' || error.statusCode === 414) {
    return fail('ROLLCALL_URL_SEGMENT_TOO_LONG', 'A path segment of the URL is too long: no resource has such an id.');
  }
  return fail('ROLLCALL_MALFORMED_URL', `The URL cannot be understood: ${error.message}`);
}

/**
 * What Node's HTTP parser refused (the 'clientError' event: no request object
 * exists yet): a header block over its limit, a timeout, or bytes that are no
 * HTTP request line or header.
 */
export function clientFailure(err: { code?: string }): RollcallError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return fail('ROLLCALL_HEADERS_TOO_LARGE', 'The request headers are larger than this server accepts.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return fail('ROLLCALL_REQUEST_TIMEOUT', 'The request was not received completely in time.');
    default:
      return fail('ROLLCALL_BAD_REQUEST', `The HTTP request cannot be read (${err.code ?? 'parse error'}): check the request line and headers.`);
  }
}

/**
 * The path of the first request line in the bytes the parser was given, to tell
 * which API the client meant; undefined when they do not start with one (a
 * header block split over several reads). Only the first 8 KiB are looked at.
 */
export function requestPath(raw: unknown): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  const head = raw.subarray(0, 8192).toString('latin1');
  const eol = head.indexOf('\n');
  const line = eol < 0 ? head : head.slice(0, eol);
  const sp = line.indexOf(' ');
  if (sp < 1) return undefined;
  const end = line.indexOf(' ', sp + 1);
  const target = line.slice(sp + 1, end < 0 ? undefined : end);
  if (!target.startsWith('/')) return undefined;
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** A whole HTTP/1.1 response, written straight to a socket; the connection closes after it. */
export function rawResponse(e: RollcallError, contentType: string, body: unknown): string {
  const text = JSON.stringify(body);
  const reason = STATUS_CODES[e.status] ?? 'Error';
  const extra = Object.entries(e.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`;
}
