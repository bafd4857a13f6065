/** Admin API routes for setup links (the admin's) and an organisation's audit trail. */
import type { FastifyInstance } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { doc } from './admin-openapi.js';
import type { AccessGuard } from './admin-access.js';
import { AuditQuery, SetupLinkBody, id, notFound, objectBody, parse } from './admin-input.js';

export function registerSetupLinkRoutes(app: FastifyInstance, rc: Rollcall, guard: AccessGuard): void {
  app.post<{ Params: { id: string } }>('/organizations/:id/setup-links', doc({ summary: 'Create a setup link (its URL is in this answer only)', tags: ['setup links'], params: ['id'], body: SetupLinkBody }), async (req, reply) => {
    guard.adminOnly(req);
    const body = parse(SetupLinkBody, objectBody(req.body, '{"expiresIn": "7d"}', true), 'the setup link');
    const link = await rc.console.createSetupLink(id(req.params.id, 'organisation'), body.expiresIn, guard.actor(req));
    // The URL holds the link's secret: this answer is the only one that shows it.
    return reply.status(201).header('cache-control', 'no-store').send(link);
  });

  app.get<{ Params: { id: string } }>('/organizations/:id/setup-links', doc({ summary: "An organisation's setup links", tags: ['setup links'], params: ['id'] }), async (req) => {
    guard.adminOnly(req);
    const orgId = id(req.params.id, 'organisation');
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    return { setupLinks: await rc.console.setupLinks(orgId) };
  });

  app.delete<{ Params: { id: string; linkId: string } }>('/organizations/:id/setup-links/:linkId', doc({ summary: 'Revoke a setup link', tags: ['setup links'], params: ['id', 'linkId'] }), async (req) => {
    guard.adminOnly(req);
    return rc.console.revokeSetupLink(id(req.params.id, 'organisation'), id(req.params.linkId, 'setup link'), guard.actor(req));
  });

  app.get<{ Params: { id: string } }>('/organizations/:id/audit', doc({ summary: "An organisation's audit trail", tags: ['setup links'], params: ['id'], query: AuditQuery }), async (req) => {
    const orgId = guard.organization(req, id(req.params.id, 'organisation'));
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    return rc.console.auditTrail(orgId, parse(AuditQuery, req.query ?? {}, 'the query'));
  });
}
