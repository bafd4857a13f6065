/**
 * The OAuth 2.0 token endpoint, client credentials grant only (RFC 6749 §4.4):
 * `POST /oauth/token` with `grant_type=client_credentials` and the connection's
 * client id and secret, by HTTP Basic (§2.3.1) or in the form body, answers an
 * access token for that connection's SCIM API. Errors are RFC 6749 §5.2's JSON
 * (`error`, `error_description`), never SCIM's: OAuth clients read that shape.
 *
 * Failed client authentications are limited per client id and address
 * (ROLLCALL_OAUTH_FAILURES_PER_MINUTE, fixed one-minute windows, counted per
 * instance):
 * a secret cannot be guessed at the speed of the network. Nothing of the request
 * body is logged (the request log line names the route and status only).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { OAUTH_TOKEN_PATH } from '../directory/connections.js';
import { parseJsonBody } from './body.js';

export interface OAuthTokenOptions {
  /** Failed client authentications per client id, and per address, per minute (default 10). */
  failuresPerMinute?: number;
}

type OAuthError = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'temporarily_unavailable';

class TokenRequestError extends Error {
  constructor(
    readonly error: OAuthError,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="rollcall", charset="UTF-8"' } as const;
/** Distinct keys counted in one window (bounded memory). */
const MAX_KEYS = 10_000;

/** Failures per key in the current minute; each key with its own limit. */
class FailureWindows {
  private window = -1;
  private counts = new Map<string, number>();

  private roll(): void {
    const w = Math.floor(Date.now() / 60_000);
    if (w !== this.window) {
      this.window = w;
      this.counts = new Map();
    }
  }

  /** Seconds until these keys may try again, or 0. */
  blocked(keys: [key: string, limit: number][]): number {
    this.roll();
    const over = keys.some(([k, limit]) => (this.counts.get(k) ?? 0) >= limit);
    return over ? Math.max(1, Math.ceil(((this.window + 1) * 60_000 - Date.now()) / 1000)) : 0;
  }

  record(keys: [key: string, limit: number][]): void {
    this.roll();
    for (const [k] of keys) {
      const slot = this.slot(k);
      if (slot !== undefined) this.counts.set(slot, (this.counts.get(slot) ?? 0) + 1);
    }
  }

  /** Past MAX_KEYS distinct keys in a minute new keys are not counted (never all blocked together). */
  private slot(key: string): string | undefined {
    return this.counts.has(key) || this.counts.size < MAX_KEYS ? key : undefined;
  }
}

/** `application/x-www-form-urlencoded` → parameters; a parameter sent twice is refused (RFC 6749 §3.2). */
function formParameters(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    // A parameter without a value counts as omitted (RFC 6749 §3.1).
    if (v === '') continue;
    if (k in out) throw new TokenRequestError('invalid_request', `The parameter '${k}' is sent more than once.`);
    out[k] = v;
  }
  return out;
}

/** Client id and secret from `Authorization: Basic`, each form-decoded (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = typeof header === 'string' ? /^\s*Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new TokenRequestError('invalid_client', 'The Basic credentials are not client_id:client_secret.', 401, BASIC_CHALLENGE);
  const unform = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

function parametersOf(req: FastifyRequest): Record<string, string> {
  const body = req.body;
  if (body === undefined || body === null) throw new TokenRequestError('invalid_request', 'The request has no body: send grant_type=client_credentials as application/x-www-form-urlencoded.');
  if (typeof body !== 'object' || Array.isArray(body)) throw new TokenRequestError('invalid_request', 'The body must be form parameters (application/x-www-form-urlencoded).');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (v === null || v === '') continue;
    if (typeof v !== 'string') throw new TokenRequestError('invalid_request', `The parameter '${k}' must be a string.`);
    out[k] = v;
  }
  return out;
}

/** The 4xx status Fastify gave a request it could not read, or 0 (anything else is our failure: 500). */
function clientStatus(err: unknown): number {
  const s = (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : 0;
}

/** Counting key of a client address: IPv4 as is, IPv6 by its /64 (one host has many). */
function addressKey(ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip;
  const [head] = ip.split('::');
  const groups = head.split(':').filter(Boolean);
  return ip.includes('::') && groups.length < 4 ? `${groups.join(':')}::/64` : `${ip.split(':').slice(0, 4).join(':')}::/64`;
}

export async function registerOAuthToken(app: FastifyInstance, rc: Rollcall, opts: OAuthTokenOptions = {}): Promise<void> {
  const limit = opts.failuresPerMinute ?? 10;
  const failures = new FailureWindows();
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_req, raw, done) => {
      try {
        done(null, formParameters((raw as Buffer).toString('utf8')));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    // Some clients send the same parameters as JSON; accepted alike, with OAuth's errors.
    if (scope.hasContentTypeParser('application/json')) scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (req, raw, done) => {
      try {
        done(null, parseJsonBody(raw as Buffer, req));
      } catch {
        done(new TokenRequestError('invalid_request', 'The body is not valid JSON.'), undefined);
      }
    });
    scope.setErrorHandler((err: unknown, _req, reply: FastifyReply) => {
      const e =
        err instanceof TokenRequestError
          ? err
          : (err as { statusCode?: number }).statusCode === 415
            ? new TokenRequestError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded.')
            : (err as { statusCode?: number }).statusCode === 413
              ? new TokenRequestError('invalid_request', 'The request body is too large for a token request.', 413)
              : clientStatus(err)
                ? new TokenRequestError('invalid_request', 'The token request could not be read.', clientStatus(err))
                : new TokenRequestError('invalid_request', 'internal', 500);
      if (e.status >= 500) reply.log.error({ err }, 'token endpoint failed');
      return reply
        .status(e.status >= 500 ? 500 : e.status)
        .headers({ ...NO_STORE, ...e.headers })
        .send({ error: e.status >= 500 ? 'server_error' : e.error, error_description: e.status >= 500 ? 'The token could not be issued; try again.' : e.description });
    });

    scope.post(OAUTH_TOKEN_PATH, async (req, reply) => {
      const p = parametersOf(req);
      if (!p.grant_type) throw new TokenRequestError('invalid_request', 'grant_type is required (client_credentials).');
      if (p.grant_type !== 'client_credentials') throw new TokenRequestError('unsupported_grant_type', `Only grant_type=client_credentials is supported, not '${p.grant_type.slice(0, 100)}'.`);
      const basic = basicCredentials(req.headers.authorization);
      if (basic && p.client_secret !== undefined) throw new TokenRequestError('invalid_request', 'Send the client secret either by HTTP Basic or in the body, not both.');
      if (basic && p.client_id !== undefined && p.client_id !== basic.id) throw new TokenRequestError('invalid_request', 'client_id in the body differs from the one in the Basic credentials.');
      const id = basic?.id ?? p.client_id;
      const secret = basic?.secret ?? p.client_secret;
      if (!id || !secret) throw new TokenRequestError('invalid_client', 'Client authentication is required: the client id and secret by HTTP Basic, or client_id and client_secret in the body.', 401, BASIC_CHALLENGE);
      // Per client id and address: someone guessing from elsewhere cannot lock the
      // IdP out, and one tenant's failures never block another's (Entra calls from
      // addresses every tenant shares). IPv6 addresses count by their /64.
      const keys: [string, number][] = [[`client:${id.slice(0, 100)}|${addressKey(req.ip)}`, limit]];
      const wait = failures.blocked(keys);
      if (wait) throw new TokenRequestError('temporarily_unavailable', `Too many failed token requests for this client; try again in ${wait} s.`, 429, { 'retry-after': String(wait) });
      const granted = await rc.connections.grantAccessToken(id, secret);
      if (!granted) {
        failures.record(keys);
        // One answer for an unknown client, a wrong, revoked or expired secret: no probing.
        throw new TokenRequestError('invalid_client', 'The client id and secret are not valid (unknown client, wrong, revoked or expired secret).', 401, BASIC_CHALLENGE);
      }
      return reply.headers(NO_STORE).send({ access_token: granted.accessToken, token_type: 'Bearer', expires_in: granted.expiresIn, scope: 'scim' });
    });
    scope.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'],
      url: OAUTH_TOKEN_PATH,
      handler: async () => {
        throw new TokenRequestError('invalid_request', 'The token endpoint takes POST only.', 405, { allow: 'POST' });
      },
    });
  });
}
