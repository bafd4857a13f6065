/** PostgreSQL: a pool from the URL, TLS as its sslmode says, migrations under an advisory lock. */
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { type Compilable, Kysely, PostgresDialect, sql } from 'kysely';
import { WriteBatcher } from './batch.js';
import type { DB } from './types.js';
import { type MigrateMode, migrate, migrationStatus } from './migrations.js';
import { postgresDialect } from './dialect.js';
import { redactUrl } from './database-url.js';
import { fail } from '../scim/errors.js';
import { READ_SNAPSHOT_MS, type OpenedDatabase, type OpenOptions } from './opened-database.js';
import { isNoTlsOnServer, postgresTls } from './postgres-tls.js';

/** Advisory lock key for migrations, so instances starting together migrate one at a time. */
const MIGRATION_LOCK = 7_216_400_201;

/**
 * PostgreSQL (or a compatible engine). Pool size and statement timeout come from
 * the URL (`?pool=20&statement_timeout=30000`) or DATABASE_POOL_SIZE /
 * DATABASE_STATEMENT_TIMEOUT_MS; TLS from the URL's `sslmode`. Every instance is
 * stateless: reads and writes both go to the database.
 */
/** Runs `fn` after every earlier call with the same key has settled. */
function keyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    tails.set(key, run);
    const forget = () => {
      if (tails.get(key) === run) tails.delete(key);
    };
    run.then(forget, forget);
    return run;
  };
}

export async function openPostgres<E>(url: string, opts: OpenOptions): Promise<OpenedDatabase<E>> {
  const u = new URL(url);
  const poolSize = Number(u.searchParams.get('pool') ?? process.env.DATABASE_POOL_SIZE ?? 10);
  const oneAtATime = keyedQueue();
  const statementTimeout = Number(u.searchParams.get('statement_timeout') ?? process.env.DATABASE_STATEMENT_TIMEOUT_MS ?? 30_000);
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`database pool size must be a positive integer, got '${poolSize}'`);
  if (!Number.isInteger(statementTimeout) || statementTimeout < 0) throw new Error(`statement timeout must be a whole number of ms, got '${statementTimeout}'`);
  u.searchParams.delete('pool');
  u.searchParams.delete('statement_timeout');
  const tls = postgresTls(u);
  const connect = async (ssl: false | ConnectionOptions) => {
    const pool = new pg.Pool({ connectionString: tls.url, ssl, max: poolSize, statement_timeout: statementTimeout || undefined });
    // An idle pooled connection that the server closes (restart, failover, admin
    // command) must not take the process down: the pool drops it and connects anew.
    pool.on('error', (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    try {
      await sql`select 1`.execute(db);
      return db;
    } catch (e) {
      await db.destroy();
      throw e;
    }
  };
  let db: Kysely<DB>;
  try {
    try {
      db = await connect(tls.ssl);
    } catch (e) {
      // sslmode=prefer/allow: a server without TLS is spoken to in plain text.
      if (!(tls.fallbackToPlain && isNoTlsOnServer(e))) throw e;
      db = await connect(false);
    }
  } catch (e) {
    throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}${tls.mode ? ` (sslmode=${tls.mode})` : ''}: ${(e as Error).message}`);
  }
  const migrateLocked = (mode: MigrateMode = 'apply') =>
    db.connection().execute(async (conn) => {
      // Waiting for another instance's migration, or a migration rewriting a large
      // table, may take longer than a request may: no statement timeout here.
      await sql`set statement_timeout = 0`.execute(conn);
      try {
        await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
        try {
          return await migrate(conn, postgresDialect, mode);
        } finally {
          await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
        }
      } finally {
        // Back to the pool's setting before the connection serves requests.
        await sql`reset statement_timeout`.execute(conn);
      }
    });
  if (opts.migrate !== false) {
    try {
      await migrateLocked(opts.migrate === 'check' ? 'check' : 'apply');
    } catch (e) {
      await db.destroy();
      throw e;
    }
  }
  return {
    db,
    writes: new WriteBatcher<E>(db, { concurrency: Math.max(1, Math.floor(poolSize / 2)) }),
    readDb: db,
    // No snapshot to hold: results derived from reads may be reused for one interval.
    readSnapshot: () => Math.floor(Date.now() / READ_SNAPSHOT_MS),
    // The server does the work; statement_timeout bounds it, refused as on SQLite.
    // One scan at a time per connection, as on SQLite: a connection's expensive
    // filters then take one server core, not all of them.
    scan: <R>(query: Compilable<R>, key: string) =>
      oneAtATime(key, async () => {
        try {
          return (await db.executeQuery(query.compile())).rows as R[];
        } catch (e) {
          if ((e as { code?: string }).code !== '57014') throw e;
          throw fail('ROLLCALL_QUERY_TOO_SLOW', `The query ran longer than ${statementTimeout} ms (statement_timeout) and was stopped; narrow the filter (indexed: id, userName, externalId, emails.value, displayName).`);
        }
      }),
    dialect: postgresDialect,
    optimize: () => {},
    migrate: migrateLocked,
    migrationStatus: () => migrationStatus(db, postgresDialect),
    close: () => db.destroy(),
  };
}
