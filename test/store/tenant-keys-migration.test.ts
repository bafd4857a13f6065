/**
 * Migration 0017_tenant_keys: users, user_emails, groups, memberships and events
 * are rebuilt with the connection's small tenant key instead of its id. A database
 * written under 0016 must come through whole: every row, every e-mail lookup,
 * every membership, every event naming its connection (a deleted connection's
 * events included), the cascades of a user's deletion, and new connections must
 * get keys of their own. Runs on both backends (freshDatabase).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Kysely, Migrator } from 'kysely';
import { openDatabase } from '../../src/store/db.js';
import { knownMigrations, migrationProvider } from '../../src/store/migrations.js';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { requestContext } from '../../src/directory/context.js';
import { parseFilter } from '../../src/scim/filter/parse.js';
import { freshDatabase } from '../support/databases.js';

const BEFORE = '0016_users_external_key_only_set';
const MIGRATION = '0017_tenant_keys';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const AT = '2026-11-02T09:00:00.000Z';
const connection = (id: string) => ({ id, organization_id: null, name: id, workspace: 'default', settings: '{}', status: 'active', kind: 'scim', created_at: AT });
const userId = (c: string, n: number) => `0190f000-0000-7000-8000-${c === 'conn-a' ? 'a' : 'b'}${String(n).padStart(11, '0')}`;
const user = (c: string, n: number) => ({
  id: userId(c, n),
  connection_id: c,
  user_name: `User${n}@${c}.test`,
  user_name_lc: `user${n}@${c}.test`,
  external_id: `ext-${n}`,
  external_key: null,
  display_name: `User ${n}`,
  display_name_lc: `user ${n}`,
  active: 1,
  state: 'active',
  version: 1,
  created_at: AT,
  updated_at: AT,
  deactivated_at: null,
  deleted_at: null,
  doc: JSON.stringify({ userName: `User${n}@${c}.test`, active: true, displayName: `User ${n}`, emails: [{ value: `mail${n}@${c}.test`, primary: true }] }),
  app: '{"role":"member","workspace":"default"}',
});

describe('migration 0017_tenant_keys', () => {
  it('keeps every row of a 0016 database, reads them by the new keys, and keys new connections apart', async () => {
    const d = await freshDatabase('rollcall-tenant-keys-');
    cleanups.push(() => d.drop());
    const opened = await openDatabase(d.url, { migrate: false });
    try {
      const names = knownMigrations(opened.dialect);
      expect(names.indexOf(MIGRATION)).toBe(names.indexOf(BEFORE) + 1);
      const migrator = new Migrator({ db: opened.db as Kysely<any>, provider: migrationProvider(opened.dialect) });
      const { error } = await migrator.migrateTo(BEFORE);
      if (error) throw error;
      const db = opened.db as Kysely<any>;
      await db.insertInto('connections').values([connection('conn-a'), connection('conn-b')]).execute();
      const users = [...[1, 2, 3].map((n) => user('conn-a', n)), ...[1, 2].map((n) => user('conn-b', n))];
      await db.insertInto('users').values(users).execute();
      await db
        .insertInto('user_emails')
        .values(users.map((u) => ({ user_id: u.id, connection_id: u.connection_id, value_lc: JSON.parse(u.doc).emails[0].value, type: 'work', primary: 1 })))
        .execute();
      await db
        .insertInto('groups')
        .values({ id: 'g-a', connection_id: 'conn-a', display_name: 'Staff', display_name_lc: 'staff', external_id: null, version: 1, created_at: AT, updated_at: AT, doc: '{"displayName":"Staff"}' })
        .execute();
      await db
        .insertInto('memberships')
        .values([1, 2].map((n) => ({ group_id: 'g-a', member_id: userId('conn-a', n), connection_id: 'conn-a', created_at: AT })))
        .execute();
      // Events: two of live connections and one of a connection deleted before the upgrade.
      const ev = (pos: number, c: string, type: string, resource: string) => ({
        pos,
        id: `0190f000-0000-7000-8000-e0000000000${pos}`,
        organization_id: null,
        sequence: pos,
        connection_id: c,
        type,
        resource_type: 'User',
        resource_id: resource,
        occurred_at: AT,
        data: JSON.stringify({ n: pos }),
        request_id: null,
        member_id: null,
      });
      await db
        .insertInto('events')
        .values([ev(1, 'conn-gone', 'user.created', 'u-gone'), ev(2, 'conn-a', 'user.created', userId('conn-a', 1)), ev(3, 'conn-b', 'user.created', userId('conn-b', 1))])
        .execute();
      await db.insertInto('event_counters').values([{ key: '*', value: 3 }, { key: '', value: 3 }]).execute();
    } finally {
      await opened.close();
    }

    const rc: Rollcall = await createRollcall({ databaseUrl: d.url, publicUrl: 'https://scim.test.example' });
    cleanups.push(() => rc.close());
    const applied = await rc.database.db.selectFrom('kysely_migration' as any).select('name').execute();
    expect(applied.map((r: any) => r.name)).toContain(MIGRATION);

    const tenants = await rc.database.db.selectFrom('tenants').selectAll().orderBy('tenant').execute();
    expect(tenants.map((t) => t.connection_id).sort()).toEqual(['conn-a', 'conn-b', 'conn-gone']);
    expect(new Set(tenants.map((t) => t.tenant)).size).toBe(3);

    const ctx = async (id: string) => requestContext(id, (await rc.connections.show(id))!, 'https://scim.test.example/scim/v2/' + id);
    const a = await ctx('conn-a');
    const b = await ctx('conn-b');
    const list = (c: typeof a, filter?: string) => rc.users.list(c, { filter: filter ? parseFilter(filter) : undefined, startIndex: 1, count: 100 });
    expect((await list(a)).total).toBe(3);
    expect((await list(b)).total).toBe(2);
    // Each lookup an IdP makes, through the rebuilt indexes, and never across connections.
    expect((await list(a, 'userName eq "user2@conn-a.test"')).records.map((r) => r.row.id)).toEqual([userId('conn-a', 2)]);
    expect((await list(b, 'userName eq "user2@conn-a.test"')).total).toBe(0);
    expect((await list(a, 'externalId eq "ext-3"')).records.map((r) => r.row.id)).toEqual([userId('conn-a', 3)]);
    expect((await list(b, 'emails.value eq "mail2@conn-b.test"')).records.map((r) => r.row.id)).toEqual([userId('conn-b', 2)]);
    expect((await rc.users.get(b, userId('conn-b', 1))).row.user_name).toBe('User1@conn-b.test');
    await expect(rc.users.get(a, userId('conn-b', 1))).rejects.toMatchObject({ status: 404 });

    expect((await rc.groups.get(a, 'g-a')).row.display_name).toBe('Staff');
    const members = async () => ((await rc.groups.membersOf(['g-a'])).get('g-a') ?? []).map((m) => m.value).sort();
    expect(await members()).toEqual([userId('conn-a', 1), userId('conn-a', 2)]);

    // The feed names each event's connection, the deleted one's too.
    const feed = await rc.events.feed({ limit: 10 });
    expect(feed.events.slice(0, 3).map((e) => [e.connectionId, e.data])).toEqual([
      ['conn-gone', { n: 1 }],
      ['conn-a', { n: 2 }],
      ['conn-b', { n: 3 }],
    ]);

    // Deleting a user still cascades to its e-mails and memberships (the rebuilt foreign keys).
    await rc.users.delete(a, userId('conn-a', 1));
    await rc.purge(new Date(Date.now() + 400 * 86_400_000));
    const db = rc.database.db;
    expect(await db.selectFrom('user_emails').select('user_id').where('user_id', '=', userId('conn-a', 1)).execute()).toEqual([]);
    expect(await db.selectFrom('memberships').select('member_id').where('member_id', '=', userId('conn-a', 1)).execute()).toEqual([]);
    expect(await members()).toEqual([userId('conn-a', 2)]);

    // A connection made now gets a key of its own; its users are its own.
    const created = await rc.connections.create({ name: 'After the upgrade' });
    const c = await ctx(created.id);
    const made = await rc.users.create(c, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'user2@conn-a.test' });
    expect((await list(c)).records.map((r) => r.row.id)).toEqual([made.row.id]);
    expect((await list(a, 'userName eq "user2@conn-a.test"')).records.map((r) => r.row.id)).toEqual([userId('conn-a', 2)]);
    const key = await db.selectFrom('tenants').select('tenant').where('connection_id', '=', created.id).executeTakeFirstOrThrow();
    expect(tenants.map((t) => t.tenant)).not.toContain(key.tenant);
  });
});
