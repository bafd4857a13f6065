/**
 * What keeps bytes off every stored user (issue 17's storage work, see
 * docs/operations.md "What a user costs on disk"): each check reads the stored
 * rows themselves, so it fails if the waste comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { onPostgres } from '../support/databases.js';
import { userView } from '../../src/directory/emitted-events.js';
import { existingUserIds } from '../../src/store/users.js';
import { type ScimClient, type TestApp, type TestConnection, scimClient, startTestApp } from '../support/app.js';

let t: TestApp;
let conn: TestConnection;
let scim: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  t.rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
  conn = await t.connection('Footprint');
  scim = scimClient(t.app, conn, { 'user-agent': 'Okta SCIM Client 1.0.0' });
});
afterAll(async () => {
  await t?.close();
});

const user = (n: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `footprint.user${n}@example.com`,
  active: true,
});

describe('users.app', () => {
  it('is stored without its null and empty parts, and read back as null, {} and []', async () => {
    const r = await scim.post('/Users', user(1));
    expect(r.status).toBe(201);
    const id = (r.body as { id: string }).id;
    const row = await t.rc.database.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const stored = JSON.parse(row.app);
    expect(stored).toEqual({ role: 'member', workspace: 'default' });
    expect(row.app).not.toMatch(/null|\{\}|\[\]/);
    const view = userView({ connectionId: conn.id, baseUrl: conn.base }, row, JSON.parse(row.doc));
    expect(view).toMatchObject({ role: 'member', language: null, primaryLanguage: null, profile: {}, flags: [], workspace: 'default' });
  });
});

describe('user and group ids', () => {
  it('are UUIDv7: later ones sort after earlier ones (new index entries go to the right edge)', async () => {
    const ids: string[] = [];
    for (let i = 10; i < 14; i++) {
      ids.push(((await scim.post('/Users', user(i))).body as { id: string }).id);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    const g = await scim.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Footprint group' });
    expect(g.status).toBe(201);
    expect((g.body as { id: string }).id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });
});

describe('the provisioning log', () => {
  it("stores a path's connection id as one space and shows the whole path", async () => {
    await t.rc.requestLog.flush();
    const stored = await t.rc.database.db.selectFrom('request_log').select(['id', 'path']).where('connection_id', '=', conn.id).execute();
    expect(stored.length).toBeGreaterThan(0);
    for (const r of stored) {
      expect(r.path).not.toContain(conn.id);
      expect(r.path).toMatch(/^\/scim\/v2\/ \//);
    }
    const page = await t.rc.requestLog.list(conn.id, { limit: 100 });
    expect(page.requests.length).toBe(stored.length);
    for (const r of page.requests) expect(r.path.startsWith(`/scim/v2/${conn.id}/`)).toBe(true);
    const one = await t.rc.requestLog.get(conn.id, stored[0].id);
    expect(one?.path).toBe(`/scim/v2/${conn.id}${stored[0].path.slice('/scim/v2/ '.length)}`);
  });

  it('reads rows stored before the change (whole paths) unchanged', async () => {
    const rows = await t.rc.database.db.selectFrom('request_log').selectAll().where('connection_id', '=', conn.id).orderBy('id', 'desc').limit(1).execute();
    const old = { ...rows[0], id: `${rows[0].id.slice(0, -4)}0000`, path: `/scim/v2/${conn.id}/Users?filter=x` };
    await t.rc.database.db.insertInto('request_log').values(old).execute();
    expect((await t.rc.requestLog.get(conn.id, old.id))?.path).toBe(`/scim/v2/${conn.id}/Users?filter=x`);
  });
});

describe('the mapping-key index', () => {
  it('holds only users whose key is set (userName as the key leaves it null), and still refuses a duplicate externalId key', async () => {
    if (onPostgres) {
      const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'users_external_key_live'`.execute(t.rc.database.db);
      expect(rows[0].indexdef).toMatch(/external_key IS NOT NULL/i);
    } else {
      const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where name = 'users_external_key_live'`.execute(t.rc.database.db);
      expect(rows[0].sql).toMatch(/"external_key" is not null/i);
    }
    const keyed = await t.connection('Keyed', { settings: { mappingKey: 'externalId' } });
    const k = scimClient(t.app, keyed);
    expect((await k.post('/Users', { ...user(50), externalId: 'same-key' })).status).toBe(201);
    const dup = await k.post('/Users', { ...user(51), externalId: 'same-key' });
    expect(dup.status).toBe(409);
  });
});

describe.runIf(onPostgres)('locking users by id (PostgreSQL)', () => {
  it("never locks another connection's rows, whatever ids a request names", async () => {
    const other = await t.connection('Other tenant');
    const theirs = ((await scimClient(t.app, other).post('/Users', user(90))).body as { id: string }).id;
    const ours = ((await scim.post('/Users', user(91))).body as { id: string }).id;
    const db = t.rc.database.db;
    await db.transaction().execute(async (trx) => {
      const found = await existingUserIds(trx, conn.id, [theirs, ours], true);
      expect([...found]).toEqual([ours]);
      // Another session may lock the other tenant's user at once; ours is held.
      await expect(sql`select id from users where id = ${theirs} for update nowait`.execute(db)).resolves.toBeDefined();
      await expect(sql`select id from users where id = ${ours} for update nowait`.execute(db)).rejects.toThrow(/lock/i);
    });
  });
});

describe('event data', () => {
  it('is stored compressed on both backends (bytes on SQLite, base64 text after "~" on PostgreSQL) and read back whole', async () => {
    const r = await scim.post('/Users', user(95));
    const id = (r.body as { id: string }).id;
    const rows = await t.rc.database.db.selectFrom('events').select(['data', 'type']).where('resource_id', '=', id).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      if (onPostgres) expect(String(row.data).startsWith('~')).toBe(true);
      else expect(typeof row.data).not.toBe('string');
    }
    const seen = [];
    let after: string | undefined;
    for (;;) {
      const page = await t.rc.events.feed({ after, limit: 1000 });
      seen.push(...page.events);
      if (!page.events.length || page.next === after) break;
      after = page.next;
    }
    const created = seen.find((e) => e.type === 'user.created' && e.data.id === id);
    expect(created?.data.userName).toBe('footprint.user95@example.com');
  });
});

describe('the tenant key (migration 0017)', () => {
  const TABLES = ['users', 'user_emails', 'groups', 'memberships', 'events'] as const;

  it("stores a small integer per row instead of the connection's id, in every directory table and the outbox", async () => {
    const r = await scim.post('/Users', { ...user(60), emails: [{ value: 'footprint.user60@example.com', primary: true }] });
    const id = (r.body as { id: string }).id;
    const g = await scim.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Tenant key group', members: [{ value: id }] });
    expect(g.status).toBe(201);
    const db = t.rc.database.db;
    for (const table of TABLES) {
      const columns = (await db.introspection.getTables()).find((x) => x.name === table)!.columns.map((c) => c.name);
      expect(columns, table).toContain('tenant');
      expect(columns, table).not.toContain('connection_id');
    }
    const key = await db.selectFrom('tenants').select('tenant').where('connection_id', '=', conn.id).executeTakeFirstOrThrow();
    const row = await db.selectFrom('users').select('tenant').where('id', '=', id).executeTakeFirstOrThrow();
    expect(Number(row.tenant)).toBe(Number(key.tenant));
    expect(Number.isInteger(Number(key.tenant))).toBe(true);
    const email = await db.selectFrom('user_emails').select('tenant').where('user_id', '=', id).executeTakeFirstOrThrow();
    expect(Number(email.tenant)).toBe(Number(key.tenant));
    // Read back with the connection's id where it is published.
    const feed = await t.rc.events.feed({ limit: 1000 });
    expect(feed.events.find((e) => e.type === 'user.created' && e.data.id === id)?.connectionId).toBe(conn.id);
  });

  it('keys each connection apart, and the created-order indexes end at created_at (no id in every entry)', async () => {
    const other = await t.connection('Second tenant');
    const keys = await t.rc.database.db.selectFrom('tenants').select(['tenant', 'connection_id']).where('connection_id', 'in', [conn.id, other.id]).execute();
    expect(new Set(keys.map((k) => Number(k.tenant))).size).toBe(2);
    for (const index of ['users_created', 'groups_created']) {
      const def = onPostgres
        ? (await sql<{ d: string }>`select indexdef as d from pg_indexes where indexname = ${index}`.execute(t.rc.database.db)).rows[0].d
        : (await sql<{ d: string }>`select sql as d from sqlite_master where name = ${index}`.execute(t.rc.database.db)).rows[0].d;
      expect(def, index).toMatch(/\(\s*"?tenant"?,\s*"?created_at"?\s*\)/);
    }
  });
});
