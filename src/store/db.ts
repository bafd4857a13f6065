/** Opening the database named by DATABASE_URL (migrated unless told otherwise). */
import { parseDatabaseUrl } from './database-url.js';
import type { OpenedDatabase, OpenOptions } from './opened-database.js';
import { openPostgres } from './postgres-database.js';
import { openSqliteDatabase } from './sqlite-database.js';

export type { OpenedDatabase, OpenOptions } from './opened-database.js';

/** `E` is what writes emit for the outbox (rollcall.ts passes the events layer's type). */
export async function openDatabase<E = unknown>(url: string, opts: OpenOptions = {}): Promise<OpenedDatabase<E>> {
  const loc = parseDatabaseUrl(url);
  return loc.kind === 'postgres' ? openPostgres<E>(loc.url, opts) : openSqliteDatabase<E>(loc.file, opts);
}
