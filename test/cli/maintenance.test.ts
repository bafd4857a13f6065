/**
 * The server's chores (planner statistics, retention) run inside rollcall, not in
 * the CLI: startMaintenance schedules them, a failing chore is logged, close() stops them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startMaintenance } from '../../src/directory/maintenance.js';
import { createRollcall } from '../../src/rollcall.js';
import type { PurgeReport } from '../../src/directory/lifecycle.js';
import { freshDatabase } from '../support/databases.js';

const report = (purged: number) => ({ purged, asOf: '2026-12-05T00:00:00.000Z' }) as unknown as PurgeReport;

afterEach(() => {
  vi.useRealTimers();
});

describe('maintenance', () => {
  it('purges at once and then on its interval, optimizes on its own, and stop() ends both', async () => {
    vi.useFakeTimers();
    const optimize = vi.fn();
    const purge = vi.fn(async () => report(2));
    const info = vi.fn();
    const log = { info, warn: vi.fn(), error: vi.fn() };
    const m = startMaintenance({ optimize, purge, log: () => log }, { optimizeEveryMs: 1_000, purgeEveryMs: 10_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(purge).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith({ purged: 2 }, 'purged users past their retention window');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(optimize).toHaveBeenCalledTimes(10);
    expect(purge).toHaveBeenCalledTimes(2);
    m.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(optimize).toHaveBeenCalledTimes(10);
    expect(purge).toHaveBeenCalledTimes(2);
  });

  it('logs a failing purge or optimize instead of throwing', async () => {
    vi.useFakeTimers();
    const error = vi.fn();
    const log = { info: vi.fn(), warn: vi.fn(), error };
    const m = startMaintenance(
      {
        optimize: () => {
          throw new Error('disk gone');
        },
        purge: async () => {
          throw new Error('locked');
        },
        log: () => log,
      },
      { optimizeEveryMs: 1_000 },
    );
    await vi.advanceTimersByTimeAsync(1_000);
    m.stop();
    expect(error.mock.calls.map((c) => c[1])).toEqual(['purge failed', 'optimize failed']);
  });

  it('rollcall runs it once however often it is started, and close() stops it', async () => {
    const database = await freshDatabase('rollcall-maint-');
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.example.com' });
    try {
      vi.useFakeTimers();
      const optimize = vi.spyOn(rc.database, 'optimize');
      rc.startMaintenance({ optimizeEveryMs: 1_000 });
      rc.startMaintenance({ optimizeEveryMs: 1_000 });
      await vi.advanceTimersByTimeAsync(3_000);
      expect(optimize).toHaveBeenCalledTimes(3);
      vi.useRealTimers();
      await rc.close();
      vi.useFakeTimers();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(optimize).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
      await database.drop();
    }
  });
});
