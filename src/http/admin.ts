/**
 * The JSON admin API under /api/v1: organisations, webhook endpoints and their
 * deliveries, the events feed; organisations and their connections (create,
 * settings, token rotation, disable, delete), each connection's provisioning log
 * and health. One bearer admin key (`rollcall.admin`); every error
 * in the shape of admin-errors.ts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Rollcall } from '../rollcall.js';
import { fail } from '../scim/errors.js';
import { MAX_FEED_LIMIT } from '../events/feed.js';
import { MAX_REQUEST_PAGE } from '../directory/provisioning-log.js';
import { MAX_BROWSE_PAGE } from '../directory/browse.js';
import { checkEventTypes, checkWebhookUrl } from '../events/webhooks.js';
import { sendAdminError, toAdminError } from './admin-errors.js';

/** The error body every admin API refusal has (re-exported for the library's entry). */
export type { AdminErrorBody } from './admin-errors.js';

const bad = (message: string) => fail('ROLLCALL_ADMIN_BAD_INPUT', message);
const notFound = (message: string) => fail('ROLLCALL_ADMIN_NOT_FOUND', message);

/** zod's first complaint as one sentence naming the field. */
function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length ? `'${issue.path.join('.')}'` : what;
  if (issue.code === 'unrecognized_keys') throw bad(`${what} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`);
  throw bad(`${where}: ${issue.message}`);
}

const intParam = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `'${name}' must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `'${name}' must be a whole number from ${min} to ${max}`);

const WebhookBody = z
  .object({
    url: z.string({ required_error: 'required: an absolute http(s) URL', invalid_type_error: 'must be a string' }),
    events: z.array(z.string({ invalid_type_error: 'must be event type names' }), { invalid_type_error: 'must be an array of event types' }).optional(),
  })
  .strict();

const EventsQuery = z
  .object({
    after: z.string().optional(),
    limit: intParam('limit', 1, MAX_FEED_LIMIT).optional(),
    organizationId: z.string().min(1).max(200).optional(),
  })
  .strict();

const DeliveriesQuery = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
    limit: intParam('limit', 1, 1000).optional(),
  })
  .strict();

const name = (what: string) => z.string({ required_error: `required: the ${what}'s name`, invalid_type_error: 'must be a string' }).min(1, 'must not be empty').max(200);
const plan = z.string({ invalid_type_error: 'must be a string' }).min(1).max(64);

const OrganizationBody = z.object({ name: name('organisation'), plan: plan.optional() }).strict();
const OrganizationPatch = z
  .object({ name: name('organisation').optional(), plan: plan.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.plan !== undefined, 'send "name", "plan" or both');
const ConnectionBody = z
  .object({
    name: name('connection'),
    workspace: z.string({ invalid_type_error: 'must be a string' }).min(1).max(200).optional(),
    settings: z.record(z.unknown(), { invalid_type_error: 'must be an object of connection settings' }).optional(),
  })
  .strict();
const RotateBody = z.object({ graceSeconds: z.number({ invalid_type_error: 'must be a number of seconds' }).int().min(0).max(30 * 86_400).optional() }).strict();

/** The body as an object (an empty body counts as {} where `empty` allows it). */
function objectBody(body: unknown, example: string, empty = false): Record<string, unknown> {
  if ((body === undefined || body === null || body === '') && empty) return {};
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw bad(`send a JSON object: ${example}`);
  return body as Record<string, unknown>;
}

const RequestsQuery = z
  .object({
    limit: intParam('limit', 1, MAX_REQUEST_PAGE).optional(),
    before: z.string().regex(/^[0-9a-f-]{36}$/, "must be the 'next' of an earlier page").optional(),
    status: z.string().regex(/^(?:[1-5]\d\d|[1-5]xx|error)$/i, "must be a status code (201), a class (4xx) or 'error'").optional(),
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], { errorMap: () => ({ message: 'must be GET, POST, PUT, PATCH or DELETE' }) }))
      .optional(),
    resource: z.string().min(1).max(200).optional(),
  })
  .strict();

const BrowseQuery = z
  .object({
    limit: intParam('limit', 1, MAX_BROWSE_PAGE).optional(),
    cursor: z.string().min(1).max(500).optional(),
    search: z.string().min(1).max(200).optional(),
  })
  .strict();
const UsersQuery = BrowseQuery.extend({
  state: z.enum(['active', 'deactivated', 'deleted'], { errorMap: () => ({ message: 'must be active, deactivated or deleted' }) }).optional(),
}).strict();

const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A path id no record can have is answered like an unknown one: 404. */
function id(value: string | undefined, what: string): string {
  if (!value || !ID.test(value)) throw notFound(`no ${what} with id '${(value ?? '').slice(0, 100)}'`);
  return value;
}

