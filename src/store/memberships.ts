/**
 * Group memberships: who is in which group, the row locks that keep concurrent
 * member changes from racing, and the version bumps a membership change causes on
 * both sides (a user lists its groups, a group its members).
 */
import type { Kysely } from 'kysely';
import type { DB } from './types.js';
import { tenantOf } from './tenant.js';
import { chunked } from './chunks.js';

/** One user's membership of one group, with the group's name. */
export interface Membership {
  member_id: string;
  group_id: string;
  display_name: string;
}

/**
 * Locks these users' rows (in id order, so two writers never wait on each other in
 * a cycle). Taken before the exclusive-group check, so a concurrent change of the
 * same users' memberships is seen, not raced.
 */
export async function lockUsers(db: Kysely<DB>, ids: string[]): Promise<void> {
  for await (const part of chunked([...new Set(ids)].sort())) {
    await db.selectFrom('users').select('id').where('id', 'in', part).orderBy('id').forUpdate().execute();
  }
}

/**
 * Locks the groups these users belong to, in id order. Writers take groups before
 * users (a group PATCH locks its group, then its members), so a write that starts
 * from a user — rename, delete, purge — takes the user's groups first as well.
 */
export async function lockGroupsOf(db: Kysely<DB>, userIds: string[]): Promise<void> {
  for await (const part of chunked([...new Set(userIds)])) {
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
export async function membershipsOf(db: Kysely<DB>, userIds: string[], exceptGroupId: string | null = null): Promise<Membership[]> {
  const out: Membership[] = [];
  for await (const part of chunked([...new Set(userIds)])) {
    let q = db
      .selectFrom('memberships')
      .innerJoin('groups', 'groups.id', 'memberships.group_id')
      .select(['memberships.member_id as member_id', 'groups.id as group_id', 'groups.display_name as display_name'])
      .where('memberships.member_id', 'in', part);
    if (exceptGroupId) q = q.where('memberships.group_id', '<>', exceptGroupId);
    out.push(...(await q.orderBy('groups.id').execute()));
  }
  return out;
}

export interface MemberView {
  value: string;
  display: string | null;
}

export async function membersOf(db: Kysely<DB>, groupIds: string[]): Promise<Map<string, MemberView[]>> {
  const out = new Map<string, MemberView[]>();
  for await (const part of chunked(groupIds)) {
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
  for await (const part of chunked([...new Set(ids)])) {
    const rows = await db
      .insertInto('memberships')
      .values(part.map((id) => ({ group_id: groupId, member_id: id, tenant: tenantOf(connectionId), created_at: now })))
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
  for await (const part of chunked([...new Set(ids)])) {
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
  for await (const part of chunked(ids)) {
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

/** Current member ids of one group (ids only: used to diff a PUT's full member list). */
export async function memberIds(db: Kysely<DB>, groupId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('memberships').select('member_id').where('group_id', '=', groupId).execute();
  return new Set(rows.map((r) => r.member_id));
}

/** The groups (other than `exceptGroupId`) that these users already belong to: for exclusive groups. */
export function otherGroupsOf(db: Kysely<DB>, userIds: string[], exceptGroupId: string | null): Promise<Membership[]> {
  return membershipsOf(db, userIds, exceptGroupId);
}

/** The groups each user belongs to, for the read-only User `groups` attribute. */
export async function groupsOfUsers(db: Kysely<DB>, userIds: string[]): Promise<Map<string, { value: string; display: string }[]>> {
  const out = new Map<string, { value: string; display: string }[]>();
  for await (const part of chunked(userIds)) {
    const rows = await db
      .selectFrom('memberships')
      .innerJoin('groups', 'groups.id', 'memberships.group_id')
      .select(['memberships.member_id as member_id', 'groups.id as group_id', 'groups.display_name as display_name'])
      .where('memberships.member_id', 'in', part)
      .orderBy('groups.display_name_lc')
      .execute();
    for (const r of rows) {
      let list = out.get(r.member_id);
      if (!list) out.set(r.member_id, (list = []));
      list.push({ value: r.group_id, display: r.display_name });
    }
  }
  return out;
}

/** Each user's groups by name and externalId: what roleMapping rules match. */
export async function groupKeysOfUsers(db: Kysely<DB>, userIds: string[]): Promise<Map<string, { displayName: string; externalId: string | null }[]>> {
  const out = new Map<string, { displayName: string; externalId: string | null }[]>();
  for await (const part of chunked([...new Set(userIds)])) {
    const rows = await db
      .selectFrom('memberships')
      .innerJoin('groups', 'groups.id', 'memberships.group_id')
      .select(['memberships.member_id as member_id', 'groups.display_name as display_name', 'groups.external_id as external_id'])
      .where('memberships.member_id', 'in', part)
      .execute();
    for (const r of rows) {
      let list = out.get(r.member_id);
      if (!list) out.set(r.member_id, (list = []));
      list.push({ displayName: r.display_name, externalId: r.external_id });
    }
  }
  return out;
}
