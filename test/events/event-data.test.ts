/**
 * Stored event data: compressed on SQLite (a format byte, DEFLATE with a
 * dictionary), JSON text on PostgreSQL and in rows written before; every form
 * reads back as the object that was stored, and the feed serves old and new rows alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEventData, encodeEventData, encodeEventText } from '../../src/events/event-data.js';
import { startTestApp, scimClient, type TestApp } from '../support/app.js';
import { onPostgres } from '../support/databases.js';

const userView = {
  id: '6f1c1f0e-2f7e-4d43-9a3e-1f0a5b9c2d11',
  externalId: 'ext-0000042',
  userName: 'ada.lovelace@example.com',
  displayName: 'Ada Lovelace',
  active: true,
  state: 'active',
  email: 'ada.lovelace@example.com',
  workspace: 'default',
  role: 'member',
  language: null,
  primaryLanguage: null,
  profile: {},
  flags: [],
  createdAt: '2026-12-06T14:11:46.580Z',
  updatedAt: '2026-12-06T14:11:46.580Z',
  deactivatedAt: null,
  deletedAt: null,
  version: 1,
  scim: {
    userName: 'ada.lovelace@example.com',
    active: true,
    displayName: 'Ada Lovelace',
    name: { formatted: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ primary: true, type: 'work', value: 'ada.lovelace@example.com' }],
    title: 'Engineer',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '0000042', department: 'Engineering' },
  },
};

describe('event data codec', () => {
  it('reads back the JSON object it stored, compressed or not', () => {
    const samples: Record<string, unknown>[] = [
      {},
      userView,
      { ...userView, changes: [{ path: 'name.givenName', before: 'Ada', after: 'Augusta' }] },
      { group: { id: 'g', displayName: 'Ünïcödé — 日本語 😀' }, user: { id: 'u', userName: 'x@example.com', externalId: null, displayName: null } },
      { big: 'x'.repeat(200_000), nested: { a: [1, 2.5, -3e-7, true, false, null, '"quoted"\\'] } },
    ];
    for (const obj of samples) {
      expect(decodeEventData(encodeEventData(obj, true))).toEqual(obj);
      expect(decodeEventData(encodeEventData(obj, false))).toEqual(obj);
    }
  });

  it('stores a user view in well under a third of its JSON', () => {
    const json = JSON.stringify(userView);
    const stored = encodeEventData(userView, true);
    expect(typeof stored).not.toBe('string');
    expect(stored.length).toBeLessThan(json.length / 3);
    expect(encodeEventData(userView, false)).toBe(json);
  });

  it('reads JSON text as before (rows written by earlier versions, PostgreSQL)', () => {
    expect(decodeEventData('{"a":1}')).toEqual({ a: 1 });
  });

  it('refuses bytes of a format it does not know instead of guessing', () => {
    expect(() => decodeEventData(Uint8Array.from([9, 1, 2, 3]))).toThrow(/unknown format \(9\)/);
  });
});

describe('stored events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are compressed on SQLite and text on PostgreSQL, and the feed serves rows of either form', async () => {
    const conn = await t.connection('Codec');
    const scim = scimClient(t.app, conn);
    const created = await scim.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'codec.user@example.com', displayName: 'Codec User' });
    expect(created.status).toBe(201);
    const row = await t.rc.database.db.selectFrom('events').select(['pos', 'data']).where('resource_id', '=', created.body.id).executeTakeFirstOrThrow();
    if (onPostgres) expect(typeof row.data).toBe('string');
    else expect(Buffer.isBuffer(row.data)).toBe(true);

    // A row as an earlier version wrote it, JSON text, beside the new one.
    const legacy = { id: 'legacy-user', userName: 'legacy@example.com', scim: { userName: 'legacy@example.com' } };
    await t.rc.database.db
      .updateTable('events')
      .set({ data: JSON.stringify(legacy) })
      .where('pos', '=', row.pos)
      .execute();
    const page = await t.rc.events.feed({ organizationId: conn.organizationId! });
    const datas = page.events.map((e) => e.data);
    expect(datas).toContainEqual(legacy);

    const second = await scim.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'codec.two@example.com' });
    const after = await t.rc.events.feed({ organizationId: conn.organizationId! });
    expect(after.events.map((e) => e.data)).toContainEqual(expect.objectContaining({ id: second.body.id, userName: 'codec.two@example.com', state: 'active' }));
  });
});

describe('event data in a text column (PostgreSQL)', () => {
  it('is the compressed bytes in base64 after "~", far smaller than the JSON, and reads back; JSON text still reads', () => {
    const obj = { user: { id: '01a2513a-3b50-7620-8682-841e127198c6', userName: 'anna.schmidt@example.com', displayName: 'Anna Schmidt', active: true, state: 'active', workspace: 'default', role: 'member', language: null, profile: {}, flags: [] } };
    const json = JSON.stringify(obj);
    const text = encodeEventText(json);
    expect(text.startsWith('~')).toBe(true);
    expect(text.length).toBeLessThan(json.length * 0.75);
    expect(decodeEventData(text)).toEqual(obj);
    expect(decodeEventData(json)).toEqual(obj);
  });
});
