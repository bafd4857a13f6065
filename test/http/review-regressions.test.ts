/**
 * Regressions found in review: each one a request that used to get a wrong answer,
 * a 500 or a non-SCIM error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let t: TestApp;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('review'));
});
afterAll(() => t.close());

const ops = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });

describe('review regressions', () => {
  it('two users racing to the same externalId: one wins, the other gets 409', async () => {
    const k = scimClient(t.app, await t.connection('externalId key', { settings: { mappingKey: 'externalId' } }));
    const a = await k.post('/Users', { userName: 'race-a@x.test', externalId: 'ea' });
    const b = await k.post('/Users', { userName: 'race-b@x.test', externalId: 'eb' });
    const [ra, rb] = await Promise.all([
      k.patch(`/Users/${a.body.id}`, ops({ op: 'replace', path: 'externalId', value: 'SAME' })),
      k.patch(`/Users/${b.body.id}`, ops({ op: 'replace', path: 'externalId', value: 'SAME' })),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 409]);
    expect((await k.get(`/Users?filter=${encodeURIComponent('externalId eq "SAME"')}`)).body.totalResults).toBe(1);
  });

  it('a stricter domain list does not block changing another address of an older user', async () => {
    const conn = await t.connection('domains later');
    const k = scimClient(t.app, conn);
    const u = await k.post('/Users', {
      userName: 'j@acme.com',
      emails: [
        { value: 'j@acme.com', type: 'work', primary: true },
        { value: 'j@gmail.com', type: 'home' },
      ],
    });
    await t.rc.connections.configure(conn.id, { domains: ['acme.com'] });
    const ok = await k.patch(`/Users/${u.body.id}`, ops({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'john@acme.com' }));
    expect(ok.status, ok.text).toBe(200);
    const refused = await k.patch(`/Users/${u.body.id}`, ops({ op: 'add', path: 'emails', value: [{ value: 'x@other.com', type: 'other' }] }));
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('other.com');
  });

  it('a core URN object nested in itself is a 400, not a crash', async () => {
    let body = '{"userName":"deep@x.test"}';
    for (let i = 0; i < 5000; i++) body = `{"${CORE_USER}":${body}}`;
    const res = await c.request('POST', '/Users', body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidSyntax');
  });

  it('a filter of hundreds of or-terms works where the terms cap allows it; more than the cap are refused with invalidFilter', async () => {
    const wide = await startTestApp({ limits: { filterTerms: 1000 } });
    try {
      const w = scimClient(wide.app, await wide.connection('Wide'));
      const ok = await w.get(`/Users?filter=${encodeURIComponent(Array.from({ length: 400 }, () => 'id pr').join(' or '))}`);
      expect(ok.status, ok.text).toBe(200);
    } finally {
      await wide.close();
    }
    const tooMany = await c.get(`/Users?filter=${encodeURIComponent(Array.from({ length: 101 }, () => 'id pr').join(' or '))}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.scimType).toBe('invalidFilter');
  });

  it('attributes with two sub-attributes of a multi-valued attribute keep them together', async () => {
    const u = await c.post('/Users', {
      userName: 'pick@x.test',
      emails: [{ value: 'a@x.test' }, { value: 'b@x.test', type: 'work' }],
    });
    const res = await c.get(`/Users/${u.body.id}?attributes=emails.value,emails.type`);
    expect(res.body.emails).toEqual([{ value: 'a@x.test' }, { value: 'b@x.test', type: 'work' }]);
    const types = await c.get(`/Users/${u.body.id}?attributes=emails.type`);
    expect(types.body.emails).toEqual([{ type: 'work' }]);
  });

  it('router errors (over-long id, malformed URL) are SCIM errors', async () => {
    for (const url of [`/Users/${'x'.repeat(300)}`, '/Users/%E0%A4%A']) {
      const res = await c.get(url);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
      expect(res.headers['content-type']).toContain('application/scim+json');
    }
  });

  it('replacing a member list with the same list changes no version', async () => {
    const u1 = await c.post('/Users', { userName: 'm1@x.test' });
    const u2 = await c.post('/Users', { userName: 'm2@x.test' });
    const g = await c.post('/Groups', { displayName: 'Same list', members: [{ value: u1.body.id }, { value: u2.body.id }] });
    const userBefore = (await c.get(`/Users/${u1.body.id}`)).body.meta.version;
    const res = await c.patch(`/Groups/${g.body.id}`, ops({ op: 'replace', path: 'members', value: [{ value: u1.body.id }, { value: u2.body.id }] }));
    expect(res.status).toBe(204);
    expect((await c.get(`/Groups/${g.body.id}`)).body.meta.version).toBe(g.body.meta.version);
    expect((await c.get(`/Users/${u1.body.id}`)).body.meta.version).toBe(userBefore);
    const u3 = await c.post('/Users', { userName: 'm3@x.test' });
    await c.patch(`/Groups/${g.body.id}`, ops({ op: 'replace', path: 'members', value: [{ value: u2.body.id }, { value: u3.body.id }] }));
    const members = (await c.get(`/Groups/${g.body.id}`)).body.members.map((m: any) => m.value).sort();
    expect(members).toEqual([u2.body.id, u3.body.id].sort());
  });

  it('defaultRole is for new users: a later change does not re-role existing ones', async () => {
    const conn = await t.connection('roles');
    const k = scimClient(t.app, conn);
    const u = await k.post('/Users', { userName: 'role@x.test' });
    await t.rc.connections.configure(conn.id, { defaultRole: 'viewer' });
    await k.patch(`/Users/${u.body.id}`, ops({ op: 'replace', path: 'title', value: 'Engineer' }));
    const ctx = { connectionId: conn.id, baseUrl: '' };
    expect(JSON.parse((await t.rc.users.get(ctx, u.body.id)).row.app).role).toBe('member');
    const n = await k.post('/Users', { userName: 'new@x.test' });
    expect(JSON.parse((await t.rc.users.get(ctx, n.body.id)).row.app).role).toBe('viewer');
  });
});
