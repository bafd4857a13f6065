/**
 * Opening the database named by DATABASE_URL and running migrations. Dialect
 * differences in SQL expressions live in dialect.ts; this file only knows how to
 * connect.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { DB } from './types.js';
import { migrationProvider } from './migrations.js';
import { type SqlDialect, sqliteDialect } from './dialect.js';

export interface OpenedDatabase {
  db: Kysely<DB>;
  dialect: SqlDialect;
  /**
   * A number that changes whenever another process has committed to the database
   * since the last call (SQLite's data_version). In-process caches compare it to
   * know when their entries may be stale.
   */
  changeStamp(): number;
  /** Refreshes planner statistics where they are stale; cheap, run it periodically. */
  optimize(): void;
  close(): Promise<void>;
}

export type DatabaseLocation = { kind: 'sqlite'; file: string };

/** Parses DATABASE_URL; throws an Error with a one-line message when it is unusable. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (/^sqlite:/i.test(url)) {
    let file = url.replace(/^sqlite:(\/\/)?/i, '');
    if (file === '') throw new Error(`DATABASE_URL '${url}' names no SQLite file (use sqlite:./data/rollcall.db or sqlite::memory:)`);
    if (file !== ':memory:') file = path.resolve(file);
    return { kind: 'sqlite', file };
  }
  if (/^postgres(ql)?:/i.test(url)) {
    throw new Error(`DATABASE_URL '${redact(url)}': PostgreSQL is not supported by this version yet; use sqlite:PATH`);
  }
  throw new Error(`DATABASE_URL '${redact(url)}' is not understood; expected sqlite:PATH`);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * better-sqlite3 prepares a statement per call in Kysely's driver; caching prepared
 * statements by SQL text removes that cost from every request. Kysely opens
 * transactions with a plain BEGIN; we make it BEGIN IMMEDIATE so a write
 * transaction takes the write lock up front and waits (busy_timeout) instead of
 * failing with SQLITE_BUSY when the CLI writes while the server runs.
 */
function statementCache(sqlite: Database.Database) {
  const cache = new Map<string, Database.Statement>();
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql.toLowerCase() === 'begin' ? 'begin immediate' : sql);
        if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      sqlite.close();
    },
  };
}

export async function openDatabase(url: string, opts: { migrate?: boolean } = {}): Promise<OpenedDatabase> {
  const loc = parseDatabaseUrl(url);
  if (loc.file !== ':memory:') fs.mkdirSync(path.dirname(loc.file), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(loc.file);
  } catch (e) {
    throw new Error(`cannot open SQLite database '${loc.file}': ${(e as Error).message}`);
  }
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  // SQLite's lower() folds ASCII only; *_lc columns are folded by JavaScript, so
  // filters fold JSON values the same way.
  sqlite.function('scim_lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: statementCache(sqlite) as never }) });
  if (opts.migrate !== false) await migrate(db);
  // Planner statistics let e-mail and membership filters start from their indexes;
  // a sampled ANALYZE of tables that have none or grew, kept cheap by the limit.
  sqlite.pragma('analysis_limit = 1000');
  const optimize = () => void sqlite.pragma('optimize=0x10002');
  optimize();
  const dataVersion = sqlite.prepare('pragma data_version').pluck();
  return {
    db,
    dialect: sqliteDialect,
    changeStamp: () => dataVersion.get() as number,
    optimize,
    close: () => db.destroy(),
  };
}

export async function migrate(db: Kysely<DB>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
}
