/** SQL for users and their e-mail index rows. No domain rules here. */
import { type Kysely, sql } from 'kysely';
import type { Filter, AttrPath } from '../scim/filter/ast.js';
import { userResourceType } from '../scim/schemas.js';
import type { DB, UsersTable } from './types.js';
import { tenantOf } from './tenant.js';
import type { SqlDialect } from './dialect.js';
import { compileFilter } from './filter-sql.js';
import { compileSortKey } from './sort-sql.js';
import { chunked } from './chunks.js';
import { prepared } from './prepared.js';
import { lockGroupsOf, membershipsOf, touchGroupsOf } from './memberships.js';
import { type ListQuery, type Scan, scanOn } from './list-query.js';

export type { ListQuery } from './list-query.js';

/** A user row as the directory handles it: every column but the tenant key, which only SQL uses (tenant.ts). */
export type UserRow = Omit<UsersTable, 'tenant'>;

export interface EmailRow {
  value?: string;
  type?: string;
  primary?: boolean;
}

const deleteEmails = prepared((db: Kysely<DB>, userId: string) => db.deleteFrom('user_emails').where('user_id', '=', userId), 1);

const insertEmail = prepared(
  (db: Kysely<DB>, userId: string, connectionId: string, valueLc: string, type: string | null, primary: number | null) =>
    db.insertInto('user_emails').values({ user_id: userId, tenant: tenantOf(connectionId), value_lc: valueLc, type, primary }),
  5,
);

async function writeEmails(db: Kysely<DB>, connectionId: string, userId: string, emails: EmailRow[], fresh = false) {
  if (!fresh) await deleteEmails(db, userId);
  for (const e of emails) {
    // Absent stays absent: `emails[primary eq false]` must not match an e-mail without the flag.
    const primary = e.primary === undefined ? null : e.primary ? 1 : 0;
    await insertEmail(db, userId, connectionId, (e.value ?? '').toLowerCase(), e.type ? e.type.toLowerCase() : null, primary);
  }
}

const USER_COLUMNS = [
  'id',
  'user_name',
  'user_name_lc',
  'external_id',
  'external_key',
  'display_name',
  'display_name_lc',
  'active',
  'state',
  'version',
  'created_at',
  'updated_at',
  'deactivated_at',
  'deleted_at',
  'doc',
  'app',
] as const satisfies readonly (keyof UserRow)[];
// Every column, or an insert silently leaves one at its default: a compile error instead.
const everyColumn: Exclude<keyof UserRow, (typeof USER_COLUMNS)[number]> extends never ? true : never = true;
void everyColumn;

/** The insert has one shape: built and compiled once (it runs for every created user). The connection id comes last. */
const insertUserRow = prepared(
  (db: Kysely<DB>, ...values: unknown[]) =>
    db
      .insertInto('users')
      .values({
        ...(Object.fromEntries(USER_COLUMNS.map((c, i) => [c, values[i]])) as unknown as UserRow),
        tenant: tenantOf(values[USER_COLUMNS.length] as string),
      }),
  USER_COLUMNS.length + 1,
);

export async function insertUser(db: Kysely<DB>, connectionId: string, row: UserRow, emails: EmailRow[]): Promise<void> {
  await insertUserRow(db, ...USER_COLUMNS.map((c) => row[c]), connectionId);
  await writeEmails(db, connectionId, row.id, emails, true);
}

export async function getUser(db: Kysely<DB>, connectionId: string, id: string): Promise<UserRow | undefined> {
  return (await selectUser(db, id, connectionId)).rows[0];
}

const selectUser = prepared(
  (db: Kysely<DB>, id: string, connectionId: string) =>
    db.selectFrom('users').selectAll().where('id', '=', id).where('tenant', '=', tenantOf(connectionId)).where('state', '<>', 'deleted'),
  2,
);

