/**
 * Migration 0013_explicit_mapping_key: the default mapping key became userName,
 * so connections made before (whose settings relied on the old externalId
 * default) get `mappingKey: 'externalId'` written into their settings; settings
 * that already name a key keep it. Connections made afterwards get userName.
 * Runs on both backends (freshDatabase).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Kysely, Migrator } from 'kysely';
import { openDatabase } from '../../src/store/db.js';
import { knownMigrations, migrationProvider } from '../../src/store/migrations.js';
import { storedMappingKey } from '../../src/store/connections.js';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

const BEFORE = '0012_client_credentials';
const MIGRATION = '0013_explicit_mapping_key';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const d = await freshDatabase('rollcall-mapping-key-');
  cleanups.push(() => d.drop());
  return d;
}

async function open(url: string): Promise<Rollcall> {
  const rc = await createRollcall({ databaseUrl: url, publicUrl: 'https://scim.test.example' });
  cleanups.push(() => rc.close());
  return rc;
}

const connectionRow = (id: string, name: string, settings: string) => ({
  id,
  organization_id: null,
  name,
  workspace: 'default',
  settings,
  status: 'active',
  kind: 'scim',
  created_at: '2026-01-05T10:00:00.000Z',
});

describe('migration 0013_explicit_mapping_key', () => {
  it('writes externalId into settings that lack a mappingKey, keeps one that is set; a new connection gets userName', async () => {
    const d = await database();
    const opened = await openDatabase(d.url, { migrate: false });
    try {
      const names = knownMigrations(opened.dialect);
      expect(names.indexOf(MIGRATION)).toBe(names.indexOf(BEFORE) + 1);
      const migrator = new Migrator({ db: opened.db as Kysely<any>, provider: migrationProvider(opened.dialect) });
      const { error } = await migrator.migrateTo(BEFORE);
      if (error) throw error;
      const db = opened.db as Kysely<any>;
      await db
        .insertInto('connections')
        .values([
          connectionRow('conn-old-default', 'Made under the externalId default', JSON.stringify({ domains: ['acme.com'], retentionDays: 10, lockMappingKey: true })),
          connectionRow('conn-user-name', 'Chose userName', JSON.stringify({ mappingKey: 'userName', defaultLanguage: 'de' })),
        ])
        .execute();
    } finally {
      await opened.close();
    }

    // Opening Rollcall applies the pending migration (ROLLCALL_MIGRATE=apply, the default).
    const rc = await open(d.url);
    const applied = await rc.database.db.selectFrom('kysely_migration' as any).select('name').execute();
    expect(applied.map((r: any) => r.name)).toContain(MIGRATION);

    const raw = async (id: string) =>
      JSON.parse((await rc.database.db.selectFrom('connections').select('settings').where('id', '=', id).executeTakeFirstOrThrow()).settings);
    // The rest of the settings are kept as they were; only the key is added.
    expect(await raw('conn-old-default')).toEqual({ domains: ['acme.com'], retentionDays: 10, lockMappingKey: true, mappingKey: 'externalId' });
    expect(await raw('conn-user-name')).toEqual({ mappingKey: 'userName', defaultLanguage: 'de' });

    expect((await rc.connections.show('conn-old-default'))!.settings).toMatchObject({ mappingKey: 'externalId', lockMappingKey: true, retentionDays: 10 });
    expect((await rc.connections.show('conn-user-name'))!.settings).toMatchObject({ mappingKey: 'userName', defaultLanguage: 'de' });
    // What the directory consults for duplicates and restores.
    expect(await storedMappingKey(rc.database.db, 'conn-old-default', false)).toBe('externalId');
    expect(await storedMappingKey(rc.database.db, 'conn-user-name', false)).toBe('userName');

    const created = await rc.connections.create({ name: 'Made after the migration' });
    expect(created.settings.mappingKey).toBe('userName');
    expect((await rc.connections.show(created.id))!.settings.mappingKey).toBe('userName');
    expect(await storedMappingKey(rc.database.db, created.id, false)).toBe('userName');
  });
});
