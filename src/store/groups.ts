/** SQL for groups and memberships. Membership changes are set operations on rows. */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { groupResourceType } from '../scim/schemas.js';
import type { DB, GroupsTable } from './types.js';
import type { SqlDialect } from './dialect.js';
import { compileFilter, compileSortKey } from './filter-sql.js';
import { chunks } from './errors.js';
import type { ListQuery } from './users.js';

export type GroupRow = GroupsTable;

export async function insertGroup(db: Kysely<DB>, row: GroupRow): Promise<void> {
  await db.insertInto('groups').values(row).execute();
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
    connection_id: connectionId,
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
    .values(fresh)
    .onConflict((oc) => oc.columns(['connection_id', 'display_name_lc']).doNothing())
    .execute();
  const group = (await findGroupByName(db, connectionId, name, lock))!;
  return { group, created: group.id === fresh.id };
}

/**
 * Locks these users' rows (in id order, so two writers never wait on each other in
 * a cycle). Taken before the exclusive-group check, so a concurrent change of the
 * same users' memberships is seen, not raced.
 */
export async function lockUsers(db: Kysely<DB>, ids: string[]): Promise<void> {
  for (const part of chunks([...new Set(ids)].sort())) {
    await db.selectFrom('users').select('id').where('id', 'in', part).orderBy('id').forUpdate().execute();
  }
}

/**
 * Locks the groups these users belong to, in id order. Writers take groups before
 * users (a group PATCH locks its group, then its members), so a write that starts
 * from a user — rename, delete, purge — takes the user's groups first as well.
 */
export async function lockGroupsOf(db: Kysely<DB>, userIds: string[]): Promise<void> {
  for (const part of chunks([...new Set(userIds)])) {
    await db
      .selectFrom('groups')
      .select('id')
      .where('id', 'in', (eb) => eb.selectFrom('memberships').select('group_id').where('member_id', 'in', part))
      .orderBy('id')
      .forUpdate()
      .execute();
  }
}

/** The members of these groups with the group's name: who leaves which group when users go for good. */
export async function membershipsOf(db: Kysely<DB>, userIds: string[]): Promise<{ member_id: string; group_id: string; display_name: string }[]> {
  const out: { member_id: string; group_id: string; display_name: string }[] = [];
  for (const part of chunks([...new Set(userIds)])) {
    out.push(
      ...(await db
        .selectFrom('memberships')
        .innerJoin('groups', 'groups.id', 'memberships.group_id')
        .select(['memberships.member_id as member_id', 'groups.id as group_id', 'groups.display_name as display_name'])
        .where('memberships.member_id', 'in', part)
        .orderBy('groups.id')
        .execute()),
    );
  }
  return out;
}

/**
 * With `lock` (PostgreSQL, inside a write) the group stays locked until the
 * transaction ends: member changes to one group queue up instead of racing.
 */
