/**
 * Admin API routes over the directory: organisations, their connections (create
 * with settings, token issue and rotation, disable, delete), each connection's
 * users, groups, provisioning log and health, one user and its history. Every
 * route asks the access guard what the caller may see.
 */
import type { FastifyInstance } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { doc } from './admin-openapi.js';
import type { AccessGuard } from './admin-access.js';
import {
  BrowseQuery,
  ConnectionBody,
  OrganizationBody,
  OrganizationPatch,
  RequestsQuery,
  CredentialBody,
  GoogleConnectionBody,
  GoogleSourcePatch,
  RotateBody,
  RunsQuery,
  keyText,
  UsersQuery,
  id,
  notFound,
  objectBody,
  parse,
} from './admin-input.js';

export function registerDirectoryRoutes(app: FastifyInstance, rc: Rollcall, guard: AccessGuard): void {
  app.get('/organizations', doc({ summary: "List organisations (a setup link's session: its own)", tags: ['organisations'] }), async (req) => {
    const scope = req.adminScope;
    if (scope?.kind === 'organization') {
      const own = await rc.connections.getOrganization(scope.organizationId);
      return { organizations: own ? [own] : [] };
    }
    return { organizations: await rc.connections.listOrganizations() };
  });

  app.post('/organizations', doc({ summary: 'Create an organisation', tags: ['organisations'], body: OrganizationBody }), async (req, reply) => {
    guard.adminOnly(req);
    const body = parse(OrganizationBody, objectBody(req.body, '{"name": "Example Ltd", "plan": "enterprise"}'), 'the organisation');
    const org = await rc.connections.createOrganization(body.name, body.plan);
    return reply.status(201).header('location', `/api/v1/organizations/${org.id}`).send(org);
  });

  app.get<{ Params: { id: string } }>('/organizations/:id', doc({ summary: 'One organisation', tags: ['organisations'], params: ['id'] }), async (req) => {
    const org = await rc.connections.getOrganization(guard.organization(req, id(req.params.id, 'organisation')));
    if (!org) throw notFound(`no organisation with id '${req.params.id}'`);
    return org;
  });

  app.patch<{ Params: { id: string } }>('/organizations/:id', doc({ summary: 'Rename an organisation or change its plan', tags: ['organisations'], params: ['id'], body: OrganizationPatch }), async (req) => {
    guard.adminOnly(req);
    const orgId = id(req.params.id, 'organisation');
    const body = parse(OrganizationPatch, objectBody(req.body, '{"name": "…"} or {"plan": "…"}'), 'the change');
    let org = await rc.connections.getOrganization(orgId);
    if (!org) throw notFound(`no organisation with id '${orgId}'`);
    if (body.name !== undefined) org = await rc.connections.renameOrganization(orgId, body.name);
    if (body.plan !== undefined) org = await rc.connections.setPlan(orgId, body.plan);
    return org;
  });

  app.delete<{ Params: { id: string } }>('/organizations/:id', doc({ summary: 'Delete an organisation without connections', tags: ['organisations'], params: ['id'] }), async (req, reply) => {
    guard.adminOnly(req);
    await rc.connections.removeOrganization(id(req.params.id, 'organisation'));
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/organizations/:id/connections', doc({ summary: "An organisation's connections", tags: ['connections'], params: ['id'] }), async (req) => {
    const orgId = guard.organization(req, id(req.params.id, 'organisation'));
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    return { connections: await rc.connections.connectionsOf(orgId) };
  });

  app.post<{ Params: { id: string } }>('/organizations/:id/connections', doc({ summary: 'Create the SCIM connection (the token is in this answer only)', tags: ['connections'], params: ['id'], body: ConnectionBody }), async (req, reply) => {
    const orgId = guard.organization(req, id(req.params.id, 'organisation'));
    const body = parse(ConnectionBody, objectBody(req.body, '{"name": "Entra ID", "workspace": "default", "settings": {…}}'), 'the connection');
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    const created = await rc.connections.create({ name: body.name, workspace: body.workspace, settings: body.settings, organizationId: orgId });
    // The only answer that holds the token.
    return reply.status(201).header('location', `/api/v1/connections/${created.id}`).header('cache-control', 'no-store').send(created);
  });

  app.post<{ Params: { id: string } }>('/organizations/:id/connections/google-workspace', doc({ summary: 'Create a connection pulled from Google Workspace (the key is stored encrypted and never returned)', tags: ['connections'], params: ['id'], body: GoogleConnectionBody }), async (req, reply) => {
    const orgId = guard.organization(req, id(req.params.id, 'organisation'));
    const body = parse(GoogleConnectionBody, objectBody(req.body, '{"name": "Google Workspace", "key": {…service account key…}, "adminEmail": "admin@example.com", "domain": "example.com"}'), 'the connection');
    if (!(await rc.connections.getOrganization(orgId))) throw notFound(`no organisation with id '${orgId}'`);
    const created = await rc.sources.createGoogleWorkspace({ ...body, key: keyText(body.key), organizationId: orgId });
    return reply.status(201).header('location', `/api/v1/connections/${created.id}`).send(created);
  });

  app.get<{ Params: { id: string } }>('/connections/:id/source', doc({ summary: 'Where a pulled connection syncs from, its schedule and last run (never the key)', tags: ['sources'], params: ['id'] }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const source = await rc.sources.show(connectionId);
    if (!source) throw notFound(`connection '${connectionId}' is not pulled from a directory source`);
    return source;
  });

  app.patch<{ Params: { id: string } }>('/connections/:id/source', doc({ summary: "Change a Google Workspace connection's settings, key or interval", tags: ['sources'], params: ['id'], body: GoogleSourcePatch }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const body = parse(GoogleSourcePatch, objectBody(req.body, '{"orgUnits": ["/Sales"], "intervalMinutes": 60}'), 'the change');
    return rc.sources.configureGoogleWorkspace(connectionId, { ...body, key: body.key === undefined ? undefined : keyText(body.key) });
  });

  app.post<{ Params: { id: string } }>('/connections/:id/source/sync', doc({ summary: 'Start a sync run now (answered 202 with the run; follow it in /source/runs)', tags: ['sources'], params: ['id'] }), async (req, reply) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const { run } = await rc.sources.begin(connectionId, 'manual');
    return reply.status(202).header('location', `/api/v1/connections/${connectionId}/source/runs/${run.id}`).send(run);
  });

  app.get<{ Params: { id: string } }>('/connections/:id/source/runs', doc({ summary: "A pulled connection's sync runs, newest first (progress while one runs)", tags: ['sources'], params: ['id'], query: RunsQuery }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const q = parse(RunsQuery, req.query ?? {}, 'the query');
    return { runs: await rc.sources.runs(connectionId, q.limit) };
  });

  app.get<{ Params: { id: string; runId: string } }>('/connections/:id/source/runs/:runId', doc({ summary: 'One sync run with its counts and errors', tags: ['sources'], params: ['id', 'runId'] }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const run = await rc.sources.run(connectionId, id(req.params.runId, 'run'));
    if (!run) throw notFound(`no run with id '${req.params.runId}' in connection '${connectionId}'`);
    return run;
  });

  app.get<{ Params: { id: string } }>('/connections/:id', doc({ summary: 'One connection with its settings', tags: ['connections'], params: ['id'] }), async (req) => {
    const c = await rc.connections.show((await guard.connection(req, req.params.id)).id);
    if (!c) throw notFound(`no connection with id '${req.params.id}'`);
    return c;
  });

  app.patch<{ Params: { id: string } }>('/connections/:id/settings', doc({ summary: "Change a connection's settings (merged, validated)", tags: ['connections'], params: ['id'], freeBody: 'Connection settings (top-level keys replace the current ones)' }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    await rc.connections.configure(connectionId, objectBody(req.body, '{"domains": ["example.com"], …}'));
    return rc.connections.show(connectionId);
  });

  app.post<{ Params: { id: string } }>('/connections/:id/token', doc({ summary: 'Issue a new token (shown in this answer only)', tags: ['connections'], params: ['id'], body: RotateBody }), async (req, reply) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const body = parse(RotateBody, objectBody(req.body, '{"graceSeconds": 3600}', true), 'the rotation');
    const rotated = await rc.connections.rotateToken(connectionId, body.graceSeconds ?? 0);
    return reply.header('cache-control', 'no-store').send(rotated);
  });

  app.post<{ Params: { id: string } }>('/connections/:id/credentials', doc({ summary: 'Create an OAuth client secret (client credentials grant; the secret is in this answer only)', tags: ['connections'], params: ['id'], body: CredentialBody }), async (req, reply) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const body = parse(CredentialBody, objectBody(req.body, '{"name": "Entra ID", "expiresInDays": 730}', true), 'the client secret');
    const created = await rc.connections.createCredential(connectionId, body);
    return reply.status(201).header('cache-control', 'no-store').send(created);
  });
  app.get<{ Params: { id: string } }>('/connections/:id/credentials', doc({ summary: "The connection's OAuth client secrets (never the secrets), with the client id and token URL", tags: ['connections'], params: ['id'] }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    return { clientId: connectionId, tokenUrl: rc.connections.oauthTokenUrl(), secrets: await rc.connections.listCredentials(connectionId) };
  });
  app.delete<{ Params: { id: string; secretId: string } }>('/connections/:id/credentials/:secretId', doc({ summary: 'Revoke an OAuth client secret (its access tokens stop working at once)', tags: ['connections'], params: ['id', 'secretId'] }), async (req, reply) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    await rc.connections.revokeCredential(connectionId, req.params.secretId);
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/connections/:id/disable', doc({ summary: 'Disable a connection (its SCIM requests get 403)', tags: ['connections'], params: ['id'] }), async (req) => rc.connections.setStatus((await guard.connection(req, req.params.id)).id, 'disabled'));
  app.post<{ Params: { id: string } }>('/connections/:id/enable', doc({ summary: 'Enable a connection again', tags: ['connections'], params: ['id'] }), async (req) => rc.connections.setStatus((await guard.connection(req, req.params.id)).id, 'active'));

  app.delete<{ Params: { id: string } }>('/connections/:id', doc({ summary: 'Delete a connection with its users, groups, tokens and log', tags: ['connections'], params: ['id'] }), async (req, reply) => {
    guard.adminOnly(req);
    await rc.connections.remove((await guard.connection(req, req.params.id)).id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/connections/:id/requests', doc({ summary: "The connection's provisioning log, newest first", tags: ['provisioning log'], params: ['id'], query: RequestsQuery }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const q = parse(RequestsQuery, req.query ?? {}, 'the query');
    return rc.requestLog.list(connectionId, q);
  });

  app.get<{ Params: { id: string; requestId: string } }>('/connections/:id/requests/:requestId', doc({ summary: 'One logged request with its body', tags: ['provisioning log'], params: ['id', 'requestId'] }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    const entry = await rc.requestLog.get(connectionId, id(req.params.requestId, 'request'));
    if (!entry) throw notFound(`no request with id '${req.params.requestId}' in connection '${connectionId}'`);
    return entry;
  });

  app.get<{ Params: { id: string } }>('/connections/:id/health', doc({ summary: 'Last request, last error, 30 days of counts', tags: ['provisioning log'], params: ['id'] }), async (req) => rc.requestLog.health((await guard.connection(req, req.params.id)).id));

  app.get<{ Params: { id: string } }>('/connections/:id/users', doc({ summary: "The connection's users, newest first", tags: ['users and groups'], params: ['id'], query: UsersQuery }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    return rc.browse.users(connectionId, parse(UsersQuery, req.query ?? {}, 'the query'));
  });

  app.get<{ Params: { id: string } }>('/connections/:id/groups', doc({ summary: "The connection's groups with member counts", tags: ['users and groups'], params: ['id'], query: BrowseQuery }), async (req) => {
    const { id: connectionId } = await guard.connection(req, req.params.id);
    return rc.browse.groups(connectionId, parse(BrowseQuery, req.query ?? {}, 'the query'));
  });

  /** The user, if the caller may see its connection. */
  const visibleUser = async (req: Parameters<AccessGuard['adminOnly']>[0], userId: string) => {
    const user = await rc.browse.user(id(userId, 'user'));
    if (user) await guard.connection(req, user.connectionId).catch(() => {
      throw notFound(`no user with id '${userId}'`);
    });
    return user;
  };

  app.get<{ Params: { id: string } }>('/users/:id', doc({ summary: 'One user in any state, with its groups', tags: ['users and groups'], params: ['id'] }), async (req) => {
    const user = await visibleUser(req, req.params.id);
    if (!user) throw notFound(`no user with id '${req.params.id}'`);
    return user;
  });

  app.get<{ Params: { id: string } }>('/users/:id/history', doc({ summary: "A user's history", tags: ['users and groups'], params: ['id'] }), async (req) => {
    // A setup link's session sees the history of its own users while they exist; a purged one's only the admin.
    if (req.adminScope?.kind === 'organization' && !(await visibleUser(req, req.params.id))) throw notFound(`no user with id '${req.params.id}'`);
    const history = await rc.browse.history(id(req.params.id, 'user'));
    if (!history) throw notFound(`no user with id '${req.params.id}'`);
    return { history };
  });
}
