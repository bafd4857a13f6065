/**
 * Shared helpers for the provisioning-policy tests (issue 3): a connection with
 * settings and its SCIM client, what the host application reads (row.app), and
 * a snapshot of everything a connection holds, so every refusal can assert that
 * it changed nothing.
 */
import { expect } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type ScimResponse, type TestApp, type TestConnection } from '../support/app.js';
import { readApp } from '../../src/directory/emitted-events.js';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const ROLLCALL = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export const DAY_MS = 86_400_000;

export const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
export const filter = (f: string) => `filter=${encodeURIComponent(f)}`;

export interface Setup {
  t: TestApp;
  conn: TestConnection;
  c: ScimClient;
}

/** A connection with these settings on an app of its own or on `t`. */
export async function connect(t: TestApp, settings?: unknown, name = 'Policy test'): Promise<Setup> {
  const conn = await t.connection(name, settings === undefined ? {} : { settings });
  return { t, conn, c: scimClient(t.app, conn) };
}

export async function fresh(settings?: unknown, opts: Parameters<typeof startTestApp>[0] = {}): Promise<Setup> {
  const t = await startTestApp(opts);
  return connect(t, settings);
}

/** A fake clock the tests move forward. */
export function fakeClock(start = '2026-01-05T10:00:00.000Z') {
  let now = new Date(start);
  return {
    clock: () => new Date(now),
    now: () => new Date(now),
    set(d: Date | string) {
      now = new Date(d);
    },
    advanceDays(days: number) {
      now = new Date(now.getTime() + days * DAY_MS);
    },
  };
}

/** The row the host application reads: state and the `app` JSON as read back (defaults filled in). */
export async function hostRecord(s: Setup, id: string): Promise<{ state: string; app: any; row: any }> {
  const { row } = await s.t.rc.users.get({ connectionId: s.conn.id, baseUrl: s.conn.base }, id);
  return { state: row.state, app: readApp(row.app), row };
}

/**
 * Everything the connection shows over SCIM (users with their groups, groups
 * with their members, versions and timestamps included): two snapshots are equal
 * only if nothing at all changed.
 */
export async function snapshot(c: ScimClient): Promise<{ users: any; groups: any }> {
  const users = await c.get('/Users?count=1000');
  expect(users.status, users.text).toBe(200);
  const groups = await c.get('/Groups?count=1000');
  expect(groups.status, groups.text).toBe(200);
  return { users: users.body, groups: groups.body };
}

/** A SCIM error response with this status, scimType (when given) and a detail matching `detail`. */
export function expectScimError(res: ScimResponse, status: number, scimType?: string, detail?: RegExp | string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body?.schemas, res.text).toContain(ERROR);
  if (scimType !== undefined) expect(res.body.scimType, res.text).toBe(scimType);
  expect(typeof res.body.detail, res.text).toBe('string');
  if (detail !== undefined) expect(res.body.detail).toMatch(typeof detail === 'string' ? new RegExp(escape(detail), 'i') : detail);
}

export function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Sends a request that must be refused and asserts that the connection looks
 * exactly as before it (no user, group, membership or version changed).
 */
export async function expectRefusedUnchanged(
  c: ScimClient,
  send: () => Promise<ScimResponse>,
  status: number,
  scimType?: string,
  detail?: RegExp | string,
): Promise<ScimResponse> {
  const before = await snapshot(c);
  const res = await send();
  expectScimError(res, status, scimType, detail);
  expect(await snapshot(c)).toEqual(before);
  return res;
}

export async function createUser(c: ScimClient, body: Record<string, unknown>): Promise<any> {
  const res = await c.post('/Users', { schemas: [CORE_USER], ...body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

export async function getUser(c: ScimClient, id: string): Promise<any> {
  const res = await c.get(`/Users/${id}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export async function createGroup(c: ScimClient, displayName: string, memberIds: string[] = []): Promise<any> {
  const res = await c.post('/Groups', { schemas: [CORE_GROUP], displayName, members: memberIds.map((value) => ({ value })) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

export async function getGroup(c: ScimClient, id: string): Promise<any> {
  const res = await c.get(`/Groups/${id}`);
  expect(res.status, res.text).toBe(200);
  return { ...res.body, memberIds: ((res.body.members ?? []) as any[]).map((m) => m.value).sort() };
}

export async function groupByName(c: ScimClient, name: string): Promise<any | undefined> {
  const res = await c.get(`/Groups?${filter(`displayName eq "${name}"`)}`);
  expect(res.status, res.text).toBe(200);
  const g = res.body.Resources?.[0];
  return g ? getGroup(c, g.id) : undefined;
}

export async function findUsers(c: ScimClient, f: string): Promise<any[]> {
  const res = await c.get(`/Users?${filter(f)}`);
  expect(res.status, res.text).toBe(200);
  return res.body.Resources ?? [];
}

/** 2xx for a PATCH (200 with the resource, or 204). */
export function expectPatched(res: ScimResponse) {
  expect([200, 204], res.text).toContain(res.status);
}
