/**
 * SQLite's two connections per process — a writer and a reader that holds a read
 * snapshot — and the pragmas every connection gets.
 */
import Database from 'better-sqlite3';
import { READ_SNAPSHOT_MS } from './opened-database.js';

/** Shared between the two connections of one process: bumped by every write. */
export interface WriteClock {
  generation: number;
}

/** What Kysely's SQLite driver (sqlite-driver.ts) needs of a connection. */
export interface SqliteConnection {
  prepare(sql: string): Database.Statement;
  close(): void;
}

export interface ReaderConnection extends SqliteConnection {
  /** Renews the snapshot when stale; returns its number. */
  snapshot(): number;
  /** Lets go of the snapshot now (the next read opens a new one). */
  release(): void;
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
export function writerConnection(sqlite: Database.Database, clock: WriteClock): SqliteConnection {
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
export function readerConnection(sqlite: Database.Database, clock: WriteClock): ReaderConnection {
  // The reader only reads, and memory-mapped reads bypass SQLite's page cache: a
  // small one keeps the process's memory down without costing lookups.
  sqlite.pragma('cache_size = -8192');
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

export function openSqlite(file: string): Database.Database {
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
