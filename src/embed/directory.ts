/**
 * The directory for a host application, addressed by connection id:
 *
 *   const dir = rollcallDirectory(rollcall, { prefix: '/identity/scim/v2' });
 *   const page = await dir.users.list(connectionId, { filter: 'userName eq "ada@acme.com"' });
 *   const user = await dir.users.get(connectionId, id);   // undefined when there is none
 *
 * Answers are plain JSON: host views (`UserView` plus groups, `GroupView` plus members —
 * the same shapes as event data) or, with `listScim`/`getScim`, the SCIM
 * representation as the SCIM API serves it (locations under `publicUrl` + `prefix`).
 * Filters, paging and sorting are SCIM's (RFC 7644 §3.4.2); a bad filter throws a
 * RollcallError (status 400, scimType invalidFilter).
 */
import type { ScimLimits } from '../scim/limits.js';
import type { Rollcall } from '../rollcall.js';
import { type RequestContext, requestContext } from '../directory/context.js';
import { fail, isRollcallError } from '../scim/errors.js';
import { groupResourceType, userResourceType, type ResourceTypeDef } from '../scim/schemas.js';
import { type Json, listResponse, project } from '../scim/serialize.js';
import { parseListRequest } from '../http/list-params.js';
import { type GroupRef, type UserRecord, userToScim } from '../directory/users.js';
import { type GroupRecord, groupToScim } from '../directory/groups.js';
import { groupView, userView } from '../directory/emitted-events.js';
import type { MemberView } from '../directory/groups.js';
import type { Doc } from '../scim/resource.js';
import { DEFAULT_SCIM_PREFIX, scimBaseUrl } from '../directory/scim-url.js';
import type { GroupView, UserView } from './views.js';

export interface DirectoryListOptions {
  /** A SCIM filter, e.g. `userName eq "ada@acme.com"` or `emails[value co "@acme.com"]`. */
  filter?: string;
  /** 1-based (default 1). */
  startIndex?: number;
  /** Page size (default 100, at most 1000). */
  count?: number;
  /** An attribute path, e.g. `userName` or `meta.lastModified`. */
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
}

export interface ScimListOptions extends DirectoryListOptions {
  /** Only these attributes (comma-separated or a list), as SCIM's `attributes`. */
  attributes?: string | string[];
  /** All but these, as SCIM's `excludedAttributes`. */
  excludedAttributes?: string | string[];
}

export interface Page<T> {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  items: T[];
}

export interface DirectoryUser extends UserView {
  groups: { id: string; displayName: string }[];
}

export interface DirectoryGroup extends GroupView {
  /** Members in the order they were added; `display` is the displayName, else the userName. */
  members: { id: string; display: string | null }[];
}

/** A SCIM resource as the API serves it. */
export interface ScimResource {
  schemas: string[];
  id: string;
  meta: { resourceType: string; created: string; lastModified: string; location: string; version: string };
  [attribute: string]: unknown;
}

export interface ScimListResponse {
  schemas: string[];
  totalResults: number;
  itemsPerPage: number;
  startIndex: number;
  Resources: ScimResource[];
}

export interface ResourceDirectory<T> {
  list(connectionId: string, opts?: DirectoryListOptions): Promise<Page<T>>;
  /** Undefined when the connection has no such (live) resource. */
  get(connectionId: string, id: string): Promise<T | undefined>;
  listScim(connectionId: string, opts?: ScimListOptions): Promise<ScimListResponse>;
  getScim(connectionId: string, id: string): Promise<ScimResource | undefined>;
}

export interface RollcallDirectory {
  readonly users: ResourceDirectory<DirectoryUser>;
  readonly groups: ResourceDirectory<DirectoryGroup>;
  /** The connection's SCIM base URL (public URL + prefix + id), to give to the IdP. */
  scimUrl(connectionId: string): string;
  /**
   * The RequestContext the lower-level `rollcall.users` / `rollcall.groups` methods
   * take (create, replace, patch, delete …), built from the connection's record.
   */
  context(connectionId: string): Promise<RequestContext>;
}

export interface RollcallDirectoryOptions {
  /** Base of SCIM locations (default `rollcall.publicUrl`). */
  publicUrl?: string;
  /** Where the SCIM API is mounted (default '/scim/v2'). */
  prefix?: string;
}

/** The context for reads and writes on `connectionId` outside an HTTP request. */
export async function connectionContext(rollcall: Rollcall, connectionId: string, baseUrl?: string): Promise<RequestContext> {
  if (typeof connectionId !== 'string' || connectionId === '') throw new TypeError('connectionId must be a non-empty string');
  const c = await rollcall.connections.show(connectionId);
  if (!c) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `Connection '${connectionId}' not found.`);
  return requestContext(c.id, c, baseUrl ?? c.scimUrl);
}

