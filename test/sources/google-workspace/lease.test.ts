/**
 * Issue 15 acceptance 6: two instances on one database (PostgreSQL in the
 * postgres project, one SQLite file in the sqlite one) never run the same
 * connection's sync at once: a lease row in the database decides.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRollcall } from '../../../src/rollcall.js';
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

  it("a crashed instance's lease expires: until then the connection is refused, then another instance runs it", async () => {
    s = await googleSetup();
    populate(s.fake, 10);
    // What a process that died mid-run leaves behind.
    await s.rc.database.db
      .updateTable('connection_sources')
      .set({ lease_holder: 'crashed-run', lease_until: new Date(Date.now() + 1000).toISOString() })
      .where('connection_id', '=', s.connectionId)
      .execute();
    const counts = JSON.stringify({ usersSeen: 0 });
    await s.rc.database.db
      .insertInto('source_runs')
      .values({ id: 'crashed-run', connection_id: s.connectionId, trigger: 'schedule', status: 'running', started_at: new Date(Date.now() - 60_000).toISOString(), finished_at: null, counts, errors: '[]', message: null })
      .execute();
    await expect(s.rc.sources.sync(s.connectionId)).rejects.toMatchObject({ code: 'ROLLCALL_SOURCE_SYNC_RUNNING' });
    expect((await s.rc.sources.show(s.connectionId))!.running).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status).toBe('succeeded');
    expect(run.counts.usersCreated).toBe(10);
    // The dead instance's run no longer shows as running.
    const crashed = await s.rc.sources.run(s.connectionId, 'crashed-run');
    expect(crashed).toMatchObject({ status: 'failed', finishedAt: expect.any(String), message: expect.stringMatching(/lease expired/) });
  });

  it('closing an instance stops its run after the page it is on, keeps what it finished and gives the lease back', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } }, delayMs: 30 });
    populate(s.fake, 600);
    const closing = await createRollcall(s.options);
    const { run, done } = await closing.sources.begin(s.connectionId);
    expect(run.status).toBe('running');
    while (s.fake.count(USERS_PATH) < 2) await new Promise((r) => setTimeout(r, 10));
    await closing.close();
    const stopped = await done;
    expect(stopped.status).toBe('failed');
    expect(stopped.message).toMatch(/shutting down/);
    expect(stopped.counts.usersCreated).toBeGreaterThanOrEqual(100);
    expect(stopped.counts.usersCreated).toBeLessThan(600);
    expect(stopped.counts.usersCreated % 100).toBe(0);
    expect((await s.users()).size).toBe(stopped.counts.usersCreated);
    expect((await s.rc.sources.show(s.connectionId))!.running).toBe(false);
    const next = await s.rc.sources.sync(s.connectionId);
    expect(next.status).toBe('succeeded');
    expect((await s.users()).size).toBe(600);
  });
});
