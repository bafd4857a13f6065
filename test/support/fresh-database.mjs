/**
 * A fresh, empty Rollcall database on the backend the tests run on, shared by the
 * TypeScript harness (test/support/databases.ts) and the plain-JS process helpers
 * (test/conformance/server-process.mjs):
 *
 * - SQLite (default): a file `rollcall.db` in a new temp directory.
 * - PostgreSQL when ROLLCALL_TEST_DATABASE=postgres: a new database `rc_test_<hex>`
 *   created on the server named by ROLLCALL_TEST_PG_URL (an admin URL, e.g.
 *   postgres://postgres@127.0.0.1:5432/postgres) and dropped by drop().
 *
 * vitest.config.ts sets ROLLCALL_TEST_DATABASE per project (ROLLCALL_TEST_DATABASES
 * picks the projects); child processes inherit it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** 'postgres' or 'sqlite', from ROLLCALL_TEST_DATABASE (read at each call: tests may set it late). */
export function testDatabase() {
  return process.env.ROLLCALL_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}

/** The admin URL of the PostgreSQL test server; throws a clear error when it is not set. */
export function pgAdminUrl() {
  const url = process.env.ROLLCALL_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'ROLLCALL_TEST_DATABASE=postgres needs ROLLCALL_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres; ' +
        '`scripts/pg-test-cluster.sh start` prints one)',
    );
  }
  return url;
}

async function adminQuery(sql) {
  const c = new pg.Client({ connectionString: pgAdminUrl(), connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The URL of database `name` on the test server (the admin URL with another path). */
export function pgDatabaseUrl(name) {
  const u = new URL(pgAdminUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates an empty PostgreSQL database on the test server; resolves to { name, url }. */
export async function createPgDatabase() {
  const name = `rc_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  return { name, url: pgDatabaseUrl(name) };
}

/** Drops a database createPgDatabase() made (connections still open to it are ended). */
export async function dropPgDatabase(name) {
  if (!/^rc_test_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop '${name}': not a test database`);
  await adminQuery(`drop database if exists ${name} with (force)`);
}

/**
 * A fresh database and a fresh temp directory (for files a test writes; on SQLite it
 * holds the database file). drop() removes both.
 */
export async function freshDatabase(prefix = 'rollcall-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  if (testDatabase() !== 'postgres') {
    const file = path.join(dir, 'rollcall.db');
    return { url: `sqlite:${file}`, file, dir, drop: async () => removeDir() };
  }
  let created;
  try {
    created = await createPgDatabase();
  } catch (e) {
    removeDir();
    throw e;
  }
  return {
    url: created.url,
    dir,
    async drop() {
      removeDir();
      await dropPgDatabase(created.name);
    },
  };
}
