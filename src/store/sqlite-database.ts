/**
 * SQLite: one file, a writer connection and a reader connection (see
 * sqlite-connections.ts), migrations under the write lock, and the WAL kept short.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Compilable, Kysely, sql } from 'kysely';
import { SqliteScanPool } from './sqlite-scan-pool.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { QueueingSqliteDialect } from './sqlite-driver.js';
import { WriteBatcher } from './batch.js';
import type { DB } from './types.js';
import { type MigrateMode, migrate, migrationStatus } from './migrations.js';
import { sqliteDialect } from './dialect.js';
import type { OpenedDatabase, OpenOptions } from './opened-database.js';
import { type WriteClock, openSqlite, readerConnection, writerConnection } from './sqlite-connections.js';

/** How often, at most, the WAL is checkpointed and emptied while writes go on. */
export const WAL_CHECKPOINT_MS = 1000;
/** How often the checkpoint worker copies the WAL into the database (sqlite-checkpointer.ts). */
export const CHECKPOINT_WORKER_MS = 200;
/** Bytes the WAL file is cut back to when it is reset (SQLite's journal_size_limit). */
export const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** DATABASE_STATEMENT_TIMEOUT_MS, as PostgreSQL reads it (postgres-database.ts). */
function envTimeout(): number | undefined {
  const raw = process.env.DATABASE_STATEMENT_TIMEOUT_MS;
  return raw && /^\d+$/.test(raw.trim()) ? Number(raw) : undefined;
}

/** ROLLCALL_SCAN_WORKERS: scan worker threads on SQLite (default 2; 0: scans on the reader connection). */
function envScanWorkers(): number | undefined {
  const raw = process.env.ROLLCALL_SCAN_WORKERS?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 16) throw new Error(`ROLLCALL_SCAN_WORKERS must be a whole number from 0 to 16, got '${raw}'`);
  return Number(raw);
}

/** `file` is a path or ':memory:'. */
export async function openSqliteDatabase<E>(file: string, opts: OpenOptions): Promise<OpenedDatabase<E>> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const clock: WriteClock = { generation: 0 };
  const sqlite = openSqlite(file);
  const db = new Kysely<DB>({ dialect: new QueueingSqliteDialect(writerConnection(sqlite, clock) as never) });
  // Kysely takes no migration lock on SQLite; two processes starting together on
  // one file would both run a migration. Holding the write lock for the whole
  // run makes the second wait and then find nothing left to do.
  const migrateLocked = (mode: MigrateMode = 'apply') =>
    db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const applied = await migrate(conn, sqliteDialect, mode);
        await sql`commit`.execute(conn);
        return applied;
      } catch (e) {
        await sql`rollback`.execute(conn);
        throw e;
      }
    });
  if (opts.migrate !== false) {
    try {
      await migrateLocked(opts.migrate === 'check' ? 'check' : 'apply');
    } catch (e) {
      await db.destroy();
      throw e;
    }
  }
  // An in-memory database exists once per connection: it reads through the writer.
  const reader = file === ':memory:' ? undefined : readerConnection(openSqlite(file), clock);
  const readDb = reader ? new Kysely<DB>({ dialect: new QueueingSqliteDialect(reader as never) }) : db;
  // An in-memory database cannot be opened again by a worker: its scans run on readDb.
  const workers = opts.scanWorkers ?? envScanWorkers();
  const scans = file === ':memory:' || workers === 0 ? undefined : new SqliteScanPool(file, { workers, timeoutMs: opts.statementTimeoutMs ?? envTimeout() });
  // Checkpoints on a worker thread; the writer checkpoints itself again if it dies.
  let checkpointer: SqliteCheckpointer | undefined;
  let workerActive = false;
  // Declared before the worker can call maintainWal (below).
  let lastCheckpoint = Date.now();
  if (file !== ':memory:' && opts.checkpointWorker !== false) {
    const lost = () => {
      workerActive = false;
      try {
        sqlite.pragma('wal_autocheckpoint = 1000');
      } catch {
        // closed meanwhile
      }
    };
    checkpointer = new SqliteCheckpointer(file, CHECKPOINT_WORKER_MS, lost, () => maintainWal());
    if (await checkpointer.started) {
      workerActive = true;
      sqlite.pragma('wal_autocheckpoint = 0');
      // A reset keeps the WAL file (rewriting allocated blocks is cheaper than growing
      // it again); after a burst it is cut back to this size.
      sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    } else checkpointer = undefined;
  }
  // Planner statistics let e-mail and membership filters start from their indexes;
  // a sampled ANALYZE of tables that have none or grew, kept cheap by the limit.
  sqlite.pragma('analysis_limit = 1000');
  const optimize = () => void sqlite.pragma('optimize=0x10002');
  optimize();
  /**
   * A reader that always holds a snapshot keeps SQLite from ever resetting the WAL,
   * which then grows without bound under steady writes. So, at most every
   * WAL_CHECKPOINT_MS and only between write transactions, the reader lets go and
   * a checkpoint copies what is left of the WAL into the database and resets it.
   * With the worker, this runs right after one of its checkpoints (little is left
   * to copy) and RESTARTs the WAL in place; without it, after a commit, and
   * TRUNCATE empties the file. With no waiting: if another process is reading at
   * that moment, it is tried later.
   */
  function maintainWal(force = false): void {
    const now = Date.now();
    if (sqlite.inTransaction || (!force && now - lastCheckpoint < WAL_CHECKPOINT_MS)) return;
    lastCheckpoint = now;
    reader?.release();
    sqlite.pragma('busy_timeout = 0');
    try {
      sqlite.pragma(workerActive ? 'wal_checkpoint(RESTART)' : 'wal_checkpoint(TRUNCATE)');
    } catch {
      // busy or locked by another process: the next round tries again
    } finally {
      sqlite.pragma('busy_timeout = 10000');
    }
  }
  const walTimer = setInterval(() => maintainWal(), WAL_CHECKPOINT_MS * 5);
  walTimer.unref();
  return {
    db,
    writes: new WriteBatcher<E>(db, { afterCommit: () => workerActive || maintainWal() }),
    readDb,
    // Without a reader every read goes to the writer: no snapshot to key a cache on.
    readSnapshot: reader ? reader.snapshot : () => clock.generation,
    scan: async <R>(query: Compilable<R>, key: string) => (scans?.usable ? scans.rows<R>(query.compile(), key) : ((await readDb.executeQuery(query.compile())).rows as R[])),
    dialect: sqliteDialect,
    optimize,
    migrate: migrateLocked,
    migrationStatus: () => migrationStatus(db, sqliteDialect),
    close: async () => {
      clearInterval(walTimer);
      await checkpointer?.stop();
      await scans?.close();
      if (readDb !== db) await readDb.destroy();
      await db.destroy();
    },
  };
}
