/**
 * Which database a test runs on: SQLite (a temp file) by default, PostgreSQL when
 * ROLLCALL_TEST_DATABASE=postgres (a fresh database per test app, created on the
 * server named by ROLLCALL_TEST_PG_URL and dropped afterwards).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE = process.env.ROLLCALL_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = TEST_DATABASE === 'postgres';

export interface TestDatabase {
  url: string;
  /** The SQLite file (undefined on PostgreSQL). */
  file?: string;
  dir: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.ROLLCALL_TEST_PG_URL;
  if (!url) throw new Error('ROLLCALL_TEST_DATABASE=postgres needs ROLLCALL_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  return url;
}

export async function freshDatabase(prefix = 'rollcall-test-'): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (!onPostgres) {
    const file = path.join(dir, 'rollcall.db');
    return { url: `sqlite:${file}`, file, dir, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `rc_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    dir,
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
