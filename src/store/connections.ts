/** SQL for connections and their bearer tokens (stored as hashes only). */
import type { Kysely } from 'kysely';
import type { DB, ConnectionsTable, ConnectionTokensTable } from './types.js';
import { prepared } from './prepared.js';

export type ConnectionRow = ConnectionsTable;

export async function insertConnection(db: Kysely<DB>, row: ConnectionRow, token: ConnectionTokensTable): Promise<void> {
  await db.insertInto('connections').values(row).execute();
  await db.insertInto('connection_tokens').values(token).execute();
}

export async function getConnection(db: Kysely<DB>, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listConnections(db: Kysely<DB>): Promise<ConnectionRow[]> {
  return db.selectFrom('connections').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Tokens that still authenticate at `now`: the current one and any within a grace period. */
export async function liveTokens(db: Kysely<DB>, connectionId: string, now: string): Promise<{ hash: string; expires_at: string | null }[]> {
  const { rows } = await selectLiveTokens(db, connectionId, now);
  return rows;
}

const selectLiveTokens = prepared(
  (db: Kysely<DB>, connectionId: string, now: string) =>
    db
      .selectFrom('connection_tokens')
      .select(['hash', 'expires_at'])
      .where('connection_id', '=', connectionId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])),
  2,
);

/** Ends every live token at `expiresAt` (now for an immediate rotation) and adds the new one. */
export async function rotateToken(db: Kysely<DB>, connectionId: string, expiresAt: string, token: ConnectionTokensTable): Promise<void> {
  await db
    .updateTable('connection_tokens')
    .set({ expires_at: expiresAt })
    .where('connection_id', '=', connectionId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expiresAt)]))
    .execute();
  await db.insertInto('connection_tokens').values(token).execute();
}