function listSource(opts: ScimListOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function parse(rt: ResourceTypeDef, opts: ScimListOptions | undefined, limits: ScimLimits) {
  return parseListRequest(rt, listSource(opts), limits);
}

/** undefined for a 404 from the directory (no such resource in this connection). */
async function orUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (isRollcallError(e) && e.status === 404) return undefined;
    throw e;
  }
}

function groupsOfUser(groups: GroupRef[] | undefined): DirectoryUser['groups'] {
  return (groups ?? []).map((g) => ({ id: g.value, displayName: g.display }));
}

function membersOfGroup(members: MemberView[] | undefined): DirectoryGroup['members'] {
  return (members ?? []).map((m) => ({ id: m.value, display: m.display }));
}

export function rollcallDirectory(rollcall: Rollcall, opts: RollcallDirectoryOptions = {}): RollcallDirectory {
  if (!rollcall || typeof rollcall.users?.list !== 'function') throw new TypeError('rollcallDirectory: pass the Rollcall instance (from createRollcall)');
  const publicUrl = opts.publicUrl ?? rollcall.publicUrl;
  const prefix = opts.prefix ?? DEFAULT_SCIM_PREFIX;
  const scimUrl = (connectionId: string) => scimBaseUrl(publicUrl, prefix, connectionId);
  const context = (connectionId: string) => connectionContext(rollcall, connectionId, scimUrl(connectionId));

  const userOf = (ctx: RequestContext, rec: UserRecord): DirectoryUser => ({
    ...userView(ctx, rec.row, rec.doc as Doc),
    groups: groupsOfUser(rec.groups),
  });
  const groupOf = (rec: GroupRecord, members: MemberView[] | undefined): DirectoryGroup => ({
    ...groupView(rec.row),
    members: membersOfGroup(members),
  });
  const page = <T>(total: number, startIndex: number, items: T[]): Page<T> => ({ totalResults: total, startIndex, itemsPerPage: items.length, items });

  const users: ResourceDirectory<DirectoryUser> = {
    async list(connectionId, o) {
      const ctx = await context(connectionId);
      const { params } = parse(userResourceType, o, rollcall.limits);
      const { total, records } = await rollcall.users.list(ctx, params);
      return page(total, params.startIndex, records.map((r) => userOf(ctx, r)));
    },
    async get(connectionId, id) {
      const ctx = await context(connectionId);
      return orUndefined(async () => {
        const { row, groups } = await rollcall.users.getForRead(ctx, id);
        return userOf(ctx, { row, doc: JSON.parse(row.doc) as Doc, groups });
      });
    },
    async listScim(connectionId, o) {
      const ctx = await context(connectionId);
      const { params, projection } = parse(userResourceType, o, rollcall.limits);
      const { total, records } = await rollcall.users.list(ctx, params);
      const resources = records.map((r) => project(userToScim(ctx, r, r.groups), projection));
      return listResponse(resources, total, params.startIndex) as unknown as ScimListResponse;
    },
    async getScim(connectionId, id) {
      const ctx = await context(connectionId);
      return orUndefined(async () => {
        const { row, groups } = await rollcall.users.getForRead(ctx, id);
        return userToScim(ctx, { row, doc: JSON.parse(row.doc) as Doc }, groups) as unknown as ScimResource;
      });
    },
  };

  const groups: ResourceDirectory<DirectoryGroup> = {
    async list(connectionId, o) {
      const ctx = await context(connectionId);
      const { params } = parse(groupResourceType, o, rollcall.limits);
      const { total, records } = await rollcall.groups.list(ctx, params);
      const members = records.length ? await rollcall.groups.membersOf(records.map((r) => r.row.id)) : new Map<string, MemberView[]>();
      return page(total, params.startIndex, records.map((r) => groupOf(r, members.get(r.row.id))));
    },
    async get(connectionId, id) {
      const ctx = await context(connectionId);
      return orUndefined(async () => {
        const rec = await rollcall.groups.getForRead(ctx, id);
        const members = await rollcall.groups.membersOf([rec.row.id]);
        return groupOf(rec, members.get(rec.row.id));
      });
    },
    async listScim(connectionId, o) {
      const ctx = await context(connectionId);
      const { params, projection } = parse(groupResourceType, o, rollcall.limits);
      const { total, records } = await rollcall.groups.list(ctx, params);
      const members = records.length ? await rollcall.groups.membersOf(records.map((r) => r.row.id)) : new Map<string, MemberView[]>();
      const resources: Json[] = records.map((r) => project(groupToScim(ctx, r, members.get(r.row.id) ?? []), projection));
      return listResponse(resources, total, params.startIndex) as unknown as ScimListResponse;
    },
    async getScim(connectionId, id) {
      const ctx = await context(connectionId);
      return orUndefined(async () => {
        const rec = await rollcall.groups.getForRead(ctx, id);
        const members = await rollcall.groups.membersOf([rec.row.id]);
        return groupToScim(ctx, rec, members.get(rec.row.id) ?? []) as unknown as ScimResource;
      });
    },
  };

  return { users, groups, scimUrl, context };
}
