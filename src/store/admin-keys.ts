/** The stored admin API key: one row holding the SHA-256 hash of the generated key. */
import type { Kysely } from 'kysely';
import type { DB } from './types.js';

/** The one stored key's row id (a second start finds it and generates nothing). */
const KEY_ID = 'admin';

/** Stores `hash` unless a key exists; true when this call stored it. */
export async function insertAdminKeyIfAbsent(db: Kysely<DB>, hash: string, createdAt: string): Promise<boolean> {
  const r = await db
    .insertInto('admin_tokens')
    .values({ id: KEY_ID, hash, created_at: createdAt })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Stores `hash` in place of any existing key. */
export async function replaceAdminKey(db: Kysely<DB>, hash: string, createdAt: string): Promise<void> {
  await db
    .insertInto('admin_tokens')
    .values({ id: KEY_ID, hash, created_at: createdAt })
    .onConflict((oc) => oc.column('id').doUpdateSet({ hash, created_at: createdAt }))
    .execute();
}

/** The stored key's hash (hex), if there is one. */
export async function adminKeyHash(db: Kysely<DB>): Promise<string | undefined> {
  const row = await db.selectFrom('admin_tokens').select('hash').where('id', '=', KEY_ID).executeTakeFirst();
  return row?.hash;
}
