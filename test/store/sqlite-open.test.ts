/**
 * Opening a SQLite file that another process is setting up at the same moment
 * (two `rollcall serve` started together on a fresh file): the second must wait
 * for the first's lock, not exit with "database is locked". Both switching the
 * fresh file to WAL at once is a lock SQLite refuses at once rather than waits
 * for (seen in CI, about 1 start in 25); retryWhileBusy covers it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { retryWhileBusy } from '../../src/store/sqlite-connections.js';
import { onPostgres } from '../support/databases.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A child process that takes the write lock on `file` and holds it for `ms`. */
function holdLock(file: string, ms: number): Promise<{ done: Promise<void> }> {
  const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(file)});
    db.exec('begin exclusive');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('commit'); db.close(); }, ${ms});
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`)))));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ done }));
    child.once('error', reject);
  });
}

describe.skipIf(onPostgres)('opening a SQLite file another process holds', () => {
  it('waits for the lock on a fresh file instead of failing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-open-'));
    dirs.push(dir);
    const file = path.join(dir, 'fresh.db');
    const holder = await holdLock(file, 1500);
    const opened = await openDatabase(`sqlite:${file}`);
    try {
      expect(await opened.db.selectFrom('connections').select('id').execute()).toEqual([]);
    } finally {
      await opened.close();
    }
    await holder.done;
  });
});

describe.skipIf(onPostgres)('retryWhileBusy', () => {
  const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

  it('tries again while SQLite answers busy, then returns the result', () => {
    let calls = 0;
    const fn = vi.fn(() => {
      if (++calls < 3) throw busy();
      return 'wal';
    });
    expect(retryWhileBusy(fn, 5_000)).toBe('wal');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('retries the extended busy codes too (another process recovering the WAL)', () => {
    let calls = 0;
    const fn = vi.fn(() => {
      if (++calls < 2) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_RECOVERY' });
      return 'wal';
    });
    expect(retryWhileBusy(fn, 5_000)).toBe('wal');
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('gives up after its time and rethrows the busy error', () => {
    const fn = vi.fn(() => {
      throw busy();
    });
    expect(() => retryWhileBusy(fn, 0)).toThrow('database is locked');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('rethrows other errors at once', () => {
    const fn = vi.fn(() => {
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    });
    expect(() => retryWhileBusy(fn, 5_000)).toThrow('disk I/O error');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
