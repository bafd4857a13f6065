/** /Users, /Groups and /.search: HTTP in, directory calls, SCIM JSON out. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, fail, hasCode } from '../scim/errors.js';
import { LIST_RESPONSE, groupResourceType, userResourceType, type ResourceTypeDef } from '../scim/schemas.js';
import { type Json, type Projection, listResponse, project, wantsAttribute, parseProjection } from '../scim/serialize.js';
import type { Rollcall } from '../rollcall.js';
import type { RequestContext } from '../directory/context.js';
import { type UserRecord, userToScim, userToScimJson } from '../directory/users.js';
import { type GroupRecord, groupToScim } from '../directory/groups.js';
import { etag, etagMatches } from '../directory/versions.js';
import { ctxOf } from './scim-auth.js';
import { SCIM_CONTENT_TYPE } from './errors.js';
import { parseListRequest } from './list-params.js';
import type { ScimLimits } from '../scim/limits.js';

type Query = Record<string, unknown>;

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function projectionOf(rt: ResourceTypeDef, req: FastifyRequest, limits: ScimLimits): Projection {
  const q = (req.query ?? {}) as Query;
  const get = (n: string) => Object.entries(q).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
  return parseProjection(rt, get('attributes'), get('excludedAttributes'), limits.projectionAttributes);
}

function hasProjection(req: FastifyRequest): boolean {
  return Object.keys((req.query ?? {}) as Query).some((k) => /^(attributes|excludedattributes)$/i.test(k));
}

/**
 * Maps a page a slice at a time, with a turn of the event loop between slices:
 * building 1,000 projected resources takes tens of milliseconds, which would
 * otherwise hold every other connection's requests. A short page pays nothing.
 */
async function mapInTurns<T, R>(items: T[], fn: (item: T) => R, size = 100): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const item of items.slice(i, i + size)) out.push(fn(item));
  }
  return out;
}

async function usersToScim(rc: Rollcall, ctx: RequestContext, recs: UserRecord[], p: Projection): Promise<Json[]> {
  // Lists load groups with the users; single writes do not, and ask here.
  const missing = wantsAttribute(p, 'groups') ? recs.filter((r) => !r.groups) : [];
  const groups = missing.length ? await rc.users.groupsOf(missing.map((r) => r.row.id)) : undefined;
  return mapInTurns(recs, (r) => project(userToScim(ctx, r, r.groups ?? groups?.get(r.row.id)), p));
}

async function groupsToScim(rc: Rollcall, ctx: RequestContext, recs: GroupRecord[], p: Projection): Promise<Json[]> {
  const members = wantsAttribute(p, 'members') && recs.length ? await rc.groups.membersOf(recs.map((r) => r.row.id)) : undefined;
  return mapInTurns(recs, (r) => project(groupToScim(ctx, r, members ? (members.get(r.row.id) ?? []) : undefined), p));
}

function sendResource(reply: FastifyReply, status: number, version: number, body: Json, location?: string): FastifyReply {
  reply.header('ETag', etag(version));
  if (location) reply.header('Location', location);
  return reply.status(status).type(SCIM_CONTENT_TYPE).send(body);
}

