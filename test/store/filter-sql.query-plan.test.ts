/**
 * The lookups IdPs make on every sync (userName, externalId, id, emails, group
 * displayName) must be index lookups, not scans of the connection's users.
 *
 * The SQL is built exactly as listUsers/listGroups build it, compiled by Kysely,
 * and explained by a raw better-sqlite3 handle on the same database file with the
 * same bound parameters (so partial indexes are judged with the real values).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../support/databases.js';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { parseFilter } from '../../src/scim/filter/parse.js';
import { compileFilter } from '../../src/store/filter-sql.js';
import { groupResourceType, userResourceType } from '../../src/scim/schemas.js';
import { existingUserIds, findRestorable, liveUserApps, liveUsersByIds } from '../../src/store/users.js';
import { existingGroupIds } from '../../src/store/groups.js';
import type { DB } from '../../src/store/types.js';
import { type CompiledQuery, type DatabaseConnection, type Driver, Kysely, type QueryResult, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import { tenantOf } from '../../src/store/tenant.js';
import { browseGroups, browseUsers } from '../../src/store/browse.js';

let dir: string;
let rc: Rollcall;
let raw: Database.Database;
let connectionId: string;

beforeAll(async () => {
  if (onPostgres) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-plan-'));
  const file = path.join(dir, 'rollcall.db');
  rc = await createRollcall({ databaseUrl: `sqlite:${file}`, publicUrl: 'https://scim.test.example' });
  const conn = await rc.connections.create('plans');
  connectionId = conn.id;
  const ctx = { connectionId, baseUrl: 'https://scim.test.example/scim/v2/' + conn.id };
  // Enough rows that a scan is not free.
  const ids: string[] = [];
  for (let i = 0; i < 400; i++) {
    const rec = await rc.users.create(ctx, {
      userName: `user${i}@example.com`,
      externalId: `ext-${i}`,
      displayName: `User ${i}`,
      emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }, { value: `u${i}@home.example`, type: 'home' }],
    });
    ids.push(rec.row.id);
  }
  for (let i = 0; i < 300; i++) await rc.groups.create(ctx, { displayName: `Group ${i}`, externalId: `g-${i}`, members: ids.slice(i % 380, (i % 380) + 20).map((value) => ({ value })) });
  raw = new Database(file);
  raw.function('scim_lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
});

afterAll(async () => {
  if (onPostgres) return;
  raw?.close();
  await rc?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

function plan(resource: 'User' | 'Group', filter: string): { sql: string; rows: PlanRow[]; text: string } {
  const { db, dialect } = rc.database;
  const cond = compileFilter({ rt: resource === 'User' ? userResourceType : groupResourceType, dialect, connectionId }, parseFilter(filter));
  const compiled =
    resource === 'User'
      ? db
          .selectFrom('users')
          .where('users.tenant', '=', tenantOf(connectionId))
          .where('users.state', '<>', 'deleted')
          .where(cond as never)
          .selectAll('users')
          .compile()
      : db.selectFrom('groups').where('groups.tenant', '=', tenantOf(connectionId)).where(cond as never).selectAll('groups').compile();
  const rows = raw.prepare(`explain query plan ${compiled.sql}`).all(...(compiled.parameters as unknown[])) as PlanRow[];
  return { sql: compiled.sql, rows, text: rows.map((r) => r.detail).join('\n') };
}

/** The plan line that reads the outer table (users / groups), not a subquery's table. */
function outerAccess(rows: PlanRow[], table: string): string | undefined {
  return rows.find((r) => new RegExp(`^(SCAN|SEARCH) ${table}\\b`).test(r.detail))?.detail;
}


/**
 * How the outer table is reached, judged on the plan line that reads it: a SEARCH
 * constrained by the filtered column (or the primary key) is an index lookup; a
 * SCAN, or a SEARCH constrained by the tenant key alone, visits every row of the
 * connection.
 */
function assertIndexLookup(resource: 'User' | 'Group', filter: string, constraint?: RegExp) {
  const p = plan(resource, filter);
  const table = resource === 'User' ? 'users' : 'groups';
  const access = outerAccess(p.rows, table);
  const detail = `${filter}\n${p.sql}\n${p.text}`;
  expect(access, detail).toMatch(/^SEARCH /);
  expect(access, detail).not.toMatch(/\(tenant=\?\)$/);
  if (constraint) expect(access, detail).toMatch(constraint);
}

const ID = '00000000-0000-4000-8000-000000000001';

