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

describe('PATCH cost', () => {
  it('a PATCH of 5,000 "add emails" ops (~300 kB, far under the body limit) is answered quickly or refused', async () => {
    const u = await c.post('/Users', { userName: 'many.ops@x.test' });
    const Operations = Array.from({ length: 5000 }, (_, i) => ({ op: 'add', path: 'emails', value: [{ value: `e${i}@x.test` }] }));
    const body = JSON.stringify({ schemas: [PATCH_OP], Operations });
    expect(body.length).toBeLessThan(400_000);
    const t0 = performance.now();
    const res = await c.patch(`/Users/${u.body.id}`, body);
    const ms = performance.now() - t0;
    // Either refused as too many operations (4xx) or applied; in both cases fast.
    expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
    expect(ms, `PATCH took ${Math.round(ms)} ms`).toBeLessThan(2000);
    if (res.status === 200) expect(res.body.emails).toHaveLength(5000);
  });

  it('the same number of values in one op is fast (the baseline)', async () => {
    const u = await c.post('/Users', { userName: 'one.op@x.test' });
    const t0 = performance.now();
    const res = await c.patch(`/Users/${u.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'emails', value: Array.from({ length: 5000 }, (_, i) => ({ value: `e${i}@x.test` })) }],
    });
    const ms = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(res.body.emails).toHaveLength(5000);
    expect(ms).toBeLessThan(2000);
  });
});
