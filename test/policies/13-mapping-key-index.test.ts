/**
 * The mapping key's uniqueness lives in the database (users.external_key with a
 * unique index over live users), so it holds across instances. Changing a
 * connection's mappingKey re-derives the key column: switching to externalId is
 * refused while live users share an externalId, and switching away frees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { connect, createUser, findUsers } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('mapping key changes and the externalId index', () => {
  it('userName as key allows a shared externalId; switching to externalId is then refused and changes nothing', async () => {
    const s = await connect(t, { mappingKey: 'userName' }, 'Shared externalId');
    await createUser(s.c, { externalId: 'same', userName: 'a@acme.com' });
    await createUser(s.c, { externalId: 'same', userName: 'b@acme.com' });
    await expect(t.rc.connections.configure(s.conn.id, { mappingKey: 'externalId' })).rejects.toThrow(/share one externalId/);
    expect((await t.rc.connections.show(s.conn.id))!.settings.mappingKey).toBe('userName');
    expect(await findUsers(s.c, 'externalId eq "same"')).toHaveLength(2);
    // Still the userName connection: a third user with the same externalId is fine.
    await createUser(s.c, { externalId: 'same', userName: 'c@acme.com' });
  });

  it('switching to externalId makes existing externalIds keys at once; switching back frees them', async () => {
    const s = await connect(t, { mappingKey: 'userName' }, 'Switch key');
    await createUser(s.c, { externalId: 'emp-7', userName: 'seven@acme.com' });
    await t.rc.connections.configure(s.conn.id, { mappingKey: 'externalId' });
    const dup = await s.c.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], externalId: 'emp-7', userName: 'other@acme.com' });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    await t.rc.connections.configure(s.conn.id, { mappingKey: 'userName' });
    await createUser(s.c, { externalId: 'emp-7', userName: 'other@acme.com' });
    expect(await findUsers(s.c, 'externalId eq "emp-7"')).toHaveLength(2);
  });

  it('the index itself refuses a second live user with the key, even past the directory check', async () => {
    const s = await connect(t, { mappingKey: 'externalId' }, 'Index');
    const u = await createUser(s.c, { externalId: 'emp-9', userName: 'nine@acme.com' });
    const row = await t.rc.database.db.selectFrom('users').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
    await expect(
      t.rc.database.db
        .insertInto('users')
        .values({ ...row, id: 'raw-insert', user_name: 'raw@acme.com', user_name_lc: 'raw@acme.com' })
        .execute(),
    ).rejects.toThrow();
    // A deleted user does not hold its key.
    expect((await s.c.delete(`/Users/${u.id}`)).status).toBe(204);
    await t.rc.database.db
      .insertInto('users')
      .values({ ...row, id: 'raw-insert', user_name: 'raw@acme.com', user_name_lc: 'raw@acme.com' })
      .execute();
  });

  it('a write authenticated before the mapping key changed is answered 503 and changes nothing', async () => {
    const s = await connect(t, { mappingKey: 'userName' }, 'Stale settings');
    const grant = await t.rc.connections.authenticate(s.conn.id, s.conn.token);
    const stale = { connectionId: s.conn.id, baseUrl: 'https://scim.test.example/scim/v2/' + s.conn.id, ...grant! };
    await t.rc.connections.configure(s.conn.id, { mappingKey: 'externalId' });
    const err = await t.rc.users.create(stale, { userName: 'late@acme.com', externalId: 'late-1' }).catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(503);
    expect(await findUsers(s.c, 'userName eq "late@acme.com"')).toEqual([]);
  });
});
