/**
 * Limits: one authenticated client must not be able to stall the shared server.
 * The PATCH engine runs synchronously on the event loop, so an expensive request
 * blocks every other tenant while it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('Limits'));
});
afterAll(async () => {
  await t?.close();
});

// Speed is measured by the benchmark, never here: these check the bounds that keep
// a PATCH's cost linear and capped (operation count), and that large lists work.
describe('PATCH cost bounds', () => {
  it('a PATCH of 5,000 operations on a user (~300 kB, under the body limit) is refused as too many, nothing changed', async () => {
    const u = await c.post('/Users', { userName: 'many.ops@x.test' });
    const Operations = Array.from({ length: 5000 }, (_, i) => ({ op: 'add', path: 'emails', value: [{ value: `e${i}@x.test` }] }));
    const body = JSON.stringify({ schemas: [PATCH_OP], Operations });
    expect(body.length).toBeLessThan(400_000);
    const res = await c.patch(`/Users/${u.body.id}`, body);
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    expect(res.body.scimType).toBe('tooMany');
    expect(res.body.detail).toMatch(/at most 1000 operations/);
    expect((await c.get(`/Users/${u.body.id}`)).body.emails).toBeUndefined();
  });

  it('the same number of values in one operation is applied', async () => {
    const u = await c.post('/Users', { userName: 'one.op@x.test' });
    const res = await c.patch(`/Users/${u.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'emails', value: Array.from({ length: 5000 }, (_, i) => ({ value: `e${i}@x.test` })) }],
    });
    expect(res.status).toBe(200);
    expect(res.body.emails).toHaveLength(5000);
  });
});
