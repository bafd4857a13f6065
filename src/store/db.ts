/**
 * Opening the database named by DATABASE_URL and running migrations. Dialect
 * differences in SQL expressions live in dialect.ts; this file only knows how to
 * connect.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { QueueingSqliteDialect } from './sqlite-driver.js';
import { WriteBatcher } from './batch.js';
import type { DB } from './types.js';
import { migrationProvider } from './migrations.js';
import { type SqlDialect, postgresDialect, sqliteDialect } from './dialect.js';
import { isNoTlsOnServer, postgresTls } from './postgres-tls.js';
import type { ConnectionOptions } from 'node:tls';

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
  dialect: SqlDialect;
  /** Refreshes planner statistics where they are stale; cheap, run it periodically. */
  optimize(): void;
  close(): Promise<void>;
}

export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** Parses DATABASE_URL; throws an Error with a one-line message when it is unusable. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (/^sqlite:/i.test(url)) {
    let file = url.replace(/^sqlite:(\/\/)?/i, '');
    if (file === '') throw new Error(`DATABASE_URL '${url}' names no SQLite file (use sqlite:./data/rollcall.db or sqlite::memory:)`);
    if (file !== ':memory:') file = path.resolve(file);
    return { kind: 'sqlite', file };
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new Error(`DATABASE_URL '${redact(url)}' is not a valid postgres:// URL`);
    }
    return { kind: 'postgres', url };
  }
  throw new Error(`DATABASE_URL '${redact(url)}' is not understood; expected sqlite:PATH`);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** Shared between the two connections of one process: bumped by every write. */
interface WriteClock {
  generation: number;
}

/** Prepared statements cached by SQL text: Kysely's driver prepares on every call. */
function cachedPrepare(sqlite: Database.Database, rewrite: (sql: string) => string = (s) => s) {
  const cache = new Map<string, Database.Statement>();
  return (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = sqlite.prepare(rewrite(sql));
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

/**
 * The writer connection. Kysely opens transactions with a plain BEGIN; we make it
 * BEGIN IMMEDIATE so a write transaction takes the write lock up front and waits
 * (busy_timeout) instead of failing with SQLITE_BUSY when the CLI writes while the
 * server runs. Every statement bumps the write clock (prepare and run happen in
 * the same tick in Kysely's driver, so the bump is never observed early).
 */
function writerConnection(sqlite: Database.Database, clock: WriteClock) {
  const prepare = cachedPrepare(sqlite, (sql) => (sql.toLowerCase() === 'begin' ? 'begin immediate' : sql));
  return {
    prepare(sql: string) {
      clock.generation++;
      return prepare(sql);
    },
    close() {
      sqlite.close();
    },
  };
}

/**
 * The reader connection serves reads outside write transactions from a read
 * snapshot it keeps open. In WAL mode every statement run on its own takes and
 * drops a shared-memory read lock (two fcntl calls and a stat, expensive in a VM);
 * a snapshot shared by all reads amortises them. The snapshot is renewed after any
 * write of this process (read-your-writes) and at least every READ_SNAPSHOT_MS,
 * so another process's commits (the CLI rotating a token) show within that time.
 */
export const READ_SNAPSHOT_MS = 50;
/** How often, at most, the WAL is checkpointed and emptied while writes go on. */
export const WAL_CHECKPOINT_MS = 1000;

function readerConnection(sqlite: Database.Database, clock: WriteClock) {
  const prepare = cachedPrepare(sqlite);
  const begin = sqlite.prepare('begin');
  const commit = sqlite.prepare('commit');
  let open = false;
  let seen = -1;
  let since = 0;
  let epoch = 0;
  const end = () => {
    if (open && sqlite.inTransaction) commit.run();
    open = false;
  };
  /** Renews the snapshot when stale; returns its number (a new one after every renewal). */
  const current = () => {
    const now = Date.now();
    if (!open || seen !== clock.generation || now - since > READ_SNAPSHOT_MS) {
      end();
      begin.run();
      open = true;
      seen = clock.generation;
      since = now;
      epoch++;
    }
    return epoch;
  };
  // An idle snapshot would keep the writer's checkpoints from recycling the WAL;
  // let it go once it is stale even when no read comes.
  const idle = setInterval(() => {
    if (open && Date.now() - since > READ_SNAPSHOT_MS) end();
  }, READ_SNAPSHOT_MS * 4);
  idle.unref();
  return {
    prepare(sql: string) {
      current();
      return prepare(sql);
    },
    snapshot: current,
    /** Lets go of the snapshot now (the next read opens a new one). */
    release: end,
    close() {
      clearInterval(idle);
      end();
      sqlite.close();
    },
  };
}

/**
 * Runs `fn` (synchronous: this is start-up), again after a short random pause
 * while it fails with SQLITE_BUSY, for at most `withinMs`.
 */
export function retryWhileBusy<T>(fn: () => T, withinMs: number): T {
  const deadline = Date.now() + withinMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return fn();
    } catch (e) {
      // Extended codes too (SQLITE_BUSY_RECOVERY while another process recovers the WAL).
      if (!String((e as { code?: string }).code ?? '').startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw e;
      Atomics.wait(pause, 0, 0, 10 + Math.random() * 40);
    }
  }
}

function openSqlite(file: string): Database.Database {
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file);
  } catch (e) {
    throw new Error(`cannot open SQLite database '${file}': ${(e as Error).message}`);
  }
  sqlite.pragma('busy_timeout = 10000');
  // Two processes switching a fresh file to WAL at the same moment can each hold
  // the shared lock the other must wait out; SQLite then fails one at once
  // instead of calling the busy handler. The switch is retried a while.
  retryWhileBusy(() => sqlite.pragma('journal_mode = WAL'), 10_000);
  // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // A page cache big enough for the indexes of a 100,000-user tenant (SQLite's
  // default is 2 MB), and memory-mapped reads: random-key index inserts and
  // lookups otherwise cost a read syscall per page.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('mmap_size = 268435456');
  // SQLite's lower() folds ASCII only; *_lc columns are folded by JavaScript, so
  // filters fold JSON values the same way.
  sqlite.function('scim_lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  return sqlite;
}

