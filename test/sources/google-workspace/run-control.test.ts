/**
 * What stops a run, and how: a lease it no longer holds, its connection disabled
 * or deleted while it runs, the instance shutting down while a request waits out
 * its retry backoff, and stored credentials this server's key cannot open.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createRollcall } from '../../../src/rollcall.js';
import { type GoogleSetup, googleSetup, populate } from './helpers.js';

let s: GoogleSetup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const USERS_PATH = '/admin/directory/v1/users';

async function untilRequests(path: string, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (s!.fake.count(path) < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} requests to ${path}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const setLease = (values: { lease_holder: string | null; lease_until: string | null }) =>
  s!.rc.database.db.updateTable('connection_sources').set(values).where('connection_id', '=', s!.connectionId).execute();

describe('Google Workspace: what stops a run', () => {
  it('a renewal does not take back a lease that was given back: the run stops (leaseLost)', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } }, delayMs: 40 });
    populate(s.fake, 500);
    const { done } = await s.rc.sources.begin(s.connectionId);
    await untilRequests(USERS_PATH, 1);
    // Released under the run (e.g. by an operator, or a bug elsewhere): it is no longer the run's.
    await setLease({ lease_holder: null, lease_until: null });
    const run = await done;
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/lease of connection .* was given back; this run stopped/);
    expect(run.counts.usersCreated).toBeLessThan(500);
  });

  it('a renewal does not take a lease another run holds, nor renew one that expired', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } }, delayMs: 40 });
    populate(s.fake, 500);
    let { done } = await s.rc.sources.begin(s.connectionId);
    await untilRequests(USERS_PATH, 1);
    const until = new Date(Date.now() + 600_000).toISOString();
    await setLease({ lease_holder: 'another-run', lease_until: until });
    let run = await done;
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/was taken by another run/);
    // The other run's lease is left alone.
    const row = await s.rc.database.db.selectFrom('connection_sources').selectAll().where('connection_id', '=', s.connectionId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ lease_holder: 'another-run', lease_until: until });

    // Our own lease, expired (by the database's clock) before it was renewed.
    await setLease({ lease_holder: null, lease_until: null });
    ({ done } = await s.rc.sources.begin(s.connectionId));
    const holder = (await s.rc.database.db.selectFrom('connection_sources').select('lease_holder').where('connection_id', '=', s.connectionId).executeTakeFirstOrThrow()).lease_holder;
    await setLease({ lease_holder: holder, lease_until: new Date(Date.now() - 1000).toISOString() });
    run = await done;
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/expired before it was renewed/);
  });

  it('disabling the connection stops its run at the next checkpoint, keeping what it finished', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } }, delayMs: 40 });
    populate(s.fake, 500);
    const { done } = await s.rc.sources.begin(s.connectionId);
    await untilRequests(USERS_PATH, 1);
    await s.rc.connections.setStatus(s.connectionId, 'disabled');
    const run = await done;
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/was disabled while its sync ran; the run stopped/);
    expect(run.counts.usersCreated).toBeGreaterThanOrEqual(100);
    expect(run.counts.usersCreated).toBeLessThan(500);
    expect(run.counts.usersCreated % 100).toBe(0);
    expect(s.logged.some((l) => (l.obj as { err?: { code?: string } }).err?.code === 'ROLLCALL_SOURCE_SYNC_CANCELLED')).toBe(true);
    expect((await s.rc.sources.show(s.connectionId))!.running).toBe(false);
  });

  it('deleting the connection stops its run', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } }, delayMs: 40 });
    populate(s.fake, 500);
    const { done } = await s.rc.sources.begin(s.connectionId);
    await untilRequests(USERS_PATH, 1);
    await s.rc.connections.remove(s.connectionId);
    const requests = s.fake.count(USERS_PATH);
    // Its run row went with the connection: the run is answered as it ended.
    const run = await done;
    expect(run).toMatchObject({ status: 'failed', message: expect.stringMatching(/was (deleted|disabled) .*while its sync ran/) });
    expect(s.fake.count(USERS_PATH)).toBeLessThanOrEqual(requests + 1);
    expect(s.logged.some((l) => (l.obj as { err?: { code?: string } }).err?.code === 'ROLLCALL_SOURCE_SYNC_CANCELLED')).toBe(true);
    expect(await s.rc.connections.show(s.connectionId)).toBeUndefined();
  });

  it('closing the instance ends a run waiting out a long retry backoff at once', async () => {
    // Every users.list answers 503 and asks for 30 s; the backoff would wait that long.
    s = await googleSetup({ sources: { googleWorkspace: { retryBaseMs: 30_000, retryMaxMs: 60_000 } } });
    populate(s.fake, 10);
    s.fake.faults.push({ when: (r) => r.path === USERS_PATH, status: 503, retryAfter: 30, message: 'Backend Error', times: Infinity });
    const closing = await createRollcall(s.options);
    const { done } = await closing.sources.begin(s.connectionId);
    await untilRequests(USERS_PATH, 1);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await closing.close();
    const run = await done;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/shutting down/);
    expect(s.fake.count(USERS_PATH)).toBe(1);
    expect((await s.rc.sources.show(s.connectionId))!.running).toBe(false);
  });

  it('credentials the key cannot open: a failed run with ROLLCALL_SOURCE_CREDENTIALS_UNREADABLE, next one after the interval', async () => {
    s = await googleSetup();
    populate(s.fake, 10);
    // An instance started with another ROLLCALL_SECRET_KEY than the one the key file was sealed under.
    const wrongKey = await createRollcall({ ...s.options, secretKey: randomBytes(32) });
    try {
      const run = await wrongKey.sources.sync(s.connectionId);
      expect(run.status).toBe('failed');
      expect(run.message).toMatch(/stored credentials of connection .* cannot be opened: .*not under this ROLLCALL_SECRET_KEY/);
      expect(s.fake.count(USERS_PATH)).toBe(0);
      // Not due again before its interval: the schedule does not retry it every minute.
      const info = (await wrongKey.sources.show(s.connectionId))!;
      expect(info.running).toBe(false);
      expect(new Date(info.nextRunAt!).getTime() - Date.now()).toBeGreaterThan(39 * 60_000);
      // The right key still opens them.
      expect((await s.rc.sources.sync(s.connectionId)).status).toBe('succeeded');
    } finally {
      await wrongKey.close();
    }
  });
});