/** A live user with its groups as JSON text, in one statement (GET /Users/{id}). */
export function userWithGroupsQuery(dialect: SqlDialect) {
  return prepared(
    (db: Kysely<DB>, id: string, connectionId: string) =>
      db
        .selectFrom('users')
        .selectAll()
        .select(dialect.userGroupsJson(sql.ref('users.id')).as('groups_json'))
        .where('id', '=', id)
        .where('tenant', '=', tenantOf(connectionId))
        .where('state', '<>', 'deleted'),
    2,
  );
}

/**
 * Conditional update: applies only when the stored version is still `version`
 * (optimistic concurrency; the caller retries or answers 412).
 */
export async function updateUser(
  db: Kysely<DB>,
  connectionId: string,
  id: string,
  version: number,
  values: Partial<UserRow>,
  emails?: EmailRow[],
): Promise<boolean> {
  const res = await db
    .updateTable('users')
    .set(values)
    .where('id', '=', id)
    .where('tenant', '=', tenantOf(connectionId))
    .where('version', '=', version)
    .where('state', '<>', 'deleted')
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return false;
  if (emails) await writeEmails(db, connectionId, id, emails);
  return true;
}

/**
 * Soft delete: the row stays (restore window) but leaves every group. Undefined
 * when there was no live user (or its version moved); else the row as stored now
 * and the groups it left.
 */
