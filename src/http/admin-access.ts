/**
 * Who is calling the admin API, and what they may see. Two ways in:
 *   - `Authorization: Bearer <admin key>` (scripts, the CLI's peers): everything;
 *   - the console's session cookie (`rollcall_session`: HttpOnly, SameSite=Strict,
 *     Secure under https), from signing in with the admin key (everything) or from
 *     opening a setup link (one organisation). With the cookie, a state-changing
 *     request must also send `X-Rollcall-Console: 1`: a cross-site form cannot set
 *     a header, and without CORS a cross-site script cannot send one.
 * A setup link's session sees only its organisation: other organisations' ids are
 * answered 404 as if they did not exist; admin-only endpoints 403. What it changes
 * goes to the organisation's audit trail.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import type { Rollcall } from '../rollcall.js';
import { doc } from './admin-openapi.js';
import { fail } from '../scim/errors.js';
import type { ConnectionInfo } from '../directory/connections.js';
import type { ConsoleScope } from '../directory/console-access.js';
import { SetupSessionBody, SignInBody, id, notFound, objectBody, parse } from './admin-input.js';

export const SESSION_COOKIE = 'rollcall_session';
export const CONSOLE_HEADER = 'x-rollcall-console';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's authentication hook on every authenticated request. */
    adminScope: ConsoleScope | null;
  }
  interface FastifyContextConfig {
    /** An admin API route anyone may call (signing in). */
    public?: boolean;
  }
}

const REALM = 'Bearer realm="rollcall-admin"';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Checks `Authorization: Bearer <admin key>`, throwing ADMIN_KEY_REQUIRED (no
 * bearer token) or ADMIN_KEY_INVALID. `alsoAccept` may admit another token first
 * (the metrics token); `missing` and `invalid` word the refusals for that caller.
 */
export async function requireAdminBearer(
  rc: Rollcall,
  header: string | undefined,
  opts: { alsoAccept?: (token: string) => boolean; missing?: string; invalid?: string } = {},
): Promise<void> {
  const match = typeof header === 'string' ? /^\s*Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw fail('ROLLCALL_ADMIN_KEY_REQUIRED', opts.missing ?? 'Missing admin key: send Authorization: Bearer <admin key>.', { 'www-authenticate': REALM });
  if (opts.alsoAccept?.(match[1])) return;
  if (!(await rc.admin.verify(match[1]))) throw fail('ROLLCALL_ADMIN_KEY_INVALID', opts.invalid ?? 'The admin key is not valid.', { 'www-authenticate': `${REALM}, error="invalid_token"` });
}

/** The checks every route makes of the caller's scope. */
export interface AccessGuard {
  /** Refuses (403) a setup link's session. */
  adminOnly(req: FastifyRequest): void;
  /** The organisation id, if the caller may see it; else 404 as for an unknown one. */
  organization(req: FastifyRequest, orgId: string): string;
  /** The connection, if it exists and the caller may see it; else 404. */
  connection(req: FastifyRequest, connectionId: string | undefined): Promise<ConnectionInfo>;
  /** Who the audit trail names. */
  actor(req: FastifyRequest): string;
}

export function accessGuard(rc: Rollcall): AccessGuard {
  const scopeOf = (req: FastifyRequest): ConsoleScope => req.adminScope ?? { kind: 'admin' };
  return {
    adminOnly(req) {
      if (scopeOf(req).kind !== 'admin') throw fail('ROLLCALL_ADMIN_FORBIDDEN', 'This needs the admin: a setup link only sets up its own organisation.');
    },
    organization(req, orgId) {
      const scope = scopeOf(req);
      if (scope.kind === 'organization' && scope.organizationId !== orgId) throw notFound(`no organisation with id '${orgId.slice(0, 100)}'`);
      return orgId;
    },
    async connection(req, value) {
      const connectionId = id(value, 'connection');
      const c = await rc.connections.get(connectionId);
      const scope = scopeOf(req);
      if (!c || (scope.kind === 'organization' && c.organizationId !== scope.organizationId)) throw notFound(`no connection with id '${connectionId}'`);
      return c;
    },
    actor(req) {
      const scope = scopeOf(req);
      return scope.kind === 'organization' ? `setup-link:${scope.setupLinkId}` : 'admin';
    },
  };
}

