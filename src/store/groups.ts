/** SQL for groups and memberships. Membership changes are set operations on rows. */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { groupResourceType } from '../scim/schemas.js';
import type { DB, GroupsTable } from './types.js';
import { tenantOf } from './tenant.js';
import type { SqlDialect } from './dialect.js';
import { compileFilter } from './filter-sql.js';
import { compileSortKey } from './sort-sql.js';
import { chunked } from './chunks.js';
import { touchMembersOf } from './memberships.js';
import { type ListQuery, type Scan, scanOn } from './list-query.js';

/** A group row as the directory handles it: every column but the tenant key, which only SQL uses (tenant.ts). */
export type GroupRow = Omit<GroupsTable, 'tenant'>;

export async function insertGroup(db: Kysely<DB>, connectionId: string, row: GroupRow): Promise<void> {
  await db.insertInto('groups').values({ ...row, tenant: tenantOf(connectionId) }).execute();
}

/**
 * The group with this name, created when missing (group rules, CSV import). The
 * insert yields to one a concurrent writer made first, so both end up with one
 * row instead of one failing on the unique index. `lock` as in findGroupByName.
 */
export async function groupByName(
  db: Kysely<DB>,
  connectionId: string,
  name: string,
  now: string,
  lock: boolean,
): Promise<{ group: GroupRow; created: boolean }> {
  const found = await findGroupByName(db, connectionId, name, lock);
  if (found) return { group: found, created: false };
  const fresh: GroupRow = {
    id: randomUUID(),
    display_name: name,
    display_name_lc: name.toLowerCase(),
    external_id: null,
    version: 1,
    created_at: now,
    updated_at: now,
    doc: JSON.stringify({ displayName: name }),
  };
  await db
    .insertInto('groups')
    .values({ ...fresh, tenant: tenantOf(connectionId) })
    .onConflict((oc) => oc.columns(['tenant', 'display_name_lc']).doNothing())
    .execute();
  const group = (await findGroupByName(db, connectionId, name, lock))!;
  return { group, created: group.id === fresh.id };
}

/**
 * With `lock` (PostgreSQL, inside a write) the group stays locked until the
 * transaction ends: member changes to one group queue up instead of racing.
 */
export async function getGroup(db: Kysely<DB>, connectionId: string, id: string, lock = false): Promise<GroupRow | undefined> {
  const q = db.selectFrom('groups').selectAll().where('id', '=', id).where('tenant', '=', tenantOf(connectionId));
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

export async function updateGroup(db: Kysely<DB>, connectionId: string, id: string, version: number, values: Partial<GroupRow>): Promise<boolean> {
  const res = await db
    .updateTable('groups')
    .set(values)
    .where('id', '=', id)
    .where('tenant', '=', tenantOf(connectionId))
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function deleteGroup(db: Kysely<DB>, connectionId: string, id: string, version: number | undefined, now: string, lock = false): Promise<boolean> {
  await touchMembersOf(db, id, now, lock);
  await db.deleteFrom('memberships').where('group_id', '=', id).where('tenant', '=', tenantOf(connectionId)).execute();
  let q = db.deleteFrom('groups').where('id', '=', id).where('tenant', '=', tenantOf(connectionId));
  if (version !== undefined) q = q.where('version', '=', version);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

/** `displayName`, `externalId` or `id` `eq` a value on the first page: an index answers it, no scan. */
function isIndexedLookup(q: ListQuery): boolean {
  const f = q.filter;
  if (!f || f.kind !== 'compare' || f.op !== 'eq' || q.sortBy || q.offset !== 0 || f.path.sub !== undefined) return false;
  if (f.path.uri !== undefined && f.path.uri.toLowerCase() !== groupResourceType.schema.id.toLowerCase()) return false;
  return ['displayname', 'externalid', 'id'].includes(f.path.attr.toLowerCase()) && f.value.value !== null && typeof f.value.value !== 'boolean';
}

/** One page of a SCIM list; like listUsers, anything but an indexed lookup goes through `scan`. */
export async function listGroups(db: Kysely<DB>, dialect: SqlDialect, connectionId: string, q: ListQuery, scan: Scan = scanOn(db)) {
  const run: Scan = isIndexedLookup(q) ? scanOn(db) : scan;
  const target = { rt: groupResourceType, dialect, connectionId };
  let base = db.selectFrom('groups').where('groups.tenant', '=', tenantOf(connectionId));
  if (q.filter) base = base.where(compileFilter(target, q.filter) as never);
  const sortKey = q.sortBy ? compileSortKey(target, q.sortBy) : undefined;
  const count = async () => Number((await run(base.select(sql<number>`count(*)`.as('n'))))[0]?.n ?? 0);
  if (q.limit === 0) return { total: await count(), rows: [] as GroupRow[] };
  let page = base.selectAll('groups');
  if (sortKey) page = page.orderBy(sortKey as never, q.descending ? 'desc' : 'asc');
  const rows = (await run(page.orderBy('groups.created_at').orderBy('groups.id').limit(q.limit).offset(q.offset))) as GroupRow[];
  // A first page that is not full is everything: no count query.
  const total = q.offset === 0 && rows.length < q.limit ? rows.length : await count();
  return { total, rows };
}

/** Groups of a connection after `afterId` in id order: pages for a full export. */
export function groupsAfter(db: Kysely<DB>, connectionId: string, afterId: string, limit: number): Promise<GroupRow[]> {
  return db.selectFrom('groups').selectAll('groups').where('groups.tenant', '=', tenantOf(connectionId)).where('groups.id', '>', afterId).orderBy('groups.id').limit(limit).execute();
}

/** Ids among `ids` that are groups of this connection (to refuse nested groups clearly). */
export async function existingGroupIds(db: Kysely<DB>, connectionId: string, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const part of chunked(ids)) {
    // By primary key, the connection checked here (see isLive in users.ts: the planner would walk the connection's groups).
    const rows = await db.selectFrom('groups').innerJoin('tenants', 'tenants.tenant', 'groups.tenant').select(['groups.id', 'tenants.connection_id']).where('groups.id', 'in', part).execute();
    for (const r of rows) if (r.connection_id === connectionId) found.add(r.id);
  }
  return found;
}

/** With `lock` (PostgreSQL, inside a write) a concurrent DELETE of the group waits for this transaction. */
export async function findGroupByName(db: Kysely<DB>, connectionId: string, name: string, lock = false): Promise<GroupRow | undefined> {
  const q = db.selectFrom('groups').selectAll().where('tenant', '=', tenantOf(connectionId)).where('display_name_lc', '=', name.toLowerCase());
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

/** A group's membership changed without a SCIM request about it (group rules): move its version. */
export async function touchGroup(db: Kysely<DB>, groupId: string, now: string): Promise<void> {
  await db
    .updateTable('groups')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', groupId)
    .execute();
}