export async function getGroup(db: Kysely<DB>, connectionId: string, id: string, lock = false): Promise<GroupRow | undefined> {
  const q = db.selectFrom('groups').selectAll().where('id', '=', id).where('connection_id', '=', connectionId);
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

export async function updateGroup(db: Kysely<DB>, connectionId: string, id: string, version: number, values: Partial<GroupRow>): Promise<boolean> {
  const res = await db
    .updateTable('groups')
    .set(values)
    .where('id', '=', id)
    .where('connection_id', '=', connectionId)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function deleteGroup(db: Kysely<DB>, connectionId: string, id: string, version: number | undefined, now: string, lock = false): Promise<boolean> {
  await touchMembersOf(db, id, now, lock);
  await db.deleteFrom('memberships').where('group_id', '=', id).where('connection_id', '=', connectionId).execute();
  let q = db.deleteFrom('groups').where('id', '=', id).where('connection_id', '=', connectionId);
  if (version !== undefined) q = q.where('version', '=', version);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

export async function listGroups(db: Kysely<DB>, dialect: SqlDialect, connectionId: string, q: ListQuery) {
  const target = { rt: groupResourceType, dialect, connectionId };
  let base = db.selectFrom('groups').where('groups.connection_id', '=', connectionId);
  if (q.filter) base = base.where(compileFilter(target, q.filter) as never);
  const sortKey = q.sortBy ? compileSortKey(target, q.sortBy) : undefined;
  const count = async () => Number((await base.select(sql<number>`count(*)`.as('n')).executeTakeFirst())?.n ?? 0);
  if (q.limit === 0) return { total: await count(), rows: [] as GroupRow[] };
  let page = base.selectAll('groups');
  if (sortKey) page = page.orderBy(sortKey as never, q.descending ? 'desc' : 'asc');
  const rows = await page.orderBy('groups.created_at').orderBy('groups.id').limit(q.limit).offset(q.offset).execute();
  // A first page that is not full is everything: no count query.
  const total = q.offset === 0 && rows.length < q.limit ? rows.length : await count();
  return { total, rows };
}

export interface MemberView {
  value: string;
  display: string | null;
}

export async function membersOf(db: Kysely<DB>, groupIds: string[]): Promise<Map<string, MemberView[]>> {
  const out = new Map<string, MemberView[]>();
  for (const part of chunks(groupIds)) {
    const rows = await db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.member_id')
      .select(['memberships.group_id as group_id', 'users.id as id', 'users.display_name as display_name', 'users.user_name as user_name'])
      .where('memberships.group_id', 'in', part)
      .orderBy('memberships.created_at')
      .orderBy('users.id')
      .execute();
    for (const r of rows) {
      let list = out.get(r.group_id);
      if (!list) out.set(r.group_id, (list = []));
      list.push({ value: r.id, display: r.display_name ?? r.user_name });
    }
  }
  return out;
}

/** Adds members; existing memberships are left alone. Returns the ids that were new. */
export async function addMembers(db: Kysely<DB>, connectionId: string, groupId: string, ids: string[], now: string): Promise<string[]> {
  const added: string[] = [];
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db
      .insertInto('memberships')
      .values(part.map((id) => ({ group_id: groupId, member_id: id, connection_id: connectionId, created_at: now })))
      .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
      .returning('member_id')
      .execute();
    for (const r of rows) added.push(r.member_id);
  }
  return added;
}

/** Removes the given members; returns the ids that were members. */
export async function removeMembers(db: Kysely<DB>, groupId: string, ids: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db.deleteFrom('memberships').where('group_id', '=', groupId).where('member_id', 'in', part).returning('member_id').execute();
    for (const r of rows) removed.push(r.member_id);
  }
  return removed;
}

export async function removeAllMembers(db: Kysely<DB>, groupId: string): Promise<string[]> {
  const rows = await db.deleteFrom('memberships').where('group_id', '=', groupId).returning('member_id').execute();
  return rows.map((r) => r.member_id);
}

/**
 * A user's representation lists its groups, so a membership change is a change of
 * the user too: its version (ETag) and lastModified move.
 */
export async function touchUsers(db: Kysely<DB>, ids: string[], now: string): Promise<void> {
  for (const part of chunks(ids)) {
    await db
      .updateTable('users')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
      .where('id', 'in', part)
      .execute();
  }
}

/** Members of a group see its name in their `groups`: touch them when it changes or goes. */
export async function touchMembersOf(db: Kysely<DB>, groupId: string, now: string, lock = false): Promise<void> {
  if (lock) {
    // In id order, like every lock on users (see lockUsers).
    await db
      .selectFrom('users')
      .select('id')
      .where('id', 'in', (eb) => eb.selectFrom('memberships').select('member_id').where('group_id', '=', groupId))
      .orderBy('id')
      .forUpdate()
      .execute();
  }
  await db
    .updateTable('users')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('id', 'in', (eb) => eb.selectFrom('memberships').select('member_id').where('group_id', '=', groupId))
    .execute();
}

/** Groups show their members' names: touch a user's groups when the name changes or the user goes. */
export async function touchGroupsOf(db: Kysely<DB>, userId: string, now: string): Promise<void> {
  await db
    .updateTable('groups')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('id', 'in', (eb) => eb.selectFrom('memberships').select('group_id').where('member_id', '=', userId))
    .execute();
}

/** Ids among `ids` that are groups of this connection (to refuse nested groups clearly). */
export async function existingGroupIds(db: Kysely<DB>, connectionId: string, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(ids)) {
    const rows = await db.selectFrom('groups').select('id').where('connection_id', '=', connectionId).where('id', 'in', part).execute();
    for (const r of rows) found.add(r.id);
  }
  return found;
}

/** Current member ids of one group (ids only: used to diff a PUT's full member list). */
export async function memberIds(db: Kysely<DB>, groupId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('memberships').select('member_id').where('group_id', '=', groupId).execute();
  return new Set(rows.map((r) => r.member_id));
}

/** With `lock` (PostgreSQL, inside a write) a concurrent DELETE of the group waits for this transaction. */
export async function findGroupByName(db: Kysely<DB>, connectionId: string, name: string, lock = false): Promise<GroupRow | undefined> {
  const q = db.selectFrom('groups').selectAll().where('connection_id', '=', connectionId).where('display_name_lc', '=', name.toLowerCase());
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

/** The groups (other than `exceptGroupId`) that these users already belong to: for exclusive groups. */
export async function otherGroupsOf(db: Kysely<DB>, userIds: string[], exceptGroupId: string | null): Promise<{ member_id: string; group_id: string; display_name: string }[]> {
  const out: { member_id: string; group_id: string; display_name: string }[] = [];
  for (const part of chunks([...new Set(userIds)])) {
    let q = db
      .selectFrom('memberships')
      .innerJoin('groups', 'groups.id', 'memberships.group_id')
      .select(['memberships.member_id as member_id', 'groups.id as group_id', 'groups.display_name as display_name'])
      .where('memberships.member_id', 'in', part);
    if (exceptGroupId) q = q.where('memberships.group_id', '<>', exceptGroupId);
    out.push(...(await q.execute()));
  }
  return out;
}

/** A group's membership changed without a SCIM request about it (group rules): move its version. */
export async function touchGroup(db: Kysely<DB>, groupId: string, now: string): Promise<void> {
  await db
    .updateTable('groups')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', groupId)
    .execute();
}