export interface AdminPluginOptions {
  rollcall: Rollcall;
}

/** Where the standalone server mounts the admin API. */
export const ADMIN_API_PREFIX = '/api/v1';

/** The admin API as a Fastify plugin; register it with prefix ADMIN_API_PREFIX. */
export async function adminPlugin(app: FastifyInstance, opts: AdminPluginOptions): Promise<void> {
  const rc = opts.rollcall;
  app.setErrorHandler((err, req, reply) => sendAdminError(reply, toAdminError(err, req)));
  app.setNotFoundHandler((req, reply) => sendAdminError(reply, fail('ROLLCALL_ROUTE_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`)));

  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    const realm = 'Bearer realm="rollcall-admin"';
    const match = typeof header === 'string' ? /^\s*Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw fail('ROLLCALL_ADMIN_KEY_REQUIRED', 'Missing admin key: send Authorization: Bearer <admin key>.', { 'www-authenticate': realm });
    if (!(await rc.admin.verify(match[1]))) {
      throw fail('ROLLCALL_ADMIN_KEY_INVALID', 'The admin key is not valid.', { 'www-authenticate': `${realm}, error="invalid_token"` });
    }
  });

  /** The connection's id, or 404 when there is none. */
  const connectionOf = async (value: string | undefined): Promise<string> => {
    const connectionId = id(value, 'connection');
    if (!(await rc.connections.get(connectionId))) throw notFound(`no connection with id '${connectionId}'`);
    return connectionId;
  };

  app.get('/organizations', async () => ({ organizations: await rc.connections.listOrganizations() }));

  app.post('/organizations', async (req, reply) => {
    const body = parse(OrganizationBody, objectBody(req.body, '{"name": "Example Ltd", "plan": "enterprise"}'), 'the organisation');
    const org = await rc.connections.createOrganization(body.name, body.plan);
    return reply.status(201).header('location', `/api/v1/organizations/${org.id}`).send(org);
  });

  app.patch<{ Params: { id: string } }>('/organizations/:id', async (req) => {
    const orgId = id(req.params.id, 'organisation');
    const body = parse(OrganizationPatch, objectBody(req.body, '{"name": "…"} or {"plan": "…"}'), 'the change');
    let org = await rc.connections.getOrganization(orgId);
    if (!org) throw notFound(`no organisation with id '${orgId}'`);
    if (body.name !== undefined) org = await rc.connections.renameOrganization(orgId, body.name);
    if (body.plan !== undefined) org = await rc.connections.setPlan(orgId, body.plan);
    return org;
  });

  app.delete<{ Params: { id: string } }>('/organizations/:id', async (req, reply) => {
    await rc.connections.removeOrganization(id(req.params.id, 'organisation'));
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/organizations/:id/connections', async (req) => {
    const orgId = id(req.params.id, 'organisation');
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    return { connections: await rc.connections.connectionsOf(orgId) };
  });

  app.post<{ Params: { id: string } }>('/organizations/:id/connections', async (req, reply) => {
    const orgId = id(req.params.id, 'organisation');
    const body = parse(ConnectionBody, objectBody(req.body, '{"name": "Entra ID", "workspace": "default", "settings": {…}}'), 'the connection');
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    const created = await rc.connections.create({ name: body.name, workspace: body.workspace, settings: body.settings, organizationId: orgId });
    // The only answer that holds the token.
    return reply.status(201).header('location', `/api/v1/connections/${created.id}`).header('cache-control', 'no-store').send(created);
  });

  app.get<{ Params: { id: string } }>('/connections/:id', async (req) => {
    const c = await rc.connections.show(id(req.params.id, 'connection'));
    if (!c) throw notFound(`no connection with id '${req.params.id}'`);
    return c;
  });

  app.patch<{ Params: { id: string } }>('/connections/:id/settings', async (req) => {
    const connectionId = await connectionOf(req.params.id);
    await rc.connections.configure(connectionId, objectBody(req.body, '{"domains": ["example.com"], …}'));
    return rc.connections.show(connectionId);
  });

  app.post<{ Params: { id: string } }>('/connections/:id/token', async (req, reply) => {
    const connectionId = await connectionOf(req.params.id);
    const body = parse(RotateBody, objectBody(req.body, '{"graceSeconds": 3600}', true), 'the rotation');
    const rotated = await rc.connections.rotateToken(connectionId, body.graceSeconds ?? 0);
    return reply.header('cache-control', 'no-store').send(rotated);
  });

  app.post<{ Params: { id: string } }>('/connections/:id/disable', async (req) => rc.connections.setStatus(await connectionOf(req.params.id), 'disabled'));
  app.post<{ Params: { id: string } }>('/connections/:id/enable', async (req) => rc.connections.setStatus(await connectionOf(req.params.id), 'active'));

  app.delete<{ Params: { id: string } }>('/connections/:id', async (req, reply) => {
    await rc.connections.remove(await connectionOf(req.params.id));
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/organizations/:id', async (req) => {
    const org = await rc.connections.getOrganization(id(req.params.id, 'organisation'));
    if (!org) throw notFound(`no organisation with id '${req.params.id}'`);
    return org;
  });

  app.post<{ Params: { id: string } }>('/organizations/:id/webhooks', async (req, reply) => {
    const orgId = id(req.params.id, 'organisation');
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw bad('send a JSON object: {"url": "https://…", "events": ["user.created", …]}');
    }
    const body = parse(WebhookBody, req.body, 'the webhook');
    // Checked here too so a bad URL is a 400 even for an unknown organisation.
    checkWebhookUrl(body.url);
    checkEventTypes(body.events);
    const hook = await rc.webhooks.add(orgId, body);
    return reply.status(201).header('location', `/api/v1/webhooks/${hook.id}`).send(hook);
  });

  app.get<{ Params: { id: string } }>('/organizations/:id/webhooks', async (req) => ({
    webhooks: await rc.webhooks.list(id(req.params.id, 'organisation')),
  }));

  app.delete<{ Params: { id: string; webhookId: string } }>('/organizations/:id/webhooks/:webhookId', async (req, reply) => {
    const orgId = id(req.params.id, 'organisation');
    const hookId = id(req.params.webhookId, 'webhook');
    if (!(await rc.webhooks.remove(hookId, orgId))) throw notFound(`no webhook with id '${hookId}' in organisation '${orgId}'`);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id', async (req) => {
    const hook = await rc.webhooks.get(id(req.params.id, 'webhook'));
    if (!hook) throw notFound(`no webhook with id '${req.params.id}'`);
    return hook;
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id/deliveries', async (req) => {
    const q = parse(DeliveriesQuery, req.query ?? {}, 'the query');
    return { deliveries: await rc.webhooks.deliveries(id(req.params.id, 'webhook'), q) };
  });

  app.post<{ Params: { id: string; eventId: string } }>('/webhooks/:id/deliveries/:eventId/redeliver', async (req, reply) => {
    const delivery = await rc.webhooks.redeliver(id(req.params.id, 'webhook'), id(req.params.eventId, 'event'));
    return reply.status(202).send({ delivery });
  });

  app.get<{ Params: { id: string } }>('/connections/:id/requests', async (req) => {
    const connectionId = await connectionOf(req.params.id);
    const q = parse(RequestsQuery, req.query ?? {}, 'the query');
    return rc.requestLog.list(connectionId, q);
  });

  app.get<{ Params: { id: string; requestId: string } }>('/connections/:id/requests/:requestId', async (req) => {
    const connectionId = await connectionOf(req.params.id);
    const entry = await rc.requestLog.get(connectionId, id(req.params.requestId, 'request'));
    if (!entry) throw notFound(`no request with id '${req.params.requestId}' in connection '${connectionId}'`);
    return entry;
  });

  app.get<{ Params: { id: string } }>('/connections/:id/health', async (req) => rc.requestLog.health(await connectionOf(req.params.id)));

  app.get<{ Params: { id: string } }>('/connections/:id/users', async (req) => {
    const q = parse(UsersQuery, req.query ?? {}, 'the query');
    return rc.browse.users(await connectionOf(req.params.id), q);
  });

  app.get<{ Params: { id: string } }>('/connections/:id/groups', async (req) => {
    const q = parse(BrowseQuery, req.query ?? {}, 'the query');
    return rc.browse.groups(await connectionOf(req.params.id), q);
  });

  app.get<{ Params: { id: string } }>('/users/:id', async (req) => {
    const user = await rc.browse.user(id(req.params.id, 'user'));
    if (!user) throw notFound(`no user with id '${req.params.id}'`);
    return user;
  });

  app.get<{ Params: { id: string } }>('/users/:id/history', async (req) => {
    const history = await rc.browse.history(id(req.params.id, 'user'));
    if (!history) throw notFound(`no user with id '${req.params.id}'`);
    return { history };
  });

  app.get('/events', async (req) => {
    const q = parse(EventsQuery, req.query ?? {}, 'the query');
    const page = await rc.events.feed(q);
    // A misspelt organisation id would otherwise look like an organisation with no events.
    if (q.organizationId !== undefined && !page.events.length && !(await rc.connections.getOrganization(q.organizationId))) {
      throw notFound(`no organisation with id '${q.organizationId.slice(0, 100)}'`);
    }
    return page;
  });
}
