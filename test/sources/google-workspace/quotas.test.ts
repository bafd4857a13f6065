/**
 * Issue 15 acceptance 7: Google's quotas. 429 (with Retry-After) and 5xx are
 * retried with backoff by the client's retry; other errors stop the run at once
 * with Google's message; a run stops at its request budget.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type GoogleSetup, googleSetup, populate } from './helpers.js';
import { backoffMs, retryAfterMs } from '../../../src/sources/google-workspace/client.js';
import { createRollcall } from '../../../src/rollcall.js';
import type { Fault } from './fake-google.mjs';

let s: GoogleSetup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const USERS_PATH = '/admin/directory/v1/users';

describe('Google Workspace: quotas and errors', () => {
  it('retries 429 (waiting for Retry-After) and 503, counting every attempt', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100, retryMaxMs: 2000 } } });
    populate(s.fake, 250, 2);
    const rateLimited: Fault = { when: (r: { path: string }) => r.path === USERS_PATH, status: 429, retryAfter: 1, message: 'Quota exceeded for quota metric', times: 2 };
    const unavailable: Fault = { when: (r: { path: string }) => r.path.endsWith('/members'), status: 503, message: 'Service unavailable', times: 1 };
    s.fake.faults.push(rateLimited, unavailable);
    const started = Date.now();
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(rateLimited.hits).toBe(2);
    expect(unavailable.hits).toBe(1);
    // Retry-After: 1 was honoured twice (the wait is at least what it asks, within retryMaxMs).
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const apiRequests = s.fake.seen.requests.filter((r) => r.path.startsWith('/admin/')).length;
    // 3 pages + 1 deleted + 1 groups + 2 members, and the 3 retried attempts.
    expect(apiRequests).toBe(10);
    expect(run.counts.requests).toBe(apiRequests);
    expect(run.counts.usersCreated).toBe(250);
  });

  it('stops at the request budget, keeping the pages it finished and deactivating nobody', async () => {
    s = await googleSetup({ sources: { googleWorkspace: { pageSize: 100 } } });
    populate(s.fake, 500);
    const first = await s.rc.sources.sync(s.connectionId);
    expect(first.status).toBe('succeeded');
    const ids = [...s.fake.state.users.keys()];
    s.fake.state.users.get(ids[0])!.name.givenName = 'Changed';
    s.fake.state.users.delete(ids[450]);
    // An instance on the same database whose runs may make 3 requests.
    const budgeted = await createRollcall({ ...s.options, sources: { ...s.options.sources, googleWorkspace: { ...s.options.sources!.googleWorkspace, requestBudget: 3 } } });
    try {
      const run = await budgeted.sources.sync(s.connectionId);
      expect(run.status).toBe('failed');
      expect(run.message).toMatch(/made 3 requests to Google, its budget/);
      expect(run.counts).toMatchObject({ requests: 3, usersSeen: 300, usersUpdated: 1, usersDeactivated: 0 });
    } finally {
      await budgeted.close();
    }
  });

  it("stops at once on an error that is not the quota's, with Google's message (delegation not set up)", async () => {
    s = await googleSetup();
    populate(s.fake, 10);
    await s.rc.sources.configureGoogleWorkspace(s.connectionId, { adminEmail: 'someone-else@example.com' });
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/unauthorized_client/);
    expect(run.message).toMatch(/domain-wide delegation/);
    expect(s.fake.count(USERS_PATH)).toBe(0);
    expect((await s.users()).size).toBe(0);
  });

  it('backoff: exponential with jitter, at least Retry-After, at most the cap', () => {
    expect(backoffMs(0, 1000, 64_000, undefined, () => 0)).toBe(500);
    expect(backoffMs(0, 1000, 64_000, undefined, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, 64_000, undefined, () => 1)).toBe(8000);
    expect(backoffMs(10, 1000, 64_000, undefined, () => 1)).toBe(64_000);
    expect(backoffMs(0, 1000, 64_000, 30_000, () => 0)).toBe(30_000);
    expect(backoffMs(0, 1000, 64_000, 120_000, () => 0)).toBe(64_000);
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }))).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }))).toBeGreaterThan(3000);
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });
});