/** Advisory lock key for migrations, so instances starting together migrate one at a time. */
const MIGRATION_LOCK = 7_216_400_201;

/**
 * PostgreSQL (or a compatible engine). Pool size and statement timeout come from
 * the URL (`?pool=20&statement_timeout=30000`) or DATABASE_POOL_SIZE /
 * DATABASE_STATEMENT_TIMEOUT_MS; TLS from the URL's `sslmode`. Every instance is
 * stateless: reads and writes both go to the database.
 */
async function openPostgres<E>(url: string, opts: { migrate?: boolean }): Promise<OpenedDatabase<E>> {
  const u = new URL(url);
  const poolSize = Number(u.searchParams.get('pool') ?? process.env.DATABASE_POOL_SIZE ?? 10);
  const statementTimeout = Number(u.searchParams.get('statement_timeout') ?? process.env.DATABASE_STATEMENT_TIMEOUT_MS ?? 30_000);
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`database pool size must be a positive integer, got '${poolSize}'`);
  if (!Number.isInteger(statementTimeout) || statementTimeout < 0) throw new Error(`statement timeout must be a whole number of ms, got '${statementTimeout}'`);
  u.searchParams.delete('pool');
  u.searchParams.delete('statement_timeout');
  const tls = postgresTls(u);
  const connect = async (ssl: false | ConnectionOptions) => {
    const pool = new pg.Pool({ connectionString: tls.url, ssl, max: poolSize, statement_timeout: statementTimeout || undefined });
    // An idle pooled connection that the server closes (restart, failover, admin
    // command) must not take the process down: the pool drops it and connects anew.
    pool.on('error', (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    try {
      await sql`select 1`.execute(db);
      return db;
    } catch (e) {
      await db.destroy();
      throw e;
    }
  };
  let db: Kysely<DB>;
  try {
    try {
      db = await connect(tls.ssl);
    } catch (e) {
      // sslmode=prefer/allow: a server without TLS is spoken to in plain text.
      if (!(tls.fallbackToPlain && isNoTlsOnServer(e))) throw e;
      db = await connect(false);
    }
  } catch (e) {
    throw new Error(`cannot connect to PostgreSQL at ${redact(url)}${tls.mode ? ` (sslmode=${tls.mode})` : ''}: ${(e as Error).message}`);
  }
  if (opts.migrate !== false) {
    await db.connection().execute(async (conn) => {
      // Waiting for another instance's migration, or a migration rewriting a large
      // table, may take longer than a request may: no statement timeout here.
      await sql`set statement_timeout = 0`.execute(conn);
      try {
        await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
        try {
          await migrate(conn, postgresDialect);
        } finally {
          await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
        }
      } finally {
        // Back to the pool's setting before the connection serves requests.
        await sql`reset statement_timeout`.execute(conn);
      }
    });
  }
  return {
    db,
    writes: new WriteBatcher<E>(db, { concurrency: Math.max(1, Math.floor(poolSize / 2)) }),
    readDb: db,
    // No snapshot to hold: results derived from reads may be reused for one interval.
    readSnapshot: () => Math.floor(Date.now() / READ_SNAPSHOT_MS),
    dialect: postgresDialect,
    optimize: () => {},
    close: () => db.destroy(),
  };
}

export async function openDatabase<E = unknown>(url: string, opts: { migrate?: boolean } = {}): Promise<OpenedDatabase<E>> {
  const loc = parseDatabaseUrl(url);
  if (loc.kind === 'postgres') return openPostgres<E>(loc.url, opts);
  if (loc.file !== ':memory:') fs.mkdirSync(path.dirname(loc.file), { recursive: true });
  const clock: WriteClock = { generation: 0 };
  const sqlite = openSqlite(loc.file);
  const db = new Kysely<DB>({ dialect: new QueueingSqliteDialect(writerConnection(sqlite, clock) as never) });
  if (opts.migrate !== false) {
    // Kysely takes no migration lock on SQLite; two processes starting together on
    // one file would both run a migration. Holding the write lock for the whole
    // run makes the second wait and then find nothing left to do.
    await db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        await migrate(conn, sqliteDialect);
        await sql`commit`.execute(conn);
      } catch (e) {
        await sql`rollback`.execute(conn);
        throw e;
      }
    });
  }
  // An in-memory database exists once per connection: it reads through the writer.
  const reader = loc.file === ':memory:' ? undefined : readerConnection(openSqlite(loc.file), clock);
  const readDb = reader ? new Kysely<DB>({ dialect: new QueueingSqliteDialect(reader as never) }) : db;
  // Planner statistics let e-mail and membership filters start from their indexes;
  // a sampled ANALYZE of tables that have none or grew, kept cheap by the limit.
  sqlite.pragma('analysis_limit = 1000');
  const optimize = () => void sqlite.pragma('optimize=0x10002');
  optimize();
  /**
   * A reader that always holds a snapshot keeps SQLite from ever resetting the WAL,
   * which then grows without bound under steady writes. So, at most every
   * WAL_CHECKPOINT_MS and only between write transactions, the reader lets go and
   * a TRUNCATE checkpoint copies the WAL into the database and empties it. With
   * no waiting: if another process is reading at that moment, it is tried later.
   */
  let lastCheckpoint = Date.now();
  const maintainWal = (force = false) => {
    const now = Date.now();
    if (sqlite.inTransaction || (!force && now - lastCheckpoint < WAL_CHECKPOINT_MS)) return;
    lastCheckpoint = now;
    reader?.release();
    sqlite.pragma('busy_timeout = 0');
    try {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // busy or locked by another process: the next round tries again
    } finally {
      sqlite.pragma('busy_timeout = 10000');
    }
  };
  const walTimer = setInterval(() => maintainWal(), WAL_CHECKPOINT_MS * 5);
  walTimer.unref();
  return {
    db,
    writes: new WriteBatcher<E>(db, { afterCommit: () => maintainWal() }),
    readDb,
    // Without a reader every read goes to the writer: no snapshot to key a cache on.
    readSnapshot: reader ? reader.snapshot : () => clock.generation,
    dialect: sqliteDialect,
    optimize,
    close: async () => {
      clearInterval(walTimer);
      if (readDb !== db) await readDb.destroy();
      await db.destroy();
    },
  };
}

export async function migrate(db: Kysely<DB>, dialect: SqlDialect): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
}
