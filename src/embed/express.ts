/**
 * A thin Express (or Connect, or plain node:http) adapter for Rollcall's SCIM API:
 *
 *   app.use(rollcallExpress(rollcall, { prefix: '/scim/v2' }));
 *
 * Requests whose path is under `prefix` are handed to an internal Fastify instance
 * that serves the SCIM plugin (the same routes, parsing and errors as the standalone
 * server); every other request goes on to `next()`. No dependency on Express: the
 * middleware takes plain node request/response objects.
 *
 * `prefix` is the path from the server root, as clients see it. Mount the middleware
 * without a path (`app.use(middleware)`); under a path (`app.use('/identity', …)`) the
 * prefix must still include it ('/identity/scim/v2'), since the original URL is matched.
 *
 * Bodies: when nothing has read the request yet, Fastify reads and parses it itself.
 * When an earlier body parser (`express.json()`, `express.text()`, `express.raw()`)
 * has already consumed the stream, its result (`req.body`) is replayed to Fastify.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { SCIM_ROUTER_OPTIONS, type RollcallScimOptions, rollcallScim, scimFrameworkErrors } from './fastify.js';
import { DEFAULT_SCIM_PREFIX, normalizePrefix, scimBaseUrl } from '../directory/scim-url.js';

export interface RollcallExpressOptions extends Omit<RollcallScimOptions, 'rollcall'> {
  /** The path the SCIM API answers under, from the server root (default '/scim/v2'). */
  prefix?: string;
  /** The internal Fastify instance's logger (default: off). */
  logger?: FastifyServerOptions['logger'];
}

/** What `next` receives: nothing to go on, an error to hand to the host's error handler. */
export type NextFunction = (err?: unknown) => void;

export interface RollcallMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void;
  /** The normalised prefix this middleware answers under. */
  readonly prefix: string;
  /** The internal Fastify instance serving the SCIM routes. */
  readonly fastify: FastifyInstance;
  /** A connection's SCIM base URL (public URL + prefix + id), to give to the IdP. */
  scimUrl(connectionId: string): string;
  /** Resolves when the internal instance is ready (the first request waits for it anyway). */
  ready(): Promise<void>;
  /** Closes the internal Fastify instance (not the Rollcall instance). */
  close(): Promise<void>;
}

type HostRequest = IncomingMessage & { originalUrl?: string; body?: unknown; _body?: boolean };

/** Headers that describe the original byte stream, not the body replayed to Fastify. */
const STREAM_HEADERS = new Set(['content-length', 'transfer-encoding', 'content-encoding']);
/** Hop-by-hop headers of the injected response, which node sets itself. */
const HOP_HEADERS = new Set(['connection', 'transfer-encoding', 'keep-alive']);

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** True when an earlier middleware has already read the request body. */
function bodyConsumed(req: HostRequest): boolean {
  // body-parser (express.json() and friends) sets `_body`; any reader leaves the stream ended.
  return req._body === true || req.readableEnded;
}

/** The body an earlier parser left, as bytes for Fastify to parse again. */
function replayPayload(req: HostRequest): string | Buffer | undefined {
  const body = req.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  // An object from express.json(): the same JSON, re-serialised (key order kept).
  return JSON.stringify(body);
}

export function rollcallExpress(rollcall: Rollcall, opts: RollcallExpressOptions = {}): RollcallMiddleware {
  if (!rollcall || typeof rollcall.users?.list !== 'function') throw new TypeError('rollcallExpress: pass the Rollcall instance (from createRollcall) as the first argument');
  const prefix = normalizePrefix(opts.prefix ?? DEFAULT_SCIM_PREFIX);
  if (!prefix) throw new TypeError("rollcallExpress: the prefix must not be the root; use e.g. '/scim/v2'");
  const publicUrl = opts.publicUrl ?? rollcall.publicUrl;
  const prefixLc = prefix.toLowerCase();

  const fastify = Fastify({
    logger: opts.logger ?? false,
    routerOptions: { ...SCIM_ROUTER_OPTIONS },
    frameworkErrors: scimFrameworkErrors,
  });
  void fastify.register(rollcallScim, { prefix, rollcall, publicUrl, bodyLimit: opts.bodyLimit });
  let readying: Promise<void> | undefined;
  const ready = (): Promise<void> =>
    (readying ??= (async () => {
      await fastify.ready();
    })());

  // Case-insensitive, like the router behind it: Entra ID has been seen calling /users.
  const matches = (url: string): boolean => {
    const p = pathOf(url).toLowerCase();
    return p === prefixLc || p.startsWith(prefixLc + '/');
  };

  async function dispatch(req: HostRequest, res: ServerResponse): Promise<void> {
    await ready();
    const url = req.originalUrl ?? req.url ?? '/';
    if (!bodyConsumed(req)) {
      // Fastify reads and parses the stream itself, the same path as a standalone request.
      req.url = url;
      fastify.routing(req, res);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !STREAM_HEADERS.has(k)) headers[k] = v;
    const payload = replayPayload(req);
    const out = await fastify.inject({
      method: (req.method ?? 'GET') as 'GET',
      url,
      headers,
      payload,
      remoteAddress: req.socket?.remoteAddress,
    });
    res.statusCode = out.statusCode;
    for (const [k, v] of Object.entries(out.headers)) if (v !== undefined && !HOP_HEADERS.has(k.toLowerCase())) res.setHeader(k, v as string | string[] | number);
    res.end(out.rawPayload);
  }

  const middleware = ((req: IncomingMessage, res: ServerResponse, next: NextFunction): void => {
    const r = req as HostRequest;
    if (!matches(r.originalUrl ?? r.url ?? '/')) {
      next();
      return;
    }
    dispatch(r, res).catch((err: unknown) => next(err));
  }) as RollcallMiddleware;

  Object.defineProperties(middleware, {
    prefix: { value: prefix, enumerable: true },
    fastify: { value: fastify, enumerable: true },
  });
  middleware.scimUrl = (connectionId: string) => scimBaseUrl(publicUrl, prefix, connectionId);
  middleware.ready = ready;
  middleware.close = async () => {
    await fastify.close();
  };
  return middleware;
}
