/**
 * Issue 15 acceptance 2, 3 and 5: incremental runs with changes, suspensions and
 * deletions; absence deactivates only after a complete successful listing; a run
 * that fails on page 3 changes nothing it did not finish; events once per change.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SourceDirectory } from '../../../src/directory/sources.js';
import { UserDirectory } from '../../../src/directory/users.js';
import { type GoogleSetup, countByType, googleSetup, populate } from './helpers.js';
import { googleUser } from './fake-google.mjs';

const DAY_MS = 86_400_000;
const USERS_PATH = '/admin/directory/v1/users';

/** The fake's user i (populate's ids). */
const idOf = (i: number) => googleUser(i).id;

let s: GoogleSetup | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await s?.close();
  s = undefined;
});

async function synced(users: number, groups: number): Promise<GoogleSetup> {
  s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } } });
  populate(s.fake, users, groups, 10);
  const first = await s.rc.sources.sync(s.connectionId);
  expect(first.status, first.message ?? '').toBe('succeeded');
  await s.newEvents();
  return s;
}

describe('Google Workspace: incremental runs', () => {
  it('writes only changes: updates, suspensions → deactivated, deletions → deleted, absence → deactivated; retention applies', async () => {
    const s = await synced(300, 5);
    const before = await s.users();

    // A run with nothing changed at Google writes nothing and emits nothing.
    const quiet = await s.rc.sources.sync(s.connectionId);
    expect(quiet.counts).toMatchObject({ usersSeen: 300, usersUnchanged: 300, usersCreated: 0, usersUpdated: 0, usersDeactivated: 0, usersDeleted: 0, groupsCreated: 0, groupsUpdated: 0 });
    expect(await s.newEvents()).toEqual([]);
    const again = await s.users();
    expect([...again.values()].map((u) => u.doc)).toEqual([...before.values()].map((u) => u.doc));

    const g = s.fake.state;
    g.users.get(idOf(3))!.name = { givenName: 'Renamed', familyName: 'Family00003', fullName: 'Renamed Family00003' };
    g.users.get(idOf(4))!.suspended = true;
    const deleted = g.users.get(idOf(5))!;
    g.users.delete(idOf(5));
    g.deleted.set(deleted.id, { ...deleted, deletionTime: new Date().toISOString() });
    // Gone from the listing without a trace (e.g. moved out of scope): deactivated, not deleted.
    g.users.delete(idOf(6));
    const added = googleUser(300);
    g.users.set(added.id, added);
    // Group 4 loses user 14 at Google; group 3 is deleted at Google.
    g.members.set('0group004', g.members.get('0group004')!.filter((m) => m.id !== idOf(14)));
    g.groups.delete('0group003');

    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ usersSeen: 299, usersCreated: 1, usersUpdated: 1, usersDeactivated: 2, usersDeleted: 1, usersUnchanged: 296, groupsDeleted: 1 });
    const users = await s.users();
    expect(users.get('user00003@example.com')!.doc.name.givenName).toBe('Renamed');
    expect(users.get('user00004@example.com')).toMatchObject({ state: 'deactivated', doc: { active: false } });
    expect(users.get('user00006@example.com')).toMatchObject({ state: 'deactivated', doc: { active: false } });
    expect(users.has('user00005@example.com')).toBe(false);
    expect(users.get('user00300@example.com')!.state).toBe('active');
    const groups = await s.groups();
    expect(groups.has('Group 003')).toBe(false);
    expect(groups.get('Group 004')!.members).not.toContain(before.get('user00014@example.com')!.id);
    expect(groups.get('Group 004')!.members).toHaveLength(29);

    const events = countByType(await s.newEvents());
    expect(events).toMatchObject({ 'user.updated': 1, 'user.deactivated': 2, 'user.deleted': 1, 'user.created': 1, 'group.deleted': 1 });
    // Only user 14 left a group (users 5 and 6 would be in group 5 or 6, which do not exist here).
    expect(events['group.member_removed']).toBe(1);

    // Exactly once: the same state again emits nothing.
    const still = await s.rc.sources.sync(s.connectionId);
    expect(still.counts).toMatchObject({ usersCreated: 0, usersUpdated: 0, usersDeactivated: 0, usersDeleted: 0, groupsDeleted: 0 });
    expect(await s.newEvents()).toEqual([]);

    // Unsuspended at Google: reactivated.
    g.users.get(idOf(4))!.suspended = false;
    const back = await s.rc.sources.sync(s.connectionId);
    expect(back.counts.usersUpdated).toBe(1);
    expect(countByType(await s.newEvents())).toEqual({ 'user.reactivated': 1 });

    // Retention: the deleted user is purged once the connection's window (30 days) has passed.
    const report = await s.rc.purge(new Date(Date.now() + 31 * DAY_MS));
    expect(report.purged).toBeGreaterThanOrEqual(1);
    const purged = (await s.newEvents()).filter((e) => e.type === 'user.purged').map((e) => (e.data as { userName?: string }).userName ?? JSON.stringify(e.data));
    expect(purged.join(' ')).toContain('user00005@example.com');
  });

  it('a run failing on page 3 keeps pages 1-2, writes nothing later and deactivates nobody', async () => {
    const s = await synced(500, 3);
    const before = await s.users();
    const g = s.fake.state;
    // Page 1 (users 0-99) and page 4 (300-399) change; user 150 (page 2) disappears.
    g.users.get(idOf(10))!.name.givenName = 'Changed10';
    g.users.get(idOf(350))!.name.givenName = 'Changed350';
    g.users.delete(idOf(150));
    const groupsBefore = await s.groups();
    g.members.set('0group000', []);
    const page3 = Buffer.from('200').toString('base64url');
    s.fake.faults.push({ when: (r) => r.path === USERS_PATH && r.query.pageToken === page3, status: 500, message: 'Backend Error', times: Infinity });

    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/users\.list failed: 500 INTERNAL: Backend Error/);
    // Retried with backoff before giving up (6 retries by default).
    expect(s.fake.faults[0].hits).toBe(7);
    expect(run.counts).toMatchObject({ usersSeen: 200, usersUpdated: 1, usersDeactivated: 0, usersDeleted: 0, groupsSeen: 0 });

    const users = await s.users();
    expect(users.get('user00010@example.com')!.doc.name.givenName).toBe('Changed10');
    expect(users.get('user00350@example.com')!.doc.name.givenName).toBe('Given00350');
    expect(users.get('user00150@example.com')).toMatchObject({ state: 'active' });
    expect(users.get('user00150@example.com')!.doc).toEqual(before.get('user00150@example.com')!.doc);
    expect(await s.groups()).toEqual(groupsBefore);
    expect(countByType(await s.newEvents())).toEqual({ 'user.updated': 1 });
    const runs = await s.rc.sources.runs(s.connectionId);
    expect(runs[0]).toMatchObject({ id: run.id, status: 'failed', finishedAt: expect.any(String) });
    expect(s.rc.stats.sourceSyncs.failures).toBe(1);

    // The next run after Google recovers finishes the job.
    s.fake.faults.length = 0;
    const next = await s.rc.sources.sync(s.connectionId);
    expect(next.status, next.message ?? '').toBe('succeeded');
    expect(next.counts).toMatchObject({ usersUpdated: 1, usersDeactivated: 1, usersUnchanged: 498 });
    const after = await s.users();
    expect(after.get('user00350@example.com')!.doc.name.givenName).toBe('Changed350');
    expect(after.get('user00150@example.com')!.state).toBe('deactivated');
    expect((await s.groups()).get('Group 000')!.members).toEqual([]);
  });

  it('a failure in the group listings leaves absent users active: absence counts only after every listing completed', async () => {
    const s = await synced(200, 3);
    s.fake.state.users.delete(idOf(7));
    s.fake.faults.push({ when: (r) => r.path.endsWith('/0group002/members'), status: 403, message: 'Not Authorized to access this resource/api', times: Infinity });
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/members\.list failed: 403 PERMISSION_DENIED: Not Authorized/);
    // A 403 is not retried.
    expect(s.fake.faults[0].hits).toBe(1);
    expect((await s.users()).get('user00007@example.com')!.state).toBe('active');
    expect(await s.newEvents()).toEqual([]);
  });

  it('users and groups written by a run that died before recording them are adopted, not duplicated, and emit nothing', async () => {
    const s = await synced(150, 2);
    // What a crash between the writes and their id-map rows leaves: objects here, no map.
    await s.rc.database.db.deleteFrom('source_objects').where('connection_id', '=', s.connectionId).execute();
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ usersCreated: 0, usersUpdated: 150, groupsCreated: 0, groupsUpdated: 2, errors: 0 });
    expect((await s.users()).size).toBe(150);
    expect((await s.groups()).size).toBe(2);
    expect(await s.newEvents()).toEqual([]);
    const again = await s.rc.sources.sync(s.connectionId);
    expect(again.counts).toMatchObject({ usersUnchanged: 150, usersUpdated: 0 });
  });

  it('a suspension applies even when the new document is refused: PATCH active=false, and the refusal is reported', async () => {
    const s = await synced(50, 0);
    const u = s.fake.state.users.get(idOf(4))!;
    // Suspended, and moved to an address the connection's verified domains refuse.
    u.suspended = true;
    u.primaryEmail = 'user00004@other.example';
    u.emails = [{ address: u.primaryEmail, primary: true }];
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ usersDeactivated: 1, usersUpdated: 0, errors: 1 });
    expect(run.errors[0]).toMatchObject({ kind: 'user', sourceId: idOf(4), code: 'ROLLCALL_DOMAIN_NOT_VERIFIED' });
    const user = (await s.users()).get('user00004@example.com')!;
    expect(user).toMatchObject({ state: 'deactivated', doc: { active: false } });
    expect(countByType(await s.newEvents())).toEqual({ 'user.deactivated': 1 });
    // The refusal is reported again until fixed; the user is not deactivated twice.
    const again = await s.rc.sources.sync(s.connectionId);
    expect(again.counts).toMatchObject({ usersDeactivated: 0, errors: 1 });
    expect(await s.newEvents()).toEqual([]);
  });

  it("a user renamed while the listing pages is not deactivated: absence is by Google's immutable id, confirmed with users.get", async () => {
    const s = await synced(300, 1);
    const before = await s.users();
    const renamed = s.fake.state.users.get(idOf(250))!;
    // Renamed at Google while page 2 is read: it moves from page 3 to page 1, which this run already read.
    const page2 = Buffer.from('100').toString('base64url');
    s.fake.hooks.push((r) => {
      if (r.path === USERS_PATH && r.query.pageToken === page2 && !r.query.showDeleted) {
        renamed.primaryEmail = 'aaa-renamed@example.com';
        renamed.emails = [{ address: renamed.primaryEmail, primary: true }];
      }
    });
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ usersDeactivated: 0, usersUpdated: 1, usersSeen: 300, errors: 0 });
    // Looked up by its id, once.
    expect(s.fake.count(`${USERS_PATH}/${idOf(250)}`)).toBe(1);
    const users = await s.users();
    expect(users.has('user00250@example.com')).toBe(false);
    // The same user (same id here), active, under its new name, still in its group.
    expect(users.get('aaa-renamed@example.com')).toMatchObject({ id: before.get('user00250@example.com')!.id, state: 'active', doc: { active: true } });
    expect((await s.groups()).get('Group 000')!.members).toContain(before.get('user00250@example.com')!.id);
    expect(countByType(await s.newEvents())).toEqual({ 'user.updated': 1 });

    // A user really gone is still deactivated (users.get answers 404).
    s.fake.state.users.delete(idOf(7));
    const next = await s.rc.sources.sync(s.connectionId);
    expect(next.counts).toMatchObject({ usersDeactivated: 1 });
    expect(s.fake.count(`${USERS_PATH}/${idOf(7)}`)).toBe(1);
    expect((await s.users()).get('user00007@example.com')!.state).toBe('deactivated');
  });

  it('the absence phase renews the lease after every page of absent users', async () => {
    s = await googleSetup();
    populate(s.fake, 1200);
    expect((await s.rc.sources.sync(s.connectionId)).status).toBe('succeeded');
    s.fake.state.users.clear();
    const order: string[] = [];
    const renew = SourceDirectory.prototype.renew;
    vi.spyOn(SourceDirectory.prototype, 'renew').mockImplementation(function (this: SourceDirectory, ...args) {
      order.push('renew');
      return renew.apply(this, args);
    });
    const patch = UserDirectory.prototype.patch;
    vi.spyOn(UserDirectory.prototype, 'patch').mockImplementation(function (this: UserDirectory, ...args) {
      order.push('patch');
      return patch.apply(this, args);
    });
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts.usersDeactivated).toBe(1200);
    // 1,200 absent users are 3 pages of 500: renewed after the first and the second, between the PATCHes.
    const first = order.indexOf('patch');
    const last = order.lastIndexOf('patch');
    expect(order.slice(first, last).filter((x) => x === 'renew').length).toBeGreaterThanOrEqual(2);
  });
});
