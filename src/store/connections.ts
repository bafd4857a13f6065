/** SQL for organisations, connections and their bearer tokens (stored as hashes only). */
import { type Kysely, sql } from 'kysely';
import type { DB, ConnectionsTable, ConnectionTokensTable, OrganizationsTable } from './types.js';
import { addTenant, tenantOf } from './tenant.js';
import { prepared } from './prepared.js';

export type ConnectionRow = ConnectionsTable;
export type OrganizationRow = OrganizationsTable;

export async function insertOrganization(db: Kysely<DB>, row: OrganizationRow): Promise<void> {
  await db.insertInto('organizations').values(row).execute();
}

export async function getOrganization(db: Kysely<DB>, id: string): Promise<OrganizationRow | undefined> {
  return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listOrganizations(db: Kysely<DB>): Promise<OrganizationRow[]> {
  return db.selectFrom('organizations').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function setPlan(db: Kysely<DB>, id: string, plan: string): Promise<boolean> {
  const res = await db.updateTable('organizations').set({ plan }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function renameOrganization(db: Kysely<DB>, id: string, name: string): Promise<boolean> {
  const res = await db.updateTable('organizations').set({ name }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Deletes an organisation without connections (its webhooks go with it); false when it has some or does not exist. */
export async function deleteEmptyOrganization(db: Kysely<DB>, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom('organizations')
    .where('id', '=', id)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('connections').select('id').where('organization_id', '=', id))))
    .executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

export async function setConnectionStatus(db: Kysely<DB>, id: string, status: 'active' | 'disabled'): Promise<boolean> {
  const res = await db.updateTable('connections').set({ status }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Rows deleted per statement when a connection goes: each transaction stays short. */
const DELETE_CHUNK = 1000;

/**
 * Deletes one chunk of a connection's data (users with their e-mails and
 * memberships, then groups, then logged requests) and, once none is left, the
 * connection with its tokens. True when the connection is gone.
 */
export async function deleteConnectionChunk(db: Kysely<DB>, id: string): Promise<boolean> {
  const users = await db
    .deleteFrom('users')
    .where('id', 'in', (eb) => eb.selectFrom('users').select('id').where('tenant', '=', tenantOf(id)).limit(DELETE_CHUNK))
    .executeTakeFirst();
  if (Number(users.numDeletedRows) > 0) return false;
  const groups = await db
    .deleteFrom('groups')
    .where('id', 'in', (eb) => eb.selectFrom('groups').select('id').where('tenant', '=', tenantOf(id)).limit(DELETE_CHUNK))
    .executeTakeFirst();
  if (Number(groups.numDeletedRows) > 0) return false;
  const requests = await db
    .deleteFrom('request_log')
    .where('connection_id', '=', id)
    .where('id', 'in', (eb) => eb.selectFrom('request_log').select('id').where('connection_id', '=', id).limit(DELETE_CHUNK * 5))
    .executeTakeFirst();
  if (Number(requests.numDeletedRows) > 0) return false;
  await db.deleteFrom('request_days').where('connection_id', '=', id).execute();
  await db.deleteFrom('rate_windows').where('connection_id', '=', id).execute();
  await db.deleteFrom('connection_tokens').where('connection_id', '=', id).execute();
  await db.deleteFrom('client_secrets').where('connection_id', '=', id).execute();
  await db.deleteFrom('source_objects').where('connection_id', '=', id).execute();
  await db.deleteFrom('source_runs').where('connection_id', '=', id).execute();
  await db.deleteFrom('connection_sources').where('connection_id', '=', id).execute();
  await db.deleteFrom('connections').where('id', '=', id).execute();
  return true;
}

export async function insertConnection(db: Kysely<DB>, row: ConnectionRow, token?: ConnectionTokensTable): Promise<void> {
  await db.insertInto('connections').values(row).execute();
  await addTenant(db, row.id);
  if (token) await db.insertInto('connection_tokens').values(token).execute();
}

export async function getConnection(db: Kysely<DB>, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function connectionsOfOrganization(db: Kysely<DB>, organizationId: string): Promise<ConnectionRow[]> {
  return db.selectFrom('connections').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').execute();
}

export async function listConnections(db: Kysely<DB>): Promise<ConnectionRow[]> {
  return db.selectFrom('connections').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function updateSettings(db: Kysely<DB>, id: string, settings: string): Promise<void> {
  await db.updateTable('connections').set({ settings }).where('id', '=', id).execute();
}

/**
 * The connection's mapping key as stored now, read inside a user write: a request
 * authenticated a moment before `configure` changed it must not derive the key
 * column the old way. `lock` (PostgreSQL) holds the row shared until commit, so a
 * concurrent configure waits for the write, or the write sees the new value.
 */
export async function storedMappingKey(db: Kysely<DB>, connectionId: string, lock: boolean): Promise<'externalId' | 'userName'> {
  const row = lock
    ? await db.selectFrom('connections').select('settings').where('id', '=', connectionId).forShare().executeTakeFirst()
    : (await selectSettings(db, connectionId)).rows[0];
  const key = row ? (JSON.parse(row.settings) as { mappingKey?: unknown }).mappingKey : undefined;
  // Settings written before userName became the default say externalId (migration 0013).
  return key === 'externalId' ? 'externalId' : 'userName';
}

const selectSettings = prepared((db: Kysely<DB>, id: string) => db.selectFrom('connections').select('settings').where('id', '=', id), 1);

/** Re-derives users.external_key after the mapping key changed (the unique index then judges the data). */
export async function setExternalKeys(db: Kysely<DB>, connectionId: string, fromExternalId: boolean): Promise<void> {
  await db
    .updateTable('users')
    .set({ external_key: fromExternalId ? sql.ref('external_id') : null })
    .where('tenant', '=', tenantOf(connectionId))
    .execute();
}

/** What a request needs to know about its connection, read with the token check in one statement. */
export interface ConnectionAccess {
  hash: string;
  /** The token's end (a rotated token's grace, an OAuth access token's expiry); null while current. */
  expires_at: string | null;
  settings: string;
  workspace: string;
  status: string;
  organization_id: string | null;
  plan: string | null;
}

/** Tokens that still authenticate at `now` (the current one and any in a grace period), with their connection. */
export async function liveTokens(db: Kysely<DB>, connectionId: string, now: string): Promise<ConnectionAccess[]> {
  const { rows } = await selectLiveTokens(db, connectionId, now);
  return rows;
}

const selectLiveTokens = prepared(
  (db: Kysely<DB>, connectionId: string, now: string) =>
    db
      .selectFrom('connection_tokens as t')
      .innerJoin('connections as c', 'c.id', 't.connection_id')
      .leftJoin('organizations as o', 'o.id', 'c.organization_id')
      .select(['t.hash as hash', 't.expires_at as expires_at', 'c.settings as settings', 'c.workspace as workspace', 'c.status as status', 'c.organization_id as organization_id', 'o.plan as plan'])
      .where('t.connection_id', '=', connectionId)
      .where('c.kind', '=', 'scim')
      .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now)])),
  2,
);

/** Ends every live bearer token at `expiresAt` (now for an immediate rotation) and adds the new one; OAuth access tokens keep their own end. */
export async function rotateToken(db: Kysely<DB>, connectionId: string, expiresAt: string, token: ConnectionTokensTable): Promise<void> {
  await db
    .updateTable('connection_tokens')
    .set({ expires_at: expiresAt })
    .where('connection_id', '=', connectionId)
    .where('client_secret_id', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expiresAt)]))
    .execute();
  await db.insertInto('connection_tokens').values(token).execute();
}
