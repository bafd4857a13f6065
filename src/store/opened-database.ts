/** What opening a database gives the composition root, whichever the backend. */
import type { Compilable, Kysely } from 'kysely';
import type { WriteBatcher } from './batch.js';
import type { DB } from './types.js';
import type { SqlDialect } from './dialect.js';
import type { MigrateMode, MigrationStatus } from './migrations.js';

/** `Emitted` is what writes emit for the outbox (the events layer's type; the store only carries it). */
export interface OpenedDatabase<Emitted = unknown> {
  /** Writes, and reads that belong to a write (inside its transaction). */
  db: Kysely<DB>;
  /** Group commit of SCIM writes on `db`; what they emit goes to the outbox (see rollcall.ts). */
  writes: WriteBatcher<Emitted>;
  /** Reads on their own (auth, GET, lists): may lag another process's commits by READ_SNAPSHOT_MS. */
  readDb: Kysely<DB>;
  /**
   * The number of readDb's current snapshot. Two reads under the same number see
   * the same data, so a result computed from readDb may be reused while it holds.
   */
  readSnapshot(): number;
  /**
   * Runs a read that may have to scan many rows (a filter no index serves, a deep
   * page) where it cannot block the event loop: on SQLite a worker thread, one
   * scan at a time per `key` (the connection); on PostgreSQL readDb, whose
   * statement timeout bounds it. The same rows readDb would return.
   */
  scan<R>(query: Compilable<R>, key: string): Promise<R[]>;
  dialect: SqlDialect;
  /** Refreshes planner statistics where they are stale; cheap, run it periodically. */
  optimize(): void;
  /** Applies pending migrations (or, `check`, refuses when there are any) under the backend's migration lock; returns those applied. */
  migrate(mode?: MigrateMode): Promise<string[]>;
  /** Applied, pending and unknown (newer) migrations. */
  migrationStatus(): Promise<MigrationStatus>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * The schema on opening: `apply` (or true, the default) runs pending migrations,
   * `check` refuses to open while any are pending, false leaves it alone. A schema
   * newer than this version knows is refused unless false.
   */
  migrate?: boolean | MigrateMode;
  /** SQLite: worker threads for scans (default 2; 0 runs them on the reader connection, blocking the event loop). */
  scanWorkers?: number;
  /** SQLite: a scan running longer is refused (default DATABASE_STATEMENT_TIMEOUT_MS, else 30,000; 0: no limit). */
  statementTimeoutMs?: number;
  /** SQLite: WAL checkpoints on a worker thread (default true; false: the writer runs them, as SQLite does by default). */
  checkpointWorker?: boolean;
}

/**
 * How long a read on its own may lag another process's commits: the SQLite reader
 * renews its snapshot at least this often, PostgreSQL's readSnapshot number moves
 * this often.
 */
export const READ_SNAPSHOT_MS = 50;
