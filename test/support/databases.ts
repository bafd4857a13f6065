/**
 * Which database a test runs on: SQLite (a temp file) by default, PostgreSQL when
 * ROLLCALL_TEST_DATABASE=postgres (a fresh database per test app, created on the
 * server named by ROLLCALL_TEST_PG_URL and dropped afterwards).
 *
 * vitest.config.ts runs one project per backend listed in ROLLCALL_TEST_DATABASES
 * and sets ROLLCALL_TEST_DATABASE for each. The work is done in fresh-database.mjs,
 * shared with the plain-JS server helper (test/conformance/server-process.mjs).
 */
import { freshDatabase, testDatabase, type TestDatabase } from './fresh-database.mjs';

export const TEST_DATABASE = testDatabase();
export const onPostgres = TEST_DATABASE === 'postgres';

export { freshDatabase, type TestDatabase };
