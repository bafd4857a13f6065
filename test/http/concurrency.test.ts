/** Concurrent writes to the same resources: uniqueness holds, no update is lost. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('Concurrency'));
});
afterAll(async () => {
  await t?.close();
});

describe('concurrent writes', () => {
  it('20 concurrent POSTs of one userName (varying case): exactly one 201, the rest 409', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => c.post('/Users', { userName: i % 2 ? 'race@x.test' : 'RACE@x.test', externalId: `r${i}` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect(r.status, r.text).toBe(409);
      expect(r.body.scimType).toBe('uniqueness');
    }
    const list = await c.get(`/Users?filter=${encodeURIComponent('userName eq "race@x.test"')}`);
    expect(list.body.totalResults).toBe(1);
  });

  it('20 concurrent POSTs of one group displayName: exactly one 201', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => c.post('/Groups', { displayName: 'Race Group' })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
  });

  it('concurrent PATCHes of different attributes of one user: none lost', async () => {
    const u = (await c.post('/Users', { userName: 'many.patches@x.test' })).body;
    const attrs = ['nickName', 'title', 'displayName', 'userType', 'locale', 'timezone', 'profileUrl'];
    const results = await Promise.all(
      attrs.map((a) => c.patch(`/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: a, value: `v-${a}` }] })),
    );
    for (const r of results) expect(r.status, r.text).toBe(200);
    const got = (await c.get(`/Users/${u.id}`)).body;
    for (const a of attrs) expect(got[a], a).toBe(`v-${a}`);
    expect(got.meta.version).toBe(`W/"${1 + attrs.length}"`);
  });

  it('concurrent PATCH add to one multi-valued attribute: every value kept', async () => {
    const u = (await c.post('/Users', { userName: 'many.emails@x.test' })).body;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        c.patch(`/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: [{ type: 'other', value: `e${i}@x.test` }] }] }),
      ),
    );
    for (const r of results) expect(r.status, r.text).toBe(200);
    const got = (await c.get(`/Users/${u.id}`)).body;
    expect(got.emails.map((e: any) => e.value).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}@x.test`).sort());
    const found = await c.get(`/Users?filter=${encodeURIComponent('emails.value eq "e7@x.test"')}`);
    expect(found.body.Resources.map((r: any) => r.id)).toEqual([u.id]);
  });
});
