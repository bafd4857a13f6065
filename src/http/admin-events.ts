/** Admin API routes for webhook endpoints, their deliveries and the events feed: the admin's only. */
import type { FastifyInstance } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { doc } from './admin-openapi.js';
import { checkEventTypes, checkWebhookUrl } from '../events/webhooks.js';
import type { AccessGuard } from './admin-access.js';
import { DeliveriesQuery, EventsQuery, WebhookBody, bad, id, notFound, parse } from './admin-input.js';

export function registerEventRoutes(app: FastifyInstance, rc: Rollcall, guard: AccessGuard): void {
  // Webhook secrets and every organisation's events: never for a setup link.
  app.addHook('preHandler', async (req) => guard.adminOnly(req));

  app.post<{ Params: { id: string } }>('/organizations/:id/webhooks', doc({ summary: 'Add a webhook endpoint (its secret is in this answer only)', tags: ['webhooks and events'], params: ['id'], body: WebhookBody }), async (req, reply) => {
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

  app.get<{ Params: { id: string } }>('/organizations/:id/webhooks', doc({ summary: "An organisation's webhook endpoints", tags: ['webhooks and events'], params: ['id'] }), async (req) => ({
    webhooks: await rc.webhooks.list(id(req.params.id, 'organisation')),
  }));

  app.delete<{ Params: { id: string; webhookId: string } }>('/organizations/:id/webhooks/:webhookId', doc({ summary: 'Remove a webhook endpoint', tags: ['webhooks and events'], params: ['id', 'webhookId'] }), async (req, reply) => {
    const orgId = id(req.params.id, 'organisation');
    const hookId = id(req.params.webhookId, 'webhook');
    if (!(await rc.webhooks.remove(hookId, orgId))) throw notFound(`no webhook with id '${hookId}' in organisation '${orgId}'`);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id', doc({ summary: 'One webhook endpoint', tags: ['webhooks and events'], params: ['id'] }), async (req) => {
    const hook = await rc.webhooks.get(id(req.params.id, 'webhook'));
    if (!hook) throw notFound(`no webhook with id '${req.params.id}'`);
    return hook;
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id/deliveries', doc({ summary: "A webhook endpoint's deliveries", tags: ['webhooks and events'], params: ['id'], query: DeliveriesQuery }), async (req) => {
    const q = parse(DeliveriesQuery, req.query ?? {}, 'the query');
    return { deliveries: await rc.webhooks.deliveries(id(req.params.id, 'webhook'), q) };
  });

  app.post<{ Params: { id: string; eventId: string } }>('/webhooks/:id/deliveries/:eventId/redeliver', doc({ summary: 'Deliver an event again', tags: ['webhooks and events'], params: ['id', 'eventId'] }), async (req, reply) => {
    const delivery = await rc.webhooks.redeliver(id(req.params.id, 'webhook'), id(req.params.eventId, 'event'));
    return reply.status(202).send({ delivery });
  });

  app.get('/events', doc({ summary: 'The events feed', tags: ['webhooks and events'], query: EventsQuery }), async (req) => {
    const q = parse(EventsQuery, req.query ?? {}, 'the query');
    const page = await rc.events.feed(q);
    // A misspelt organisation id would otherwise look like an organisation with no events.
    if (q.organizationId !== undefined && !page.events.length && !(await rc.connections.getOrganization(q.organizationId))) {
      throw notFound(`no organisation with id '${q.organizationId.slice(0, 100)}'`);
    }
    return page;
  });
}
