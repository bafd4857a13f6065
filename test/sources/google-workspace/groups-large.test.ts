/**
 * Groups with more members than one SCIM write may name (membersPerRequest,
 * default 1,000): written in pieces within the limit, so they sync completely,
 * grow and shrink like any other group.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type GoogleSetup, countByType, googleSetup, populate } from './helpers.js';

let s: GoogleSetup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('Google Workspace: groups larger than one request', () => {
  it('a 2,500-member group is created, shrunk and grown completely, each write within the limit', async () => {
    s = await googleSetup({ requestLog: true });
    // One group whose members are every user (step 1).
    populate(s.fake, 2500, 1, 1);
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.errors).toEqual([]);
    expect(run.counts).toMatchObject({ usersCreated: 2500, groupsSeen: 1, groupsCreated: 1, errors: 0 });
    const users = await s.users();
    let group = (await s.groups()).get('Group 000')!;
    expect(group.members).toHaveLength(2500);
    expect(group.members).toEqual([...users.values()].map((u) => u.id).sort());
    let events = countByType(await s.newEvents());
    expect(events['group.created']).toBe(1);
    expect(events['group.member_added']).toBe(2500);
    // Every write of the group named at most 1,000 members.
    const writes = (await s.rc.requestLog.list(s.connectionId, { limit: 200 })).requests.filter((r) => r.path.includes('/Groups/'));
    expect(writes.map((w) => w.method)).toEqual(expect.arrayContaining(['POST', 'PATCH']));
    for (const w of writes) {
      const body = (await s.rc.requestLog.get(s.connectionId, w.id))!.body as { members?: unknown[]; Operations?: { value?: unknown }[] };
      const named = (body.members?.length ?? 0) + (body.Operations ?? []).reduce((n, op) => n + (Array.isArray(op.value) ? op.value.length : 0), 0);
      expect(named).toBeLessThanOrEqual(1000);
      expect(w.status).toBeLessThan(300);
    }

    // An unchanged big group is not written again.
    const quiet = await s.rc.sources.sync(s.connectionId);
    expect(quiet.counts).toMatchObject({ groupsUpdated: 0, groupsCreated: 0, errors: 0 });
    expect(await s.newEvents()).toEqual([]);

    // 1,200 members leave at Google (more than one request may remove) and the name changes.
    const g = s.fake.state;
    const members = g.members.get('0group000')!;
    const leaving = new Set(members.slice(100, 1300).map((m) => m.email));
    g.members.set('0group000', members.filter((m) => !leaving.has(m.email)));
    g.groups.get('0group000')!.name = 'Everyone';
    const shrunk = await s.rc.sources.sync(s.connectionId);
    expect(shrunk.status, shrunk.message ?? '').toBe('succeeded');
    expect(shrunk.counts).toMatchObject({ groupsUpdated: 1, errors: 0 });
    group = (await s.groups()).get('Everyone')!;
    expect(group.members).toHaveLength(1300);
    const stay = [...users.entries()].filter(([name]) => !leaving.has(name)).map(([, u]) => u.id).sort();
    expect(group.members).toEqual(stay);
    events = countByType(await s.newEvents());
    expect(events).toMatchObject({ 'group.member_removed': 1200, 'group.updated': 1 });
    expect(events['group.member_added']).toBeUndefined();

    // They come back: added in pieces again.
    g.members.set('0group000', members);
    const grown = await s.rc.sources.sync(s.connectionId);
    expect(grown.status, grown.message ?? '').toBe('succeeded');
    expect((await s.groups()).get('Everyone')!.members).toHaveLength(2500);
    expect(countByType(await s.newEvents())).toEqual({ 'group.member_added': 1200 });
  });
});
