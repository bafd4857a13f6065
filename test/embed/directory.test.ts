/**
 * The directory facade a host application calls by connection id, and the typed
 * in-process events.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type DirectoryUser,
  type RollcallEventOf,
  ScimError,
  isEventOf,
  onEvents,
  rollcallDirectory,
  type RollcallDirectory,
  type UserView,
} from '../../src/index.js';
import { ENTRA_DEACTIVATE, HOST_URL, type EmbeddedRollcall, entraUser, startRollcall, waitFor } from './helpers.js';

let env: EmbeddedRollcall;
let dir: RollcallDirectory;
let conn: { id: string; token: string };
let other: { id: string; token: string };
const ids: Record<string, string> = {};
let groupId: string;

beforeAll(async () => {
  env = await startRollcall();
  conn = await env.connection('Acme', { genderValues: { w: 'female' }, defaultLanguage: 'de-DE' });
  other = await env.connection('Globex');
  dir = rollcallDirectory(env.rc, { prefix: '/identity/scim/v2' });
  // Written through the lower-level directory with the facade's context, as a host app could.
  const ctx = await dir.context(conn.id);
  for (const name of ['carol.c@acme.com', 'alice.a@acme.com', 'bob.b@acme.com']) {
    const rec = await env.rc.users.create(ctx, entraUser(name));
    ids[name] = rec.row.id;
  }
  const group = await env.rc.groups.create(ctx, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: 'Engineers',
    members: [{ value: ids['alice.a@acme.com'] }, { value: ids['bob.b@acme.com'] }],
  });
  groupId = group.row.id;
  await env.rc.users.create(await dir.context(other.id), entraUser('zed.z@globex.com'));
});

afterAll(async () => {
  await env?.close();
});

describe('rollcallDirectory', () => {
  it('lists users with a SCIM filter, paging and sorting, as host views', async () => {
    const one = await dir.users.list(conn.id, { filter: 'userName eq "alice.a@acme.com"' });
    expect(one.totalResults).toBe(1);
    const alice = one.items[0];
    expect(alice).toMatchObject({
      id: ids['alice.a@acme.com'],
      userName: 'alice.a@acme.com',
      email: 'alice.a@acme.com',
      externalId: 'ext-alice.a@acme.com',
      active: true,
      state: 'active',
      language: 'de-DE',
      primaryLanguage: 'de',
      groups: [{ id: groupId, displayName: 'Engineers' }],
    });
    expect(alice.scim.userName).toBe('alice.a@acme.com');

    const sorted = await dir.users.list(conn.id, { sortBy: 'userName', startIndex: 2, count: 1 });
    expect(sorted).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(sorted.items.map((u) => u.userName)).toEqual(['bob.b@acme.com']);
    const desc = await dir.users.list(conn.id, { sortBy: 'userName', sortOrder: 'descending' });
    expect(desc.items.map((u) => u.userName)).toEqual(['carol.c@acme.com', 'bob.b@acme.com', 'alice.a@acme.com']);

    // Another connection's users are not there.
    expect((await dir.users.list(conn.id, { filter: 'userName eq "zed.z@globex.com"' })).totalResults).toBe(0);
    expect((await dir.users.list(other.id)).items.map((u) => u.userName)).toEqual(['zed.z@globex.com']);
  });

  it('gets a user by id, undefined when there is none (or it is another connection’s)', async () => {
    const bob = await dir.users.get(conn.id, ids['bob.b@acme.com']);
    expect(bob?.userName).toBe('bob.b@acme.com');
    expect(bob?.groups).toEqual([{ id: groupId, displayName: 'Engineers' }]);
    expect(await dir.users.get(conn.id, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(await dir.users.get(other.id, ids['bob.b@acme.com'])).toBeUndefined();
  });

  it('lists and gets groups with their members', async () => {
    const page = await dir.groups.list(conn.id, { filter: 'displayName eq "engineers"' });
    expect(page.totalResults).toBe(1);
    expect(page.items[0]).toMatchObject({ id: groupId, displayName: 'Engineers' });
    expect(page.items[0].members.map((m) => m.id).sort()).toEqual([ids['alice.a@acme.com'], ids['bob.b@acme.com']].sort());
    const g = await dir.groups.get(conn.id, groupId);
    expect(g?.members).toHaveLength(2);
    expect(await dir.groups.get(other.id, groupId)).toBeUndefined();
  });

  it('gives SCIM representations with locations under the public URL and prefix', async () => {
    const base = `${HOST_URL}/identity/scim/v2/${conn.id}`;
    expect(dir.scimUrl(conn.id)).toBe(base);
    const user = await dir.users.getScim(conn.id, ids['alice.a@acme.com']);
    expect(user?.meta.location).toBe(`${base}/Users/${ids['alice.a@acme.com']}`);
    expect((user?.groups as { $ref: string }[])[0].$ref).toBe(`${base}/Groups/${groupId}`);
    const list = await dir.users.listScim(conn.id, { filter: 'userName sw "a"', attributes: ['userName'] });
    expect(list.totalResults).toBe(1);
    expect(list.Resources[0]).toEqual({ schemas: expect.any(Array), id: ids['alice.a@acme.com'], userName: 'alice.a@acme.com' });
    const group = await dir.groups.getScim(conn.id, groupId);
    expect(group?.meta.location).toBe(`${base}/Groups/${groupId}`);
    expect((group?.members as unknown[]).length).toBe(2);
    expect((await dir.groups.listScim(conn.id)).Resources[0].meta.location).toBe(`${base}/Groups/${groupId}`);
    expect(await dir.users.getScim(conn.id, 'nope')).toBeUndefined();
    // Default: rollcall.publicUrl + /scim/v2, as the standalone server serves them.
    const plain = rollcallDirectory(env.rc);
    expect((await plain.users.getScim(conn.id, ids['alice.a@acme.com']))?.meta.location).toBe(
      `${env.rc.publicUrl}/scim/v2/${conn.id}/Users/${ids['alice.a@acme.com']}`,
    );
  });

  it('refuses a bad filter and an unknown connection with ScimErrors', async () => {
    await expect(dir.users.list(conn.id, { filter: 'userName eq' })).rejects.toMatchObject({ status: 400, scimType: 'invalidFilter' });
    await expect(dir.users.list(conn.id, { filter: 'nosuchattribute eq "x"' })).rejects.toBeInstanceOf(ScimError);
    await expect(dir.users.list('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/Connection/) });
    await expect(dir.users.get('00000000-0000-0000-0000-000000000000', ids['bob.b@acme.com'])).rejects.toMatchObject({ status: 404 });
  });

  it('is typed', () => {
    expectTypeOf(dir.users.get).returns.resolves.toEqualTypeOf<DirectoryUser | undefined>();
    expectTypeOf<DirectoryUser>().toMatchTypeOf<UserView>();
  });
});

describe('typed in-process events', () => {
  it('hands a host typed user events, in order', async () => {
    const lines: string[] = [];
    const off = onEvents(env.rc, ['user.created', 'user.deactivated'], (e) => {
      expectTypeOf(e).toEqualTypeOf<RollcallEventOf<'user.created' | 'user.deactivated'>>();
      lines.push(e.type === 'user.created' ? `invite ${e.data.email}` : `revoke ${e.data.userName} ${e.data.active}`);
    });
    const all: string[] = [];
    const offAll = env.rc.events.subscribe((e) => {
      if (isEventOf(e, 'user.updated')) all.push(e.data.changes.map((c) => c.path).join(','));
    });
    try {
      const ctx = await dir.context(conn.id);
      const dave = await env.rc.users.create(ctx, entraUser('dave.d@acme.com'));
      await env.rc.users.patch(ctx, dave.row.id, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'CTO' }] });
      await env.rc.users.patch(ctx, dave.row.id, ENTRA_DEACTIVATE);
      await waitFor(() => lines.length === 2 && all.length === 1, 'the events');
      expect(lines).toEqual(['invite dave.d@acme.com', 'revoke dave.d@acme.com false']);
      expect(all).toEqual(['title']);
      expect((await dir.users.get(conn.id, dave.row.id))?.state).toBe('deactivated');
    } finally {
      off();
      offAll();
    }
  });
});