export async function softDeleteUser(
  db: Kysely<DB>,
  connectionId: string,
  id: string,
  version: number | undefined,
  now: string,
): Promise<{ row: UserRow; groups: { id: string; display_name: string }[] } | undefined> {
  let q = db
    .updateTable('users')
    .set((eb) => ({ state: 'deleted', deleted_at: now, updated_at: now, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('tenant', '=', tenantOf(connectionId))
    .where('state', '<>', 'deleted');
  if (version !== undefined) q = q.where('version', '=', version);
  const row = await q.returningAll().executeTakeFirst();
  if (!row) return undefined;
  await touchGroupsOf(db, id, now);
  const groups = (await membershipsOf(db, [id])).map((m) => ({ id: m.group_id, display_name: m.display_name }));
  await db.deleteFrom('memberships').where('member_id', '=', id).execute();
  return { row, groups };
}

/**
 * The lookups IdPs make on every sync — `userName eq "…"`, `externalId eq "…"`,
 * `id eq "…"`, first page, no sort — as prepared statements, one per attribute and
 * dialect: building and compiling the general query costs more than running it.
 */
const LOOKUP_COLUMNS = { userName: 'user_name_lc', externalId: 'external_id', id: 'id' } as const;
const lookupQueries = new Map<string, ReturnType<typeof lookupQuery>>();

function lookupQuery(dialect: SqlDialect, column: (typeof LOOKUP_COLUMNS)[keyof typeof LOOKUP_COLUMNS]) {
  return prepared(
    (db: Kysely<DB>, connectionId: string, value: string, limit: number) =>
      db
        .selectFrom('users')
        .selectAll('users')
        .select(dialect.userGroupsJson(sql.ref('users.id')).as('groups_json'))
        .where('users.tenant', '=', tenantOf(connectionId))
        .where('users.state', '<>', 'deleted')
        .where(`users.${column}`, '=', value)
        .orderBy('users.created_at')
        .orderBy('users.id')
        .limit(limit),
    3,
  );
}

/** The value of a simple `attr eq "value"` lookup on an indexed column, if the filter is one. */
function simpleLookup(q: ListQuery): { column: (typeof LOOKUP_COLUMNS)[keyof typeof LOOKUP_COLUMNS]; value: string } | undefined {
  const f = q.filter;
  if (!f || f.kind !== 'compare' || f.op !== 'eq' || q.sortBy || q.offset !== 0 || q.limit === 0) return undefined;
  if (f.path.sub !== undefined || (f.path.uri !== undefined && f.path.uri.toLowerCase() !== userResourceType.schema.id.toLowerCase())) return undefined;
  const name = Object.keys(LOOKUP_COLUMNS).find((k) => k.toLowerCase() === f.path.attr.toLowerCase()) as keyof typeof LOOKUP_COLUMNS | undefined;
  if (!name) return undefined;
  const raw = typeof f.value.value === 'string' ? f.value.value : f.value.raw;
  if (raw === undefined || f.value.value === null || typeof f.value.value === 'boolean') return undefined;
  // userName compares case-insensitively (folded column); id and externalId exactly.
  return { column: LOOKUP_COLUMNS[name], value: name === 'userName' ? raw.toLowerCase() : raw };
}

/**
 * One page of a SCIM list. An indexed `eq` lookup (the IdPs' every-request case)
 * runs at once on `db`; anything else may scan and goes through `scan`.
 */
export async function listUsers(db: Kysely<DB>, dialect: SqlDialect, connectionId: string, q: ListQuery, scan: Scan = scanOn(db)) {
  const lookup = simpleLookup(q);
  if (lookup) {
    const key = `${dialect.name}:${lookup.column}`;
    let run = lookupQueries.get(key);
    if (!run) lookupQueries.set(key, (run = lookupQuery(dialect, lookup.column)));
    const { rows } = await run(db, connectionId, lookup.value, q.limit + 1);
    // One row more than the page tells whether the page is all there is.
    if (rows.length <= q.limit) return { total: rows.length, rows: rows as (UserRow & { groups_json?: string | null })[] };
  }
  const target = { rt: userResourceType, dialect, connectionId };
  let base = db.selectFrom('users').where('users.tenant', '=', tenantOf(connectionId)).where('users.state', '<>', 'deleted');
  if (q.filter) {
    const cond = compileFilter(target, q.filter);
    base = base.where(cond as never);
  }
  // Compiled before counting, so a bad sortBy is refused even when nothing matches.
  const sortKey = q.sortBy ? compileSortKey(target, q.sortBy) : undefined;
  const count = async () => Number((await scan(base.select(sql<number>`count(*)`.as('n'))))[0]?.n ?? 0);
  if (q.limit === 0) return { total: await count(), rows: [] as (UserRow & { groups_json?: string | null })[] };
  // Each user's groups come with it (one statement for the page).
  let page = base.selectAll('users').select(dialect.userGroupsJson(sql.ref('users.id')).as('groups_json'));
  if (sortKey) page = page.orderBy(sortKey as never, q.descending ? 'desc' : 'asc');
  const rows = (await scan(page.orderBy('users.created_at').orderBy('users.id').limit(q.limit).offset(q.offset))) as (UserRow & {
    groups_json?: string | null;
  })[];
  // A first page that is not full is everything: no count query (the common IdP
  // lookup, `userName eq "…"`, costs one statement).
  const total = q.offset === 0 && rows.length < q.limit ? rows.length : await count();
  return { total, rows };
}

/** Live users of a connection after `afterId` in id order, with their groups: pages for a full export (no count, no offset). */
export async function usersAfter(db: Kysely<DB>, dialect: SqlDialect, connectionId: string, afterId: string, limit: number) {
  return (await db
    .selectFrom('users')
    .selectAll('users')
    .select(dialect.userGroupsJson(sql.ref('users.id')).as('groups_json'))
    .where('users.tenant', '=', tenantOf(connectionId))
    .where('users.state', '<>', 'deleted')
    .where('users.id', '>', afterId)
    .orderBy('users.id')
    .limit(limit)
    .execute()) as (UserRow & { groups_json?: string | null })[];
}

/**
 * Lookups by a list of ids read the rows by primary key (with their connection id
 * from the tenant key's primary key) and check the connection and state here:
 * with the connection in the SQL, SQLite's planner chose a
 * connection index and walked every user of the connection for each chunk (4.6 ms
 * for a PATCH adding 50 members at 10,000 users).
 */
const isLive = (connectionId: string) => (r: { connection_id: string; state: string }) => r.connection_id === connectionId && r.state !== 'deleted';

/** Existing live user ids among `ids` in a connection (membership checks). */
export async function existingUserIds(db: Kysely<DB>, connectionId: string, ids: string[], lock = false): Promise<Set<string>> {
  const found = new Set<string>();
  const live = isLive(connectionId);
  for await (const part of chunked(lock ? [...new Set(ids)].sort() : ids)) {
    const q = db.selectFrom('users').innerJoin('tenants', 'tenants.tenant', 'users.tenant').select(['users.id', 'tenants.connection_id', 'users.state']).where('users.id', 'in', part);
    // Locking: only this connection's rows, so ids of another tenant's users never hold its rows.
    const rows = await (lock ? q.where('users.tenant', '=', tenantOf(connectionId)).orderBy('users.id').forUpdate('users') : q).execute();
    for (const r of rows) if (live(r)) found.add(r.id);
  }
  return found;
}

/** How membership events name users: a few columns of each, in id chunks. */
export async function memberRefs(db: Kysely<DB>, ids: string[]): Promise<Map<string, { id: string; userName: string; externalId: string | null; displayName: string | null }>> {
  const out = new Map<string, { id: string; userName: string; externalId: string | null; displayName: string | null }>();
  for await (const part of chunked(ids)) {
    const rows = await db.selectFrom('users').select(['id', 'user_name', 'external_id', 'display_name']).where('id', 'in', part).execute();
    for (const r of rows) out.set(r.id, { id: r.id, userName: r.user_name, externalId: r.external_id, displayName: r.display_name });
  }
  return out;
}

/** A live (active or deactivated) user with this externalId: the mapping key must stay unique. */
export async function findLiveByExternalId(db: Kysely<DB>, connectionId: string, externalId: string): Promise<{ id: string; user_name: string } | undefined> {
  return (await selectLiveByExternalId(db, connectionId, externalId)).rows[0];
}

// Two columns, not the row: this runs before every create, and materialising all
// columns of a row costs several times the index lookup.
const selectLiveByExternalId = prepared(
  (db: Kysely<DB>, connectionId: string, externalId: string) =>
    db
      .selectFrom('users')
      .select(['id', 'user_name'])
      .where('tenant', '=', tenantOf(connectionId))
      .where('external_id', '=', externalId)
      .where('state', '<>', 'deleted'),
  2,
);

/** The most recently deleted user with this mapping key, deleted after `since` (still restorable). */
export async function findRestorable(
  db: Kysely<DB>,
  connectionId: string,
  key: 'externalId' | 'userName',
  value: string,
  since: string,
  /** Lock the row (PostgreSQL): a concurrent purge skips it, a concurrent restore waits. */
  lock = false,
): Promise<UserRow | undefined> {
  // The literal (not a parameter) lets SQLite use the partial indexes on deleted users.
  let q = db.selectFrom('users').selectAll().where('tenant', '=', tenantOf(connectionId)).where(sql.ref('state'), '=', sql.lit('deleted')).where('deleted_at', '>', since);
  q = key === 'externalId' ? q.where('external_id', '=', value) : q.where('user_name_lc', '=', value.toLowerCase());
  // No LIMIT: with one, SQLite's planner walks another index (measured 9× slower).
  q = q.orderBy('deleted_at', 'desc');
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

/** Brings a soft-deleted user back with new values: same row, same id. */
export async function restoreUser(db: Kysely<DB>, connectionId: string, id: string, values: Partial<UserRow>, emails: EmailRow[]): Promise<boolean> {
  const res = await db
    .updateTable('users')
    .set(values)
    .where('id', '=', id)
    .where('tenant', '=', tenantOf(connectionId))
    .where('state', '=', 'deleted')
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return false;
  await writeEmails(db, connectionId, id, emails);
  return true;
}

/**
 * Claims up to `limit` users due for purge — deleted before `deletedBefore` or,
 * when given, deactivated before `deactivatedBefore` — and removes them for good.
 * E-mail rows and memberships go with them (foreign keys cascade). With
 * `skipLocked` (PostgreSQL) the rows are claimed FOR UPDATE SKIP LOCKED, so
 * purge jobs of several instances split the work instead of colliding, and a
 * user being restored right now is left for the next round. Returns the purged rows.
 */
export async function purgeUsers(
  db: Kysely<DB>,
  q: { connectionId: string; deletedBefore: string; deactivatedBefore: string | null; now: string; limit: number; skipLocked: boolean; after: string | null },
): Promise<{ rows: UserRow[]; memberships: { member_id: string; group_id: string; display_name: string }[]; last: string | null }> {
  // A sweep in id order (`after` = the last id this sweep looked at): a worker
  // moves past rows another worker holds instead of meeting them again.
  const due = () => {
    let query = db
      .selectFrom('users')
      .where('tenant', '=', tenantOf(q.connectionId))
      // Implied by the terms below; stated so the planner may use users_inactive.
      .where('state', '<>', 'active')
      .where((eb) => {
        const deleted = eb.and([eb('state', '=', 'deleted'), eb('deleted_at', '<=', q.deletedBefore)]);
        if (q.deactivatedBefore === null) return deleted;
        return eb.or([deleted, eb.and([eb('state', '=', 'deactivated'), eb('deactivated_at', '<=', q.deactivatedBefore)])]);
      });
    if (q.after !== null) query = query.where('id', '>', q.after);
    return query.orderBy('id').limit(q.limit);
  };
  let rows: UserRow[];
  let last: string | null;
  if (q.skipLocked) {
    // Groups before users, like every other writer: lock the candidates' groups,
    // then claim the users that no one else holds.
    const candidates = (await due().select('id').execute()).map((r) => r.id);
    last = candidates.length === q.limit ? candidates[candidates.length - 1]! : null;
    if (!candidates.length) return { rows: [], memberships: [], last };
    await lockGroupsOf(db, candidates);
    rows = await due().selectAll().where('id', 'in', candidates).forUpdate().skipLocked().execute();
  } else {
    rows = await due().selectAll().execute();
    last = rows.length === q.limit ? rows[rows.length - 1]!.id : null;
  }
  if (!rows.length) return { rows, memberships: [], last };
  const ids = rows.map((r) => r.id);
  // Deactivated users are still members: their groups lose them, so their versions move.
  const memberships = await membershipsOf(db, ids);
  await db
    .updateTable('groups')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: q.now }))
    .where('id', 'in', (eb) => eb.selectFrom('memberships').select('group_id').where('member_id', 'in', ids))
    .execute();
  await db.deleteFrom('users').where('id', 'in', ids).execute();
  return { rows, memberships, last };
}

/** Live (not deleted) users of a connection by id, in id order. */
export async function liveUsersByIds(db: Kysely<DB>, connectionId: string, ids: string[]): Promise<UserRow[]> {
  const out: UserRow[] = [];
  for await (const part of chunked([...new Set(ids)])) {
    const rows = await db.selectFrom('users').innerJoin('tenants', 'tenants.tenant', 'users.tenant').selectAll('users').select('tenants.connection_id').where('users.id', 'in', part).orderBy('users.id').execute();
    out.push(...rows.filter(isLive(connectionId)).map(({ connection_id: _, ...row }) => row));
  }
  return out;
}

/** `id` and `app` of a connection's live users by id (what a role check reads). */
export async function liveUserApps(db: Kysely<DB>, connectionId: string, ids: string[]): Promise<{ id: string; app: string }[]> {
  const rows = await db.selectFrom('users').innerJoin('tenants', 'tenants.tenant', 'users.tenant').select(['users.id', 'users.app', 'tenants.connection_id', 'users.state']).where('users.id', 'in', ids).execute();
  return rows.filter(isLive(connectionId)).map((r) => ({ id: r.id, app: r.app }));
}

/** Ids of a connection's live users after `afterId`, in id order (a role recomputation's pages). */
export async function liveUserIdsAfter(db: Kysely<DB>, connectionId: string, afterId: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('users').select('id').where('tenant', '=', tenantOf(connectionId)).where('id', '>', afterId).where('state', '<>', 'deleted').orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

/** What the policies resolved for the host app (users.app), replaced: not a SCIM change, so no version bump. */
export async function setUserApp(db: Kysely<DB>, connectionId: string, id: string, app: string): Promise<void> {
  await db.updateTable('users').set({ app }).where('tenant', '=', tenantOf(connectionId)).where('id', '=', id).execute();
}
