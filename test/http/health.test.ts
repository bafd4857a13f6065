/**
 * /healthz answers while the process runs; /readyz only while the database answers
 * and its schema is this version's: pending migrations, or a schema a newer
 * Rollcall migrated, are 503 with a JSON reason, and so is a database that is gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Kysely, Migrator, sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { openDatabase } from '../../src/store/db.js';
import { knownMigrations, migrationProvider } from '../../src/store/migrations.js';
import { buildInfo } from '../../src/build-info.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const d = await freshDatabase('rollcall-health-');
  cleanups.push(() => d.drop());
  return d;
}

async function serve(url: string, migrate?: false): Promise<{ rc: Rollcall; app: FastifyInstance }> {
  const rc = await createRollcall({ databaseUrl: url, publicUrl: 'https://scim.test', migrate });
  const app = await buildServer(rc, { logger: false });
  cleanups.push(async () => {
    await app.close();
    await rc.close().catch(() => {});
  });
  return { rc, app };
}

async function probe(app: FastifyInstance, url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

describe('readiness', () => {
  it('is ready with the version when the database answers and no migration is pending', async () => {
    const d = await database();
    const { app } = await serve(d.url);
    const { version, commit } = buildInfo();
    expect(await probe(app, '/readyz')).toEqual({ status: 200, body: { status: 'ready', version, commit: commit ?? null } });
    expect(await probe(app, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('is 503 MIGRATIONS_PENDING while a migration is pending, and ready once it is applied', async () => {
    const d = await database();
    const opened = await openDatabase(d.url, { migrate: false });
    const names = knownMigrations(opened.dialect);
    const migrator = new Migrator({ db: opened.db as Kysely<any>, provider: migrationProvider(opened.dialect) });
    expect((await migrator.migrateTo(names[names.length - 2])).error).toBeUndefined();
    const { app } = await serve(d.url, false);
    const r = await probe(app, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'unavailable', code: 'ROLLCALL_MIGRATIONS_PENDING' });
    expect(r.body.reason).toContain(names[names.length - 1]);
    expect((await probe(app, '/healthz')).status).toBe(200);
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    await opened.close();
    expect((await probe(app, '/readyz')).status).toBe(200);
  });

  it('is 503 SCHEMA_NEWER once an instance of a newer version has migrated the database', async () => {
    const d = await database();
    const { rc, app } = await serve(d.url);
    expect((await probe(app, '/readyz')).status).toBe(200);
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(rc.database.db);
    const r = await probe(app, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'unavailable', code: 'ROLLCALL_SCHEMA_NEWER' });
    expect(r.body.reason).toContain('9999_from_the_future');
  });

  it('is 503 with the database error as the reason when the database is gone; /healthz still answers', async () => {
    const d = await database();
    const { rc, app } = await serve(d.url);
    await rc.database.close();
    const r = await probe(app, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('unavailable');
    expect(r.body.code).toBeUndefined();
    expect(typeof r.body.reason).toBe('string');
    expect((r.body.reason as string).length).toBeGreaterThan(0);
    expect((await probe(app, '/healthz')).status).toBe(200);
  });
});
