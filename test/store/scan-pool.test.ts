/**
 * The SQLite scan pool: reads that may scan run on worker threads, so the event
 * loop keeps serving while they run; one connection runs one scan at a time; a
 * scan over the time budget is refused and its worker replaced.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteScanPool } from '../../src/store/sqlite-scan-pool.js';

/** A query SQLite needs a second or more for, whatever the data: a long recursive count. */
const slow = (n: number) => CompiledQuery.raw(`with recursive c(x) as (select 1 union all select x + 1 from c where x < ?) select count(*) as n from c`, [n]);

let dir: string;
let file: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-scan-'));
  file = path.join(dir, 'db.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`create table t (v text); insert into t values ('Ä'), ('b')`);
  db.close();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SqliteScanPool', () => {
  it('returns the rows readDb would, with the folding function the main connections have', async () => {
    const pool = new SqliteScanPool(file);
    try {
      const rows = await pool.rows<{ v: string }>(CompiledQuery.raw(`select scim_lower(v) as v from t where v = ? or v = ? order by v`, ['Ä', 'b']), 'c1');
      expect(rows).toEqual([{ v: 'b' }, { v: 'ä' }]);
      await expect(pool.rows(CompiledQuery.raw('select nope from t', []), 'c1')).rejects.toThrow(/no such column/);
      await expect(pool.rows(CompiledQuery.raw(`insert into t values ('x')`, []), 'c1')).rejects.toThrow(/only queries that return rows|readonly/);
    } finally {
      await pool.close();
    }
  });

  it('the event loop keeps turning while a long scan runs', async () => {
    const pool = new SqliteScanPool(file, { timeoutMs: 0 });
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const started = Date.now();
      const [{ n }] = await pool.rows<{ n: number }>(slow(5_000_000), 'c1');
      const took = Date.now() - started;
      clearInterval(timer);
      expect(n).toBe(5_000_000);
      // Had the scan run on this thread, no tick could have fired until it ended.
      expect(took).toBeGreaterThan(200);
      expect(ticks).toBeGreaterThan(took / 10 / 4);
    } finally {
      await pool.close();
    }
  });

  it("one connection's scans run one at a time; another connection's scan is not queued behind them", async () => {
    const pool = new SqliteScanPool(file, { workers: 2, timeoutMs: 0 });
    try {
      const order: string[] = [];
      const a1 = pool.rows(slow(2_000_000), 'A').then(() => order.push('A1'));
      const a2 = pool.rows(slow(2_000_000), 'A').then(() => order.push('A2'));
      const b = pool.rows(CompiledQuery.raw('select 1 as n', []), 'B').then(() => order.push('B'));
      await Promise.all([a1, a2, b]);
      // B took the second worker at once; A's second scan waited for its first.
      expect(order).toEqual(['B', 'A1', 'A2']);
    } finally {
      await pool.close();
    }
  });

  it('a scan over the time budget is refused with a catalogue code; the pool keeps working', async () => {
    const pool = new SqliteScanPool(file, { workers: 1, timeoutMs: 100 });
    try {
      const err = await pool.rows(slow(3_000_000), 'c1').catch((e) => e);
      expect(err.code).toBe('ROLLCALL_QUERY_TOO_SLOW');
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/longer than 100 ms/);
      expect(await pool.rows(CompiledQuery.raw(`select count(*) as n from t`, []), 'c1')).toEqual([{ n: 2 }]);
    } finally {
      await pool.close();
    }
  });
});