function setSessionCookie(reply: FastifyReply, token: string, expiresAt: string, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: '/api', expires: new Date(expiresAt) });
}

/**
 * Registers the cookie parser, the authentication hook and the session routes
 * (`POST /session` with the admin key, `POST /session/setup` with a link's secret,
 * `GET /session`, `DELETE /session`) on the admin API's context.
 */
export async function registerAdminAccess(app: FastifyInstance, rc: Rollcall): Promise<void> {
  await app.register(fastifyCookie);
  const secure = () => rc.publicUrl.startsWith('https:');
  app.decorateRequest('adminScope', null);

  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public) {
      if (!SAFE.has(req.method) && !req.headers[CONSOLE_HEADER]) throw fail('ROLLCALL_CSRF_HEADER_REQUIRED', `Send the header '${CONSOLE_HEADER}: 1' with this request.`);
      return;
    }
    const header = req.headers.authorization;
    if (typeof header === 'string' && header.trim()) {
      await requireAdminBearer(rc, header);
      req.adminScope = { kind: 'admin' };
      return;
    }
    const token = req.cookies?.[SESSION_COOKIE];
    if (!token) throw fail('ROLLCALL_ADMIN_KEY_REQUIRED', 'Missing admin key: send Authorization: Bearer <admin key>, or sign in to the console.', { 'www-authenticate': REALM });
    const session = await rc.console.session(token);
    if (!session) throw fail('ROLLCALL_SESSION_INVALID', 'Your console session has ended; sign in again.');
    if (!SAFE.has(req.method) && !req.headers[CONSOLE_HEADER]) throw fail('ROLLCALL_CSRF_HEADER_REQUIRED', `Send the header '${CONSOLE_HEADER}: 1' with requests that change something.`);
    req.adminScope = session.scope;
  });

  // A setup link's changes go to its organisation's audit trail.
  app.addHook('onResponse', async (req, reply) => {
    const scope = req.adminScope;
    if (scope?.kind !== 'organization' || SAFE.has(req.method) || reply.statusCode >= 400) return;
    const route = req.routeOptions.url ?? req.url.split('?')[0];
    try {
      await rc.console.audit(scope.organizationId, `setup-link:${scope.setupLinkId}`, `${req.method} ${route}`, { path: req.url.split('?')[0], status: reply.statusCode });
    } catch (err) {
      req.log.error({ err }, 'audit trail: could not record a setup link change');
    }
  });

  app.post('/session', { ...doc({ summary: 'Sign the console in with the admin key', tags: ['session'], body: SignInBody }), config: { public: true } }, async (req, reply) => {
    const body = parse(SignInBody, objectBody(req.body, '{"adminKey": "rca_…"}'), 'the sign-in');
    const s = await rc.console.signIn(body.adminKey);
    setSessionCookie(reply, s.token, s.expiresAt, secure());
    return { scope: 'admin', expiresAt: s.expiresAt };
  });

  app.post('/session/setup', { ...doc({ summary: 'Open a setup link: a session for its organisation', tags: ['session'], body: SetupSessionBody }), config: { public: true } }, async (req, reply) => {
    const body = parse(SetupSessionBody, objectBody(req.body, '{"secret": "rcl_…"}'), 'the setup link');
    const s = await rc.console.openSetupLink(body.secret);
    setSessionCookie(reply, s.token, s.expiresAt, secure());
    const org = await rc.connections.getOrganization(s.organizationId);
    return { scope: 'organization', organization: org, expiresAt: s.expiresAt };
  });

  app.get('/session', doc({ summary: 'Who is signed in', tags: ['session'] }), async (req) => {
    const scope = req.adminScope ?? { kind: 'admin' as const };
    if (scope.kind === 'admin') return { scope: 'admin' };
    return { scope: 'organization', organization: await rc.connections.getOrganization(scope.organizationId) };
  });

  app.delete('/session', doc({ summary: 'Sign out', tags: ['session'] }), async (req, reply) => {
    const token = req.cookies?.[SESSION_COOKIE];
    if (token) await rc.console.signOut(token);
    reply.clearCookie(SESSION_COOKIE, { path: '/api' });
    return reply.status(204).send();
  });
}