// [resource, filter, what the search on the outer table must be constrained by]
const LOOKUPS: ['User' | 'Group', string, RegExp | undefined][] = [
  ['User', 'userName eq "user7@example.com"', /USING INDEX users_user_name_live \(tenant=\? AND user_name_lc=\?\)/],
  ['User', 'USERNAME eq "User7@Example.com"', /user_name_lc=\?/],
  ['User', 'externalId eq "ext-7"', /USING INDEX users_external_id \(tenant=\? AND external_id=\?\)/],
  ['User', `id eq "${ID}"`, /USING (INDEX sqlite_autoindex_users_1|PRIMARY KEY) \(id=\?\)/],
  ['User', 'displayName eq "User 7"', /display_name_lc=\?/],
  ['User', 'userName eq "user7@example.com" and active eq true', /user_name_lc=\?/],
  ['Group', 'displayName eq "Group 7"', /USING INDEX groups_display_name \(tenant=\? AND display_name_lc=\?\)/],
  ['Group', 'externalId eq "g-7"', /external_id=\?/],
  ['Group', `id eq "${ID}"`, /\(id=\?\)/],
  // Entra ID's membership check: the group by id, then the member by primary key.
  ['Group', `id eq "${ID}" and members[value eq "${ID}"]`, /\(id=\?\)/],
  // E-mail and member lookups are `id in (select … from <child table> where …)`:
  // the child's value index finds the ids, then the outer table by primary key.
  ['User', 'emails.value eq "user7@example.com"', /\(id=\?\)/],
  ['User', 'emails[value eq "user7@example.com"]', /\(id=\?\)/],
  ['User', 'emails eq "user7@example.com"', /\(id=\?\)/],
  ['User', 'emails[type eq "work" and value eq "user7@example.com"]', /\(id=\?\)/],
  ['Group', `members.value eq "${ID}"`, /\(id=\?\)/],
  ['Group', `members[value eq "${ID}"]`, /\(id=\?\)/],
];

// Without statistics SQLite walks the connection's users and probes the e-mail
// index per row; the server refreshes statistics (PRAGMA optimize) on start and
// every minute, which is what these plans are judged after.
// SQLite's planner; PostgreSQL plans are judged by its own EXPLAIN (not covered here).
describe.skipIf(onPostgres).each([
  ['after the server\'s periodic optimize', false],
  ['after a full ANALYZE', true],
])('index use of the common lookups (EXPLAIN QUERY PLAN), %s', (_label, full) => {
  beforeAll(() => {
    if (full) raw.exec('ANALYZE');
    else rc.database.optimize();
  });
  it.each(LOOKUPS)('%s: %s is an index lookup', (resource, filter, constraint) => {
    assertIndexLookup(resource, filter, constraint);
  });
});

