/** Types for fresh-database.mjs (plain JS so that .mjs process helpers can share it). */
export interface TestDatabase {
  /** DATABASE_URL of the new database (sqlite:<file> or postgres://…/rc_test_…). */
  url: string;
  /** The SQLite file (undefined on PostgreSQL). */
  file?: string;
  /** A temp directory of its own (holds the SQLite file). */
  dir: string;
  /** Removes the directory and, on PostgreSQL, drops the database. */
  drop(): Promise<void>;
}
export function testDatabase(): 'sqlite' | 'postgres';
export function pgAdminUrl(): string;
export function pgDatabaseUrl(name: string): string;
export function createPgDatabase(): Promise<{ name: string; url: string }>;
export function dropPgDatabase(name: string): Promise<void>;
export function freshDatabase(prefix?: string): Promise<TestDatabase>;
