/**
 * Online backup and offline restore of a SQLite database file.
 *
 * The backup is `VACUUM INTO`: one read transaction, so the copy is the database
 * as of one moment (every write acknowledged before it began is in it) while the
 * server keeps writing beside it. SQLite's page-by-page backup API restarts
 * whenever another process writes, which under a steady provisioning load may be
 * never-ending; VACUUM INTO does not, and compacts the copy on the way.
 *
 * A restore checks the file first (complete, `integrity_check`, Rollcall's tables,
 * no migration this version does not know), then swaps it in by rename, keeping
 * the replaced file beside it. Nothing touches the current database until the
 * file has passed every check.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fail, isRollcallError } from '../scim/errors.js';
import { sqliteDialect } from './dialect.js';
import { knownMigrations } from './migrations.js';

/** What a backup or a file to restore holds, table by table. */
export interface BackupContents {
  /** Rows per table (users counts every state: live, deactivated and soft-deleted). */
  rows: Record<string, number>;
  /** Applied migrations, oldest first. */
  migrations: string[];
}

export interface BackupReport extends BackupContents {
  file: string;
  bytes: number;
  ms: number;
}

/** Tables every Rollcall database has had since its first migration. */
const REQUIRED_TABLES = ['organizations', 'connections', 'connection_tokens', 'users', 'groups', 'kysely_migration'];
/** Tables whose row counts a report shows. */
const COUNTED = ['organizations', 'connections', 'users', 'groups', 'memberships', 'events', 'webhooks'];

function tableNames(db: Database.Database): Set<string> {
  return new Set((db.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[]).map((r) => r.name));
}

function contentsOf(db: Database.Database): BackupContents {
  const tables = tableNames(db);
  const rows: Record<string, number> = {};
  for (const t of COUNTED) if (tables.has(t)) rows[t] = (db.prepare(`select count(*) as n from "${t}"`).get() as { n: number }).n;
  const migrations = tables.has('kysely_migration')
    ? (db.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name)
    : [];
  return { rows, migrations };
}

/** Copies the database at `source` into the new file `target` while others keep writing to it. */
export function backupSqlite(source: string, target: string): BackupReport {
  const started = performance.now();
  if (!fs.existsSync(source)) throw fail('ROLLCALL_BACKUP_FAILED', `there is no database at ${source} to back up`);
  if (fs.existsSync(target)) throw fail('ROLLCALL_BACKUP_FAILED', `${target} exists; a backup never overwrites a file (choose a new name)`);
  // Written beside the target and renamed when complete: a failed or interrupted
  // backup never leaves a file that looks like a backup.
  const partial = path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.partial-${process.pid}`);
  try {
    const src = new Database(source, { fileMustExist: true });
    try {
      src.pragma('busy_timeout = 10000');
      src.prepare('vacuum into ?').run(partial);
    } finally {
      src.close();
    }
    const copy = new Database(partial);
    let contents: BackupContents;
    try {
      // One self-contained file: no -wal or -shm beside it when it is read or restored.
      copy.pragma('journal_mode = DELETE');
      contents = contentsOf(copy);
    } finally {
      copy.close();
    }
    fsyncFile(partial);
    fs.renameSync(partial, target);
    return { file: target, bytes: fs.statSync(target).size, ms: Math.round(performance.now() - started), ...contents };
  } catch (e) {
    fs.rmSync(partial, { force: true });
    if (isRollcallError(e)) throw e;
    throw fail('ROLLCALL_BACKUP_FAILED', `cannot write the backup ${target}: ${(e as Error).message}`);
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const refuse = (file: string, why: string) => fail('ROLLCALL_RESTORE_REFUSED', `will not restore ${file}: ${why}; the current database is untouched`);

/**
 * Checks that `file` is a complete Rollcall SQLite database this version can
 * serve (after migrating it, if it is older) and says what it holds.
 */
export function inspectSqliteBackup(file: string): BackupContents {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw refuse(file, 'the file does not exist');
  }
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (stat.size < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw refuse(file, 'it is not an SQLite database');
  // The header's page count is valid when its "version valid for" matches the change counter.
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = header.readUInt32BE(28);
  if (header.readUInt32BE(92) === header.readUInt32BE(24) && pages > 0 && stat.size < pages * pageSize) {
    throw refuse(file, `it is truncated (${stat.size} bytes of ${pages * pageSize})`);
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw refuse(file, `SQLite cannot open it (${(e as Error).message})`);
  }
  try {
    let check: string[];
    try {
      check = (db.pragma('integrity_check(5)') as { integrity_check: string }[]).map((r) => r.integrity_check);
    } catch (e) {
      throw refuse(file, `it is damaged (${(e as Error).message})`);
    }
    if (check.length !== 1 || check[0] !== 'ok') throw refuse(file, `integrity_check found damage: ${check.join('; ')}`);
    const tables = tableNames(db);
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length) throw refuse(file, `it is not a Rollcall database (no ${missing.join(', ')} table)`);
    const contents = contentsOf(db);
    const known = new Set(knownMigrations(sqliteDialect));
    const unknown = contents.migrations.filter((m) => !known.has(m));
    if (unknown.length) throw refuse(file, `it was written by a newer Rollcall (migrations ${unknown.join(', ')} are unknown to this version)`);
    return contents;
  } finally {
    db.close();
  }
}

export interface RestoreReport extends BackupContents {
  file: string;
  /** Where the replaced database now is (undefined when there was none). */
  kept?: string;
}

/** Replaces the database at `target` by the backup `file`; refuses while a server has it open. */
export function restoreSqlite(file: string, target: string, now: Date): RestoreReport {
  const contents = inspectSqliteBackup(file);
  let kept: string | undefined;
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  if (fs.existsSync(target)) {
    // Leaving WAL mode needs the only connection to the file: a running server
    // (or any other process using it) makes this fail at once, and the WAL is
    // folded into the file first, so the kept copy is complete on its own.
    const current = new Database(target, { fileMustExist: true });
    try {
      current.pragma('busy_timeout = 0');
      const mode = current.pragma('journal_mode = DELETE', { simple: true });
      if (mode !== 'delete') throw new Error(`journal mode stayed ${String(mode)}`);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_BUSY' || /locked|busy|stayed/i.test((e as Error).message)) {
        throw fail('ROLLCALL_RESTORE_SERVER_RUNNING', `${target} is in use (a server or another command has it open); stop it, then restore`);
      }
      throw e;
    } finally {
      current.close();
    }
  }
  const incoming = `${target}.restoring-${process.pid}`;
  fs.copyFileSync(file, incoming);
  fsyncFile(incoming);
  if (fs.existsSync(target)) {
    kept = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(target, kept);
    for (const side of ['-wal', '-shm']) if (fs.existsSync(target + side)) fs.renameSync(target + side, kept + side);
  }
  fs.renameSync(incoming, target);
  return { file: target, kept, ...contents };
}
