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
  // The reader only reads: half the writer's cache (which holds pages a write
  // changes) is plenty.
  sqlite.pragma(`cache_size = -${Math.max(1, Math.floor(sqliteMemory().cacheMiB / 2)) * 1024}`);
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

/**
 * ROLLCALL_SQLITE_CACHE_MIB (default 16) and ROLLCALL_SQLITE_MMAP_MIB (default 0):
 * the writer's page cache and how much of the file is memory-mapped, for operators
 * who would rather spend memory than syscalls.
 */
export function sqliteMemory(env: NodeJS.ProcessEnv = process.env): { cacheMiB: number; mmapMiB: number } {
  const read = (name: string, def: number, max: number) => {
    const raw = env[name]?.trim();
    if (!raw) return def;
    if (!/^\d+$/.test(raw) || Number(raw) > max) throw new Error(`${name} must be a whole number of MiB from 0 to ${max}, got '${raw}'`);
    return Number(raw);
  };
  return { cacheMiB: Math.max(1, read('ROLLCALL_SQLITE_CACHE_MIB', 16, 4096)), mmapMiB: read('ROLLCALL_SQLITE_MMAP_MIB', 0, 65536) };
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
  // The page cache (SQLite's default is 2 MB) and memory-mapped reads trade memory
  // for fewer read syscalls. Measured with the soak (docs/reliability.md): 16 MiB
  // and no mmap create users as fast as 64 MiB and 256 MiB of mmap at 25,000 users,
  // at 53 MiB less RSS, and the mapped file pages alone were 240 MiB of RSS at
  // 100,000 users. The OS page cache still keeps the file's pages close.
  const { cacheMiB, mmapMiB } = sqliteMemory();
  sqlite.pragma(`cache_size = -${cacheMiB * 1024}`);
  sqlite.pragma(`mmap_size = ${mmapMiB * 1024 * 1024}`);
  // SQLite's lower() folds ASCII only; *_lc columns are folded by JavaScript, so
  // filters fold JSON values the same way.
  sqlite.function('scim_lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  return sqlite;
}
