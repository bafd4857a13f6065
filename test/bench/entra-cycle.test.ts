/**
 * The bench's Entra ID-shaped cycle (bench/lib/entra-cycle.mjs) against a real
 * Rollcall on a port: its verification must find every user and every member after a
 * cycle, and must notice a user, a member or a change that is not there. Not timed:
 * the bench measures; this only keeps its check honest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
// @ts-expect-error plain JS module of the bench, without types
import { cyclePlan, incrementalCycle, initialCycle, scimClient, summarize, verifyCycle } from '../../bench/lib/entra-cycle.mjs';
import { startTestApp, type TestApp, type TestConnection } from '../support/app.js';

describe('bench: the Entra ID-shaped cycle and its verification', () => {
  let t: TestApp;
  let conn: TestConnection;
  let origin: string;
  const plan = cyclePlan({ users: 120, groups: 3, prefix: 'verify' });
  let client: ReturnType<typeof scimClient>;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    conn = await t.connection('cycle');
    client = scimClient({ origin, api: conn.base, token: conn.token, inFlight: 4 });
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('runs the initial and the incremental cycle without a failed request, and finds every user and member', async () => {
    await initialCycle(client, plan, { inFlight: 4 });
    await incrementalCycle(client, plan, { inFlight: 4 });
    const kinds = summarize(client.stats);
    expect(kinds['lookup user'].count).toBe(120 + 12 + 6); // every user, then the updated and deactivated ones again
    expect(kinds['create user'].count).toBe(120);
    expect(kinds['add members'].count).toBe(3); // 40 members a group: one batch of 50 each
    expect(kinds['update user'].count).toBe(12);
    expect(kinds['deactivate user'].count).toBe(6);
    for (const k of Object.values(kinds) as { non2xx: number; errors: number }[]) expect(k.non2xx + k.errors).toBe(0);

    const v = await verifyCycle(client, plan, { incremental: true, sample: 1000 });
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, usersExpected: 120, usersFound: 120, totalResults: 120, sampleChecked: 120, sampleOk: 120, groupsFound: 3, membersExpected: 120, membersFound: 120 });
  });

  it('a second initial cycle finds everyone and creates nobody (as an IdP resuming does)', async () => {
    const again = scimClient({ origin, api: conn.base, token: conn.token, inFlight: 4 });
    await initialCycle(again, plan, { inFlight: 4, usersOnly: true });
    again.close();
    expect(summarize(again.stats)['create user']).toBeUndefined();
  });

  it('notices a missing user, a missing member and a change that did not land', async () => {
    const ids = new Map<number, string>();
    for (const n of [5, 13, 27]) {
      const r = await t.app.inject({ method: 'GET', url: `${conn.base}/Users?filter=${encodeURIComponent(`userName eq "${plan.users[n].userName}"`)}`, headers: { authorization: `Bearer ${conn.token}` } });
      ids.set(n, r.json().Resources[0].id);
    }
    const auth = { authorization: `Bearer ${conn.token}`, 'content-type': 'application/scim+json' };
    // user 5 deleted (missing, and so gone from its group); user 13 (an updated one) gets its old title back; user 27 (deactivated) leaves its group only
    expect((await t.app.inject({ method: 'DELETE', url: `${conn.base}/Users/${ids.get(5)}`, headers: auth })).statusCode).toBe(204);
    const patch = (ops: unknown[]) => JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops });
    expect((await t.app.inject({ method: 'PATCH', url: `${conn.base}/Users/${ids.get(13)}`, headers: auth, payload: patch([{ op: 'replace', path: 'title', value: 'Engineer' }]) })).statusCode).toBeLessThan(300);
    const groups = await t.app.inject({ method: 'GET', url: `${conn.base}/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${plan.groups[27 % 3].displayName}"`)}`, headers: auth });
    const gid = groups.json().Resources[0].id;
    expect((await t.app.inject({ method: 'PATCH', url: `${conn.base}/Groups/${gid}`, headers: auth, payload: patch([{ op: 'remove', path: `members[value eq "${ids.get(27)}"]` }]) })).statusCode).toBeLessThan(300);

    const v = await verifyCycle(client, plan, { incremental: true, sample: 1000 });
    expect(v.ok).toBe(false);
    expect(v.usersFound).toBe(119);
    expect(v.totalResults).toBe(119);
    expect(v.membersFound).toBe(118);
    expect(v.problems).toEqual(
      expect.arrayContaining([
        `${plan.users[5].userName} missing`,
        'the connection holds 119 users, the plan 120',
        `${plan.users[13].userName}: title "Engineer" ≠ "Senior Engineer"`,
        expect.stringMatching(new RegExp(`^group ${plan.groups[27 % 3].displayName}: 1 of 40 members missing$`)),
      ]),
    );
  });
});
