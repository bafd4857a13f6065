/**
 * WAL checkpoints run on a worker thread (store/sqlite-checkpointer.ts), so the
 * writer's commits never do them: the writer's auto-checkpoint is off, the worker
 * copies committed frames into the database file, and the data stays whole.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { onPostgres } from '../support/databases.js';
import { SqliteCheckpointer } from '../../src/store/sqlite-checkpointer.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { waitFor } from '../support/wait.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-ckpt-'));
  dirs.push(dir);
  return path.join(dir, 'rollcall.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe.skipIf(onPostgres)('WAL checkpoints on a worker thread', () => {
  it('copies what the writer committed into the database file while the writer runs no checkpoint', async () => {
    const file = tempFile();
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('create table t (id integer primary key, v text)');
    const insert = writer.prepare('insert into t (v) values (?)');
    for (let i = 0; i < 500; i++) insert.run('x'.repeat(200));
    const lost: string[] = [];
    const cp = new SqliteCheckpointer(file, 20, () => lost.push('lost'));
    expect(await cp.started).toBe(true);
    await waitFor(() => cp.stats.runs > 0 && cp.stats.frames > 0 && cp.stats.copied === cp.stats.frames, 'the worker copied every frame', 5_000);
    // Another connection reading only the database file (the WAL set aside) sees every row.
    await cp.stop();
    writer.close();
    const copy = path.join(path.dirname(file), 'copy.db');
    fs.copyFileSync(file, copy);
    const alone = new Database(copy, { readonly: true });
    expect((alone.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(500);
    alone.close();
    expect(lost).toEqual([]);
  });

  it('a server database turns the writer\'s own checkpoints off, and back on without the worker', async () => {
    const withWorker = await openSqliteDatabase(tempFile(), {});
    const autockpt = async (d: typeof withWorker) => Number(Object.values((await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(d.db)).rows[0])[0]);
    expect(await autockpt(withWorker)).toBe(0);
    await withWorker.close();
    const without = await openSqliteDatabase(tempFile(), { checkpointWorker: false });
    expect(await autockpt(without)).toBe(1000);
    await without.close();
  });

  it('keeps the WAL short under steady writes while reads hold snapshots', async () => {
    const file = tempFile();
    const opened = await openSqliteDatabase(file, {});
    await sql`create table filler (id integer primary key, v text)`.execute(opened.db);
    // The WAL header's checkpoint sequence number (bytes 12–15) counts the resets of the file.
    const resets = () => {
      const fd = fs.openSync(`${file}-wal`, 'r');
      try {
        const head = Buffer.alloc(16);
        fs.readSync(fd, head, 0, 16, 0);
        return head.readUInt32BE(12);
      } finally {
        fs.closeSync(fd);
      }
    };
    let written = 0;
    await opened.db.insertInto('filler' as never).values({ v: 'first' } as never).execute();
    const before = resets();
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      await opened.db.insertInto('filler' as never).values({ v: 'y'.repeat(4000) } as never).execute();
      written += 4096;
      await sql`select count(*) from filler`.execute(opened.readDb);
      await new Promise((r) => setTimeout(r, 2));
    }
    // Reset about once a second (WAL_CHECKPOINT_MS), although a read snapshot was open nearly all the time.
    expect(written).toBeGreaterThan(2 * 1024 * 1024);
    expect(resets() - before).toBeGreaterThanOrEqual(2);
    await opened.close();
  });
});
