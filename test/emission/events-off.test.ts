/**
 * ROLLCALL_EVENTS=off: a deployment that never reads events stores none — the
 * writes work as before and the feed stays empty. Also the setting's validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { loadConfig } from '../../src/config.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

let database: TestDatabase;
let rc: Rollcall;
beforeAll(async () => {
  database = await freshDatabase('rollcall-events-off-');
  rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', events: false });
});
afterAll(async () => {
  await rc?.close();
  await database?.drop();
});

describe('events off', () => {
  it('stores no events and tells no subscriber, while writes work', async () => {
    const heard: unknown[] = [];
    rc.events.subscribe((e) => void heard.push(e));
    const c = await rc.connections.create({ name: 'Quiet' });
    const grant = await rc.connections.authenticate(c.id, c.token);
    const ctx = { connectionId: c.id, baseUrl: 'https://scim.test/scim/v2/' + c.id, ...grant! };
    const u = await rc.users.create(ctx, { userName: 'quiet@example.com' });
    await rc.users.patch(ctx, u.row.id, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
    await rc.connections.rotateToken(c.id);
    expect((await rc.users.get(ctx, u.row.id)).row.active).toBe(0);
    expect((await rc.events.feed()).events).toEqual([]);
    expect(heard).toEqual([]);
  });

  it('ROLLCALL_EVENTS accepts on/off only', () => {
    const base = { PUBLIC_URL: 'https://scim.test' };
    expect(loadConfig({ ...base }).events).toBe(true);
    expect(loadConfig({ ...base, ROLLCALL_EVENTS: 'OFF' }).events).toBe(false);
    expect(() => loadConfig({ ...base, ROLLCALL_EVENTS: 'sometimes' })).toThrow(/ROLLCALL_EVENTS must be on or off/);
  });
});
