/** Small facts a server records for the CLI and other instances (e.g. its public URL). */
import type { Kysely } from 'kysely';
import type { DB } from './types.js';

export type ServerSettingKey = 'public_url';

/** The recorded value, or undefined when none is (or the schema predates the table). */
export async function readServerSetting(db: Kysely<DB>, key: ServerSettingKey): Promise<string | undefined> {
  try {
    const row = await db.selectFrom('server_settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  } catch {
    // Opened without migrating (rollcall migrate --status on an old database): nothing recorded.
    return undefined;
  }
}

export async function writeServerSetting(db: Kysely<DB>, key: ServerSettingKey, value: string, now: string): Promise<void> {
  await db
    .insertInto('server_settings')
    .values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
    .execute();
}
