import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
let t: TestApp;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection());
});
afterAll(() => t.close());

describe('sorting', () => {
  it('refuses an unknown sortBy even when nothing matches', async () => {
    const res = await c.get('/Users?sortBy=noSuchAttribute');
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });

  it('root /.search sorts users by userName while groups, which have none, keep their order', async () => {
    for (const u of ['carol', 'alice', 'bob']) expect((await c.post('/Users', { userName: `${u}@x.test` })).status).toBe(201);
    for (const g of ['Zeta', 'Alpha']) expect((await c.post('/Groups', { displayName: g })).status).toBe(201);
    const res = await c.post('/.search', { schemas: [SEARCH], sortBy: 'userName', sortOrder: 'descending' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.totalResults).toBe(5);
    const names = res.body.Resources.map((r: any) => r.userName ?? r.displayName);
    expect(names).toEqual(['carol@x.test', 'bob@x.test', 'alice@x.test', 'Zeta', 'Alpha']);
    const bad = await c.post('/.search', { schemas: [SEARCH], sortBy: 'noSuchAttribute' });
    expect(bad.status).toBe(400);
  });
});
