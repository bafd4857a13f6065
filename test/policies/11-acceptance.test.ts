/**
 * Issue 3 acceptance: delete a user, restore it within the window (same id, same
 * data), delete another, advance the clock past the window, purge, and re-create
 * it as a new user — all through HTTP, with an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { CORE_USER, ENTERPRISE, ROLLCALL, connect, expectScimError, fakeClock, findUsers, getUser, hostRecord, type Setup } from './helpers.js';

const clock = fakeClock('2026-03-02T08:00:00.000Z');
let t: TestApp;
let s: Setup;

beforeAll(async () => {
  t = await startTestApp({ clock: clock.clock });
  s = await connect(
    t,
    {
      retentionDays: 30,
      genderValues: { w: 'female', m: 'male' },
      defaultLanguage: 'de',
      attributeMap: { jobTitle: 'title', department: `${ENTERPRISE}:department` },
    },
    'Acceptance',
  );
});
afterAll(async () => {
  await t?.close();
});

const body = (tag: string) => ({
  schemas: [CORE_USER, ENTERPRISE, ROLLCALL],
  externalId: `acc-${tag}`,
  userName: `${tag}@acme.com`,
  active: true,
  displayName: `User ${tag}`,
  title: 'Engineer',
  preferredLanguage: 'en_GB',
  name: { givenName: 'Given', familyName: tag },
  emails: [{ primary: true, type: 'work', value: `${tag}@acme.com` }],
  [ENTERPRISE]: { department: 'R&D', employeeNumber: `E-${tag}` },
  [ROLLCALL]: { gender: 'w', academicDegree: 'Dr.' },
});

/** The SCIM representation without what is expected to move on a restore (version, lastModified). */
function stable(u: any) {
  const { meta, ...rest } = u;
  return { ...rest, meta: { resourceType: meta.resourceType, created: meta.created, location: meta.location } };
}

describe('acceptance: delete, restore within the window, purge after it', () => {
  it('runs the whole story', async () => {
    // Two users provisioned.
    const aRes = await s.c.post('/Users', body('alice'));
    expect(aRes.status, aRes.text).toBe(201);
    const bRes = await s.c.post('/Users', body('bob'));
    expect(bRes.status, bRes.text).toBe(201);
    const alice = await getUser(s.c, aRes.body.id);
    const aliceHost = await hostRecord(s, alice.id);
    expect(alice[ROLLCALL]).toEqual({ gender: 'female', academicDegree: 'Dr.' });
    expect(alice.preferredLanguage).toBe('en-GB');
    expect(aliceHost.app).toMatchObject({ language: 'en-GB', primaryLanguage: 'en', profile: { jobTitle: 'Engineer', department: 'R&D' } });

    // Day 1: alice is deleted.
    clock.advanceDays(1);
    expect((await s.c.delete(`/Users/${alice.id}`)).status).toBe(204);
    expectScimError(await s.c.get(`/Users/${alice.id}`), 404);
    expect(await findUsers(s.c, 'userName eq "alice@acme.com"')).toEqual([]);

    // Day 20 (within 30 days): the IdP provisions her again → restored, 201, same id, same data.
    clock.advanceDays(19);
    const restored = await s.c.post('/Users', body('alice'));
    expect(restored.status, restored.text).toBe(201);
    expect(restored.body.id).toBe(alice.id);
    const aliceAgain = await getUser(s.c, alice.id);
    expect(stable(aliceAgain)).toEqual(stable(alice));
    expect(aliceAgain.meta.created).toBe(alice.meta.created);
    const aliceHostAgain = await hostRecord(s, alice.id);
    expect(aliceHostAgain.state).toBe('active');
    expect(aliceHostAgain.app).toEqual(aliceHost.app);
    expect(aliceHostAgain.row.created_at).toBe(aliceHost.row.created_at);
    expect((await findUsers(s.c, 'externalId eq "acc-alice"')).map((u) => u.id)).toEqual([alice.id]);

    // Day 20: bob is deleted.
    expect((await s.c.delete(`/Users/${bRes.body.id}`)).status).toBe(204);

    // Day 51: past bob's window. The purge removes him (and only him).
    clock.advanceDays(31);
    const report = await t.rc.purge(clock.now());
    expect(report.asOf).toBe(clock.now().toISOString());
    expect(report.purged).toBe(1);
    expect(report.connections).toEqual([expect.objectContaining({ id: s.conn.id, purged: 1 })]);
    expect((await getUser(s.c, alice.id)).active).toBe(true);

    // Bob comes back from the IdP: a new user, new id, created now.
    const bobAgain = await s.c.post('/Users', body('bob'));
    expect(bobAgain.status, bobAgain.text).toBe(201);
    expect(bobAgain.body.id).not.toBe(bRes.body.id);
    expect(bobAgain.body.meta.created).toBe(clock.now().toISOString());
    expectScimError(await s.c.get(`/Users/${bRes.body.id}`), 404);
    const list = await s.c.get('/Users');
    expect(list.body.totalResults).toBe(2);
    expect(list.body.Resources.map((u: any) => u.id).sort()).toEqual([alice.id, bobAgain.body.id].sort());
  });
});
