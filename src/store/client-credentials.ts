/**
 * SQL of OAuth 2.0 client credentials: a connection's client secrets and the
 * access tokens issued for them. Access tokens are rows of connection_tokens with
 * their secret's id, so the SCIM token check (connections.ts liveTokens) knows
 * them without a second query.
 */
import type { Kysely } from 'kysely';
import type { ClientSecretsTable, ConnectionTokensTable, DB } from './types.js';

export async function insertClientSecret(db: Kysely<DB>, row: ClientSecretsTable): Promise<void> {
  await db.insertInto('client_secrets').values(row).execute();
}

export async function clientSecretsOf(db: Kysely<DB>, connectionId: string): Promise<ClientSecretsTable[]> {
  return db.selectFrom('client_secrets').selectAll().where('connection_id', '=', connectionId).orderBy('created_at').orderBy('id').execute();
}

/** Secrets that may obtain tokens at `now`, with the connection's kind (only SCIM connections have them). */
export async function usableClientSecrets(db: Kysely<DB>, connectionId: string, now: string): Promise<Pick<ClientSecretsTable, 'id' | 'hash'>[]> {
  return db
    .selectFrom('client_secrets as s')
    .innerJoin('connections as c', 'c.id', 's.connection_id')
    .select(['s.id as id', 's.hash as hash'])
    .where('s.connection_id', '=', connectionId)
    .where('c.kind', '=', 'scim')
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .execute();
}

export async function countActiveClientSecrets(db: Kysely<DB>, connectionId: string, now: string): Promise<number> {
  const r = await db
    .selectFrom('client_secrets')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('connection_id', '=', connectionId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Revokes a secret and ends the access tokens it obtained; false when the connection has no such secret (or it was revoked). */
export async function revokeClientSecret(db: Kysely<DB>, connectionId: string, secretId: string, now: string): Promise<boolean> {
  const r = await db
    .updateTable('client_secrets')
    .set({ revoked_at: now })
    .where('id', '=', secretId)
    .where('connection_id', '=', connectionId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return false;
  await db.deleteFrom('connection_tokens').where('connection_id', '=', connectionId).where('client_secret_id', '=', secretId).execute();
  return true;
}

/**
 * Stores a new access token, unless its secret was revoked (or expired) since it
 * was checked: false then. Marking the secret used comes first and takes its row
 * lock (PostgreSQL), so a revocation either precedes this (nothing is stored) or
 * follows it (and deletes the token with the others). Drops the connection's
 * expired access tokens and keeps at most `keep` live ones per secret (the oldest
 * go): a client that asks for a token per request cannot grow the list every SCIM
 * request checks.
 */
export async function insertAccessToken(db: Kysely<DB>, row: ConnectionTokensTable & { client_secret_id: string }, now: string, keep: number): Promise<boolean> {
  const live = await db
    .updateTable('client_secrets')
    .set({ last_used_at: now })
    .where('id', '=', row.client_secret_id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(live.numUpdatedRows) === 0) return false;
  await db
    .deleteFrom('connection_tokens')
    .where('connection_id', '=', row.connection_id)
    .where('client_secret_id', 'is not', null)
    .where('expires_at', '<=', now)
    .execute();
  const older = await db
    .selectFrom('connection_tokens')
    .select('id')
    .where('client_secret_id', '=', row.client_secret_id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .offset(Math.max(0, keep - 1))
    .limit(1_000)
    .execute();
  if (older.length) await db.deleteFrom('connection_tokens').where('id', 'in', older.map((t) => t.id)).execute();
  await db.insertInto('connection_tokens').values(row).execute();
  return true;
}
