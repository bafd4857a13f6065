/**
 * Vitest globalSetup of the `postgres` project (vitest.config.ts): before any test
 * file runs, check that ROLLCALL_TEST_PG_URL is set, that the server answers, and
 * that it lets us create and drop databases (every test app gets a fresh one).
 * Fails the run at once with one clear message instead of hundreds of test errors.
 */
import pg from 'pg';
import { createPgDatabase, dropPgDatabase } from './fresh-database.mjs';

const HOW = 'start a throwaway cluster with `scripts/pg-test-cluster.sh start` and export the ROLLCALL_TEST_PG_URL it prints, or run SQLite only with ROLLCALL_TEST_DATABASES=sqlite';

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export default async function checkPostgres(): Promise<void> {
  const url = process.env.ROLLCALL_TEST_PG_URL;
  if (!url) throw new Error(`The postgres test project needs ROLLCALL_TEST_PG_URL (a PostgreSQL admin URL such as postgres://postgres@127.0.0.1:5432/postgres): ${HOW}.`);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  let version: string;
  try {
    await client.connect();
    version = (await client.query<{ server_version: string }>('show server_version')).rows[0].server_version;
  } catch (e) {
    throw new Error(`PostgreSQL at ROLLCALL_TEST_PG_URL=${redact(url)} is unreachable (${(e as Error).message || e}): ${HOW}.`);
  } finally {
    await client.end().catch(() => {});
  }
  try {
    const probe = await createPgDatabase();
    await dropPgDatabase(probe.name);
  } catch (e) {
    throw new Error(`PostgreSQL at ${redact(url)} answers, but the tests cannot create and drop a database there (${(e as Error).message || e}); the URL's user needs CREATEDB.`);
  }
  console.log(`postgres project: PostgreSQL ${version} at ${redact(url)}`);
}
