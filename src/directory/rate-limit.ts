/**
 * A limit on the SCIM requests one connection may make per minute, exact over
 * any number of instances. Each instance claims blocks of the minute's budget
 * from the database (store/rate-windows.ts, one atomic statement per claim) and
 * spends them locally. A block is 1% of the limit (at least 1), or as many as are
 * waiting: with a limit of some thousands a minute most requests cost a map
 * lookup; below 200 a minute nearly every request claims (a small write). What
 * one instance holds unspent can make another refuse a little early, but
 * together they never let more through. Windows are minutes of each instance's
 * clock, so instances must keep their clocks in step (NTP), as with leases.
 *
 * Fixed one-minute windows (a burst at a window's end and the next's start can
 * reach twice the limit within a minute, as with any fixed window). If the
 * database cannot be reached for a claim, requests are let through: the limit
 * protects the database, and the request itself will meet the same failure.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import type { SqlDialect } from '../store/dialect.js';
import { claimRequests, dropWindowsBefore } from '../store/rate-windows.js';
import type { Clock } from './context.js';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALLOWED: RateDecision = { allowed: true };
const WINDOW_MS = 60_000;
/** Keeps `claimed + want` within a 32-bit integer column. */
export const MAX_PER_MINUTE = 100_000_000;

interface WindowState {
  window: number;
  /** Claimed from the database and not yet spent. */
  tokens: number;
  /** The database granted nothing: the window's budget is gone. */
  spent: boolean;
  /** The claim in flight; resolves false when it failed (then requests pass). */
  claim: Promise<boolean> | null;
  waiting: number;
}

/** Throws a RangeError unless `perMinute` is a usable limit (0: none). */
export function checkRateLimit(perMinute: number): void {
  if (!Number.isSafeInteger(perMinute) || perMinute < 0 || perMinute > MAX_PER_MINUTE) {
    throw new RangeError(`rateLimitPerMinute must be a whole number from 0 (no limit) to ${MAX_PER_MINUTE}, got ${perMinute}`);
  }
}

export class RateLimiter {
  private readonly windows = new Map<string, WindowState>();
  private readonly block: number;
  private cleaned = -1;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: SqlDialect,
    /** Requests per connection per minute; 0: no limit. */
    readonly perMinute: number,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
  ) {
    checkRateLimit(perMinute);
    this.block = Math.max(1, Math.ceil(perMinute / 100));
  }

  /** Whether one more request of this connection may run now. */
  async admit(connectionId: string): Promise<RateDecision> {
    if (this.perMinute <= 0) return ALLOWED;
    for (;;) {
      const now = this.clock().getTime();
      const window = Math.floor(now / WINDOW_MS);
      let s = this.windows.get(connectionId);
      // A clock that stepped back keeps counting against the newer window.
      if (!s || s.window < window) {
        s = { window, tokens: 0, spent: false, claim: null, waiting: 0 };
        this.windows.set(connectionId, s);
        this.forgetBefore(window);
      }
      if (s.tokens > 0) {
        s.tokens--;
        return ALLOWED;
      }
      if (s.spent) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((s.window + 1) * WINDOW_MS - now) / 1000)) };
      s.waiting++;
      let ok: boolean;
      try {
        const state = s;
        state.claim ??= this.claim(connectionId, state).finally(() => {
          state.claim = null;
        });
        ok = await state.claim;
      } finally {
        s.waiting--;
      }
      if (!ok) return ALLOWED;
    }
  }

  private async claim(connectionId: string, s: WindowState): Promise<boolean> {
    try {
      const granted = await claimRequests(this.db, this.dialect, {
        connectionId,
        window: s.window,
        want: Math.max(this.block, s.waiting),
        limit: this.perMinute,
      });
      if (granted <= 0) s.spent = true;
      else s.tokens += granted;
      return true;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }

  /** Once per new window: drop this instance's state and the stored rows of windows that are over. */
  private forgetBefore(window: number): void {
    if (this.cleaned >= window) return;
    this.cleaned = window;
    for (const [id, s] of this.windows) if (s.window < window) this.windows.delete(id);
    dropWindowsBefore(this.db, window - 1).catch(this.onError);
  }
}