// Every create asks for a restorable deleted user with the mapping key; with
// userName as the key (the default) that lookup must not walk the live users.
describe.skipIf(onPostgres)('the restore lookup of a create (EXPLAIN QUERY PLAN)', () => {
  it.each([
    ['userName', /USING INDEX users_deleted_user_name \(tenant=\? AND user_name_lc=\?\)/],
    ['externalId', /USING INDEX users_external_id \(tenant=\? AND external_id=\?\)/],
  ] as const)('by %s is an index lookup', (key, constraint) => {
    const { db } = rc.database;
    let q = db.selectFrom('users').selectAll().where('tenant', '=', tenantOf(connectionId)).where(sql.ref('state'), '=', sql.lit('deleted')).where('deleted_at', '>', '2026-01-01');
    q = key === 'externalId' ? q.where('external_id', '=', 'ext-7') : q.where('user_name_lc', '=', 'user7@example.com');
    const compiled = q.orderBy('deleted_at', 'desc').compile();
    // The query must be the one the store runs.
    expect(findRestorable.toString()).toMatch(/sql\.lit\(["']deleted["']\)/);
    const rows = raw.prepare(`explain query plan ${compiled.sql}`).all(...(compiled.parameters as unknown[])) as PlanRow[];
    expect(outerAccess(rows, 'users'), rows.map((r) => r.detail).join('\n')).toMatch(constraint);
  });
});

/**
 * A Kysely that runs on the raw handle and keeps every statement it ran, so the
 * store's own functions can be called and their SQL explained as they sent it.
 */
function recordingDb(): { db: Kysely<DB>; statements: { sql: string; parameters: readonly unknown[] }[] } {
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  const connection: DatabaseConnection = {
    async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
      statements.push({ sql: q.sql, parameters: q.parameters });
      const stmt = raw.prepare(q.sql);
      return stmt.reader ? { rows: stmt.all(...(q.parameters as unknown[])) as R[] } : { rows: [] };
    },
    // eslint-disable-next-line require-yield
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error('not used');
    },
  };
  const driver: Driver = {
    async init() {},
    async acquireConnection() {
      return connection;
    },
    async beginTransaction() {},
    async commitTransaction() {},
    async rollbackTransaction() {},
    async releaseConnection() {},
    async destroy() {},
  };
  const db = new Kysely<DB>({
    dialect: { createAdapter: () => new SqliteAdapter(), createDriver: () => driver, createIntrospector: (k) => new SqliteIntrospector(k), createQueryCompiler: () => new SqliteQueryCompiler() },
  });
  return { db, statements };
}

// A member PATCH checks its 50 ids: by primary key, never a walk of the connection's
// users per chunk (SQLite chose users_external_key_live (tenant=?) for it).
// Judged without planner statistics: a database that grew since the last optimize
// (the first sync of a new connection) has none for its new rows.
describe.skipIf(onPostgres)('lookups by a list of ids (EXPLAIN QUERY PLAN)', () => {
  beforeAll(() => {
    raw.exec('delete from sqlite_stat1');
    raw.exec("delete from sqlite_stat4");
    raw.exec('analyze sqlite_schema'); // reloads the (now empty) statistics
  });
  it.each([
    ['existingUserIds', (db: Kysely<DB>, ids: string[]) => existingUserIds(db, connectionId, ids), 'users'],
    ['liveUsersByIds', (db: Kysely<DB>, ids: string[]) => liveUsersByIds(db, connectionId, ids), 'users'],
    ['liveUserApps', (db: Kysely<DB>, ids: string[]) => liveUserApps(db, connectionId, ids), 'users'],
    ['existingGroupIds', (db: Kysely<DB>, ids: string[]) => existingGroupIds(db, connectionId, ids), 'groups'],
  ] as const)('%s reads by primary key and finds the live rows of the connection', async (_name, run, table) => {
    const ids = (raw.prepare(`select id from ${table} where tenant = (select tenant from tenants where connection_id = ?) order by id limit 50`).all(connectionId) as { id: string }[]).map((r) => r.id);
    const { db, statements } = recordingDb();
    const found = await run(db, [...ids, ID]);
    const size = found instanceof Set ? found.size : found.length;
    expect(size).toBe(ids.length);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      const rows = raw.prepare(`explain query plan ${s.sql}`).all(...(s.parameters as unknown[])) as PlanRow[];
      const text = `${s.sql}\n${rows.map((r) => r.detail).join('\n')}`;
      expect(outerAccess(rows, table), text).toMatch(new RegExp(`USING (INDEX sqlite_autoindex_${table}_1|PRIMARY KEY) \\(id=\\?\\)`));
    }
  });
});

// The console's pages (newest first, keyset cursor): the cursor is a range the scan
// starts from. Written as an OR alone, SQLite read and sorted every row before the
// cursor (MULTI-INDEX OR, a temp B-tree for the whole order): ~120 ms a page at
// 100,000 users once users_created lost its id column.
describe.skipIf(onPostgres)('console pages after a cursor (EXPLAIN QUERY PLAN)', () => {
  it.each([
    ['users', (db: Kysely<DB>, after: { createdAt: string; id: string }) => browseUsers(db, connectionId, { limit: 51, after })],
    ['groups', (db: Kysely<DB>, after: { createdAt: string; id: string }) => browseGroups(db, connectionId, { limit: 51, after })],
  ] as const)('%s: a range on the created index, no OR of two scans', async (table, run) => {
    const last = raw.prepare(`select created_at as createdAt, id from ${table} order by created_at desc, id desc limit 1 offset 3`).get() as { createdAt: string; id: string };
    const { db, statements } = recordingDb();
    await run(db, last);
    const s = statements.find((x) => new RegExp(`from "${table}"`).test(x.sql))!;
    const rows = raw.prepare(`explain query plan ${s.sql}`).all(...(s.parameters as unknown[])) as PlanRow[];
    const text = `${s.sql}\n${rows.map((r) => r.detail).join('\n')}`;
    expect(text).not.toMatch(/MULTI-INDEX OR/);
    expect(outerAccess(rows, table === 'groups' ? 'g' : table) ?? outerAccess(rows, table), text).toMatch(/created_at<\?/);
  });
});
