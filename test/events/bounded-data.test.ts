/**
 * Events store what changed, bounded: a change to a huge resource does not store
 * (or deliver) the whole resource before and after. Ordinary events are stored
 * exactly as emitted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DATA_BUDGET, boundEventData } from '../../src/events/bounded-data.js';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('boundEventData', () => {
  it('leaves data within the budget untouched (the same object)', () => {
    const data = { id: 'u1', changes: [{ path: 'title', before: 'a', after: 'b' }], scim: { userName: 'a@x.test' } };
    expect(boundEventData(data)).toBe(data);
  });

  it('summarises large before/after values first, then large attributes of the resource, and says so', () => {
    const big = 'x'.repeat(40_000);
    const data = { id: 'u1', changes: [{ path: 'title', before: big, after: `${big}!` }, { path: 'displayName', before: 'A', after: 'B' }], scim: { userName: 'a@x.test', title: `${big}!` } };
    const out = boundEventData(data) as Record<string, unknown>;
    expect(JSON.stringify(out).length).toBeLessThanOrEqual(EVENT_DATA_BUDGET);
    expect(out.summarized).toBe(true);
    const [title, name] = out.changes as { path: string; before: any; after: any }[];
    expect(title.before.summary).toMatchObject({ type: 'string', length: 40_000, bytes: 40_002 });
    expect(title.after.summary.length).toBe(40_001);
    // The fingerprints tell the two values apart.
    expect(title.before.summary.sha256).not.toBe(title.after.summary.sha256);
    expect(name).toEqual({ path: 'displayName', before: 'A', after: 'B' });
    // The change alone was enough to fit: the resource is summarised only if needed.
    expect((out.scim as any).userName).toBe('a@x.test');
  });

  it('a resource of many attributes just under the threshold loses `scim` but keeps what changed', () => {
    const scim: Record<string, string> = {};
    for (let i = 0; i < 200; i++) scim[`a${i}`] = 'v'.repeat(900);
    const out = boundEventData({ id: 'u1', changes: [{ path: 'a1', before: 'x', after: 'y' }], scim }) as Record<string, unknown>;
    expect(out.scim).toBeUndefined();
    expect(out.changes).toEqual([{ path: 'a1', before: 'x', after: 'y' }]);
    expect(JSON.stringify(out).length).toBeLessThanOrEqual(EVENT_DATA_BUDGET);
  });
});

describe('events of a huge resource, stored', () => {
  let t: TestApp;
  let c: ScimClient;
  beforeAll(async () => {
    t = await startTestApp();
    c = scimClient(t.app, await t.connection('Bounded'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a user with the largest values the limits allow changes everything: the stored event stays within the budget; a small change keeps its change whole', async () => {
    const long = (ch: string) => ch.repeat(60_000);
    const emails = (tag: string) => Array.from({ length: 100 }, (_, i) => ({ value: `${tag}${i}.${'e'.repeat(900)}@x.test` }));
    const u = await c.post('/Users', { userName: 'huge@x.test', title: long('a'), nickName: long('b'), emails: emails('a'), [ENT]: { department: long('c') } });
    expect(u.status, u.text.slice(0, 200)).toBe(201);
    const patched = await c.patch(`/Users/${u.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { title: long('d'), nickName: long('e'), emails: emails('b'), [`${ENT}:department`]: long('f') } }],
    });
    expect(patched.status, patched.text.slice(0, 200)).toBe(200);
    const small = await c.patch(`/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Small Change' }] });
    expect(small.status).toBe(200);

    const { events } = await t.rc.events.feed({ limit: 100 });
    const mine = events.filter((e) => (e.data as any).id === u.body.id);
    const sizes = mine.map((e) => JSON.stringify(e.data).length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(EVENT_DATA_BUDGET);
    const created = mine.find((e) => e.type === 'user.created')!;
    expect(created.data.summarized).toBe(true);
    const updates = mine.filter((e) => e.type === 'user.updated');
    const big = updates.find((e) => e.data.summarized)!;
    const title = (big.data.changes as any[]).find((ch) => ch.path === 'title');
    expect(title.before.summary).toMatchObject({ type: 'string', length: 60_000 });
    expect(title.after.summary).toMatchObject({ type: 'string', length: 60_000 });
    // A small change of the huge user: what changed is whole, the resource's large values are summarised.
    const last = updates.at(-1)!;
    expect(last.data.changes).toEqual([{ path: 'displayName', before: null, after: 'Small Change' }]);
    expect((last.data.scim as any).title.summary).toMatchObject({ type: 'string', length: 60_000 });
    expect((last.data.scim as any).displayName).toBe('Small Change');
    expect((last.data.scim as any)[ENT].department.summary.length).toBe(60_000);
    // An ordinary user's events are stored exactly as emitted.
    const plain = await c.post('/Users', { userName: 'plain@x.test', title: 'Engineer' });
    const after = await t.rc.events.feed({ limit: 1000 });
    const plainCreated = after.events.find((e) => (e.data as any).id === plain.body.id)!;
    expect(plainCreated.data.summarized).toBeUndefined();
    expect((plainCreated.data.scim as any).title).toBe('Engineer');
    // The resource itself is whole: only its events are summarised.
    expect((await c.get(`/Users/${u.body.id}`)).body.title).toBe(long('d'));
  });
});
