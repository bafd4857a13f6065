/**
 * A group of 2,000 members, built over HTTP — a POST and a PATCH of 1,000 each,
 * the most one request may name — grows to 2,001 with one PATCH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let c: ScimClient;
const userIds: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('Large group'));
  for (let start = 0; start < 2001; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, 2001 - start) }, (_, k) => c.post('/Users', { userName: `big${start + k}@x.test` })),
    );
    for (const res of batch) {
      expect(res.status, res.text).toBe(201);
      userIds.push(res.body.id);
    }
  }
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('large group', () => {
  it('POST /Groups with 1,000 members, PATCH 1,000 more, then one more → 2,001', async () => {
    const last = userIds[2000];
    const post = await c.post('/Groups', { displayName: 'Everyone', members: userIds.slice(0, 1000).map((value) => ({ value })) });
    expect(post.status, post.text.slice(0, 500)).toBe(201);
    const gid = post.body.id;
    const more = await c.patch(`/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: userIds.slice(1000, 2000).map((value) => ({ value })) }] });
    expect(more.status, more.text.slice(0, 300)).toBe(204);

    const before = await c.get(`/Groups/${gid}`);
    expect(before.body.members).toHaveLength(2000);

    const add = await c.patch(`/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: last }] }] });
    expect(add.status, add.text).toBe(204);

    const after = await c.get(`/Groups/${gid}`);
    expect(after.status).toBe(200);
    const ids = (after.body.members as any[]).map((m) => m.value);
    expect(ids).toHaveLength(2001);
    expect(new Set(ids)).toEqual(new Set(userIds));

    // adding an existing member again changes nothing
    const again = await c.patch(`/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: userIds[5] }] }] });
    expect(again.status).toBe(204);
    expect((await c.get(`/Groups/${gid}`)).body.members).toHaveLength(2001);

    // membership is queryable from both sides
    const byMember = await c.get(`/Groups?filter=${encodeURIComponent(`members eq "${last}"`)}&excludedAttributes=members`);
    expect(byMember.status).toBe(200);
    expect(byMember.body.Resources.map((r: any) => r.id)).toEqual([gid]);
    const user = await c.get(`/Users/${last}`);
    expect(user.body.groups.map((g: any) => g.value)).toEqual([gid]);

    // removing one by filter leaves 2,000
    const rm = await c.patch(`/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${userIds[0]}"]` }] });
    expect(rm.status, rm.text).toBe(204);
    expect((await c.get(`/Groups/${gid}`)).body.members).toHaveLength(2000);
  });
});
