/**
 * Issue 15 acceptance 6: two instances on one database (PostgreSQL in the
 * postgres project, one SQLite file in the sqlite one) never run the same
 * connection's sync at once: a lease row in the database decides.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type GoogleSetup, googleSetup, populate } from './helpers.js';

let s: GoogleSetup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const USERS_PATH = '/admin/directory/v1/users';

describe('Google Workspace: one run per connection over all instances', () => {
  it('of two instances asked at once, one runs and the other is refused; afterwards either may run', async () => {
    // Slow answers keep the first run going while the second asks.
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } }, delayMs: 20 });
    populate(s.fake, 400, 2);
    const other = await s.another();
    const results = await Promise.allSettled([s.rc.sources.sync(s.connectionId), other.sources.sync(s.connectionId)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0].reason.code).toBe('ROLLCALL_SOURCE_SYNC_RUNNING');
    expect((ok[0] as PromiseFulfilledResult<{ status: string }>).value.status).toBe('succeeded');
    // One run's listing: 4 pages of users and one of deleted users.
    expect(s.fake.count(USERS_PATH)).toBe(5);
    expect((await s.users()).size).toBe(400);

    // The lease was given back: the other instance runs now.
    const second = await other.sources.sync(s.connectionId);
    expect(second.status).toBe('succeeded');
    expect(second.counts.usersUnchanged).toBe(400);
  });

  it('schedulers on both instances run a due connection once between them', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 }, checkEveryMs: 10 }, delayMs: 10 });
    populate(s.fake, 300, 1);
    const other = await s.another();
    s.rc.startMaintenance();
    other.startMaintenance();
    const deadline = Date.now() + 30_000;
    let runs = await s.rc.sources.runs(s.connectionId);
    while ((!runs.length || runs.some((r) => r.status === 'running')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      runs = await s.rc.sources.runs(s.connectionId);
    }
    // Both keep looking for a while: the next run is due in 40 minutes, so nothing more starts.
    await new Promise((r) => setTimeout(r, 300));
    runs = await s.rc.sources.runs(s.connectionId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'setup', status: 'succeeded' });
    expect(s.fake.count(USERS_PATH)).toBe(4);
    const info = await s.rc.sources.show(s.connectionId);
    expect(info!.running).toBe(false);
    expect(new Date(info!.nextRunAt!).getTime() - Date.now()).toBeGreaterThan(39 * 60_000);
  });
});