export function registerResources(app: FastifyInstance, rc: Rollcall): void {
  // ---- Users ----
  const listUsers = async (req: FastifyRequest, reply: FastifyReply, source: Query) => {
    const ctx = ctxOf(req);
    const { params, projection } = parseListRequest(userResourceType, source, rc.limits);
    const { total, records } = await rc.users.list(ctx, params);
    if (!projection.attributes && !projection.excluded) {
      // Full resources: each spliced from its stored text, no parse and re-serialise.
      const items = await mapInTurns(records, (r) => userToScimJson(ctx, r.row, r.groups ?? []));
      return reply
        .type(SCIM_CONTENT_TYPE)
        .send(`{"schemas":["${LIST_RESPONSE}"],"totalResults":${total},"itemsPerPage":${items.length},"startIndex":${params.startIndex},"Resources":[${items.join(',')}]}`);
    }
    const resources = await usersToScim(rc, ctx, records, projection);
    return reply.type(SCIM_CONTENT_TYPE).send(listResponse(resources, total, params.startIndex));
  };
  app.get('/Users', (req, reply) => listUsers(req, reply, (req.query ?? {}) as Query));
  app.post('/Users/.search', (req, reply) => listUsers(req, reply, searchBody(req.body)));

  app.post('/Users', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.users.create(ctx, req.body);
    const location = `${ctx.baseUrl}/Users/${rec.row.id}`;
    if (!hasProjection(req) && rec.groups) {
      // The stored text spliced into the answer: no object to build and serialise again.
      reply.header('ETag', etag(rec.row.version)).header('Location', location);
      return reply.status(201).type(SCIM_CONTENT_TYPE).send(userToScimJson(ctx, rec.row, rec.groups));
    }
    const [body] = await usersToScim(rc, ctx, [rec], projectionOf(userResourceType, req, rc.limits));
    return sendResource(reply, 201, rec.row.version, body, location);
  });
  app.get('/Users/:id', async (req, reply) => {
    const ctx = ctxOf(req);
    const { row, groups } = await rc.users.getForRead(ctx, (req.params as { id: string }).id);
    const inm = header(req, 'if-none-match');
    if (inm && etagMatches(inm, row.version)) return reply.status(304).header('ETag', etag(row.version)).send();
    if (!hasProjection(req)) {
      reply.header('ETag', etag(row.version));
      return reply.type(SCIM_CONTENT_TYPE).send(userToScimJson(ctx, row, groups));
    }
    const rec = { row, doc: JSON.parse(row.doc) as Json };
    const body = project(userToScim(ctx, rec, groups), projectionOf(userResourceType, req, rc.limits));
    return sendResource(reply, 200, row.version, body);
  });
  app.put('/Users/:id', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.users.replace(ctx, (req.params as { id: string }).id, req.body, header(req, 'if-match'));
    const [body] = await usersToScim(rc, ctx, [rec], projectionOf(userResourceType, req, rc.limits));
    return sendResource(reply, 200, rec.row.version, body);
  });
  app.patch('/Users/:id', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.users.patch(ctx, (req.params as { id: string }).id, req.body, header(req, 'if-match'));
    // RFC 7644 §3.5.2 allows 200 with the resource or 204; the resource is what
    // Okta and most clients read back, and a user is small.
    const [body] = await usersToScim(rc, ctx, [rec], projectionOf(userResourceType, req, rc.limits));
    return sendResource(reply, 200, rec.row.version, body);
  });
  app.delete('/Users/:id', async (req, reply) => {
    await rc.users.delete(ctxOf(req), (req.params as { id: string }).id, header(req, 'if-match'));
    return reply.status(204).send();
  });

  // ---- Groups ----
  const listGroups = async (req: FastifyRequest, reply: FastifyReply, source: Query) => {
    const ctx = ctxOf(req);
    const { params, projection } = parseListRequest(groupResourceType, source, rc.limits);
    const { total, records } = await rc.groups.list(ctx, params);
    const resources = await groupsToScim(rc, ctx, records, projection);
    return reply.type(SCIM_CONTENT_TYPE).send(listResponse(resources, total, params.startIndex));
  };
  app.get('/Groups', (req, reply) => listGroups(req, reply, (req.query ?? {}) as Query));
  app.post('/Groups/.search', (req, reply) => listGroups(req, reply, searchBody(req.body)));

  app.post('/Groups', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.groups.create(ctx, req.body);
    const [body] = await groupsToScim(rc, ctx, [rec], projectionOf(groupResourceType, req, rc.limits));
    return sendResource(reply, 201, rec.row.version, body, `${ctx.baseUrl}/Groups/${rec.row.id}`);
  });
  app.get('/Groups/:id', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.groups.getForRead(ctx, (req.params as { id: string }).id);
    const inm = header(req, 'if-none-match');
    if (inm && etagMatches(inm, rec.row.version)) return reply.status(304).header('ETag', etag(rec.row.version)).send();
    const [body] = await groupsToScim(rc, ctx, [rec], projectionOf(groupResourceType, req, rc.limits));
    return sendResource(reply, 200, rec.row.version, body);
  });
  app.put('/Groups/:id', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.groups.replace(ctx, (req.params as { id: string }).id, req.body, header(req, 'if-match'));
    const [body] = await groupsToScim(rc, ctx, [rec], projectionOf(groupResourceType, req, rc.limits));
    return sendResource(reply, 200, rec.row.version, body);
  });
  app.patch('/Groups/:id', async (req, reply) => {
    const ctx = ctxOf(req);
    const rec = await rc.groups.patch(ctx, (req.params as { id: string }).id, req.body, header(req, 'if-match'));
    // 204 unless the client asked for a representation: answering with a large
    // group's full member list would undo the point of a membership PATCH.
    if (!hasProjection(req)) return reply.status(204).header('ETag', etag(rec.row.version)).send();
    const [body] = await groupsToScim(rc, ctx, [rec], projectionOf(groupResourceType, req, rc.limits));
    return sendResource(reply, 200, rec.row.version, body);
  });
  app.delete('/Groups/:id', async (req, reply) => {
    await rc.groups.delete(ctxOf(req), (req.params as { id: string }).id, header(req, 'if-match'));
    return reply.status(204).send();
  });

  // ---- Search across resource types (RFC 7644 §3.4.3) ----
  // Each type is listed with the same filter and sortBy; one that names an attribute
  // a type lacks (UNKNOWN_FILTER_ATTRIBUTE_CODES, UNKNOWN_SORT_ATTRIBUTE_CODES below) leaves
  // that type out, or in its default order.
  app.post('/.search', async (req, reply) => {
    const ctx = ctxOf(req);
    const body = searchBody(req.body);
    const { params } = parseListRequest(undefined, body, rc.limits);
    const attrs = { attributes: body.attributes, excludedAttributes: body.excludedAttributes };
    // A filter naming an attribute one type lacks simply matches none of that type.
    const countOf = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (e) {
        if (hasCode(e, ...UNKNOWN_FILTER_ATTRIBUTE_CODES)) return undefined;
        throw e;
      }
    };
    const uReq = parseListRequest(userResourceType, { ...body, ...attrs }, rc.limits);
    const gReq = parseListRequest(groupResourceType, { ...body, ...attrs }, rc.limits);
    // sortBy may name an attribute only one type has (userName): that type sorts by it,
    // the other keeps its default order.
    const sortable = async (list: typeof rc.users.list | typeof rc.groups.list) => {
      try {
        await list(ctx, { ...params, filter: undefined, startIndex: 1, count: 0 });
        return params;
      } catch (e) {
        if (params.sortBy && hasCode(e, ...UNKNOWN_SORT_ATTRIBUTE_CODES)) return { ...params, sortBy: undefined };
        throw e;
      }
    };
    const uParams = await sortable(rc.users.list.bind(rc.users));
    const gParams = await sortable(rc.groups.list.bind(rc.groups));
    if (params.sortBy && !uParams.sortBy && !gParams.sortBy) throw fail('ROLLCALL_SEARCH_SORT_BY_UNKNOWN', 'sortBy names an attribute neither Users nor Groups have.');
    const uAll = await countOf(() => rc.users.list(ctx, { ...uParams, startIndex: 1, count: 0 }));
    const gAll = await countOf(() => rc.groups.list(ctx, { ...gParams, startIndex: 1, count: 0 }));
    if (!uAll && !gAll && params.filter) throw fail('ROLLCALL_SEARCH_FILTER_UNKNOWN', 'The filter names attributes that neither Users nor Groups have.');
    const uTotal = uAll?.total ?? 0;
    const gTotal = gAll?.total ?? 0;
    const offset = params.startIndex - 1;
    const resources: Json[] = [];
    if (uAll && offset < uTotal) {
      const { records } = await rc.users.list(ctx, { ...uParams, startIndex: offset + 1, count: params.count });
      resources.push(...(await usersToScim(rc, ctx, records, uReq.projection)));
    }
    const left = params.count - resources.length;
    if (gAll && left > 0) {
      const gOffset = Math.max(0, offset - uTotal);
      const { records } = await rc.groups.list(ctx, { ...gParams, startIndex: gOffset + 1, count: left });
      resources.push(...(await groupsToScim(rc, ctx, records, gReq.projection)));
    }
    return reply.type(SCIM_CONTENT_TYPE).send(listResponse(resources, uTotal + gTotal, params.startIndex));
  });
}

/**
 * The codes a list of one resource type answers when its filter names an attribute
 * that type lacks (for /.search: no resources of that type), and when its sortBy
 * cannot sort that type (that type keeps its default order).
 */
export const UNKNOWN_FILTER_ATTRIBUTE_CODES: readonly ErrorCode[] = ['ROLLCALL_FILTER_UNKNOWN_ATTRIBUTE'];
export const UNKNOWN_SORT_ATTRIBUTE_CODES: readonly ErrorCode[] = ['ROLLCALL_UNKNOWN_SORT_ATTRIBUTE', 'ROLLCALL_UNSORTABLE_ATTRIBUTE'];

function searchBody(body: unknown): Query {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw fail('ROLLCALL_SEARCH_BODY_NOT_AN_OBJECT', 'A search request body must be a JSON object.');
  return body as Query;
}
