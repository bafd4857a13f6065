/**
 * The shared request budget of a connection per minute. Instances claim parts
 * of it with one atomic upsert each, so together they never hand out more than
 * the limit, whichever instance a request lands on.
 */
import { type Kysely, sql } from 'kysely';
import type { DB } from './types.js';
import type { SqlDialect } from './dialect.js';

/**
 * Claims up to `want` requests of `window` for a connection, never past `limit`
 * in total over all instances. Returns how many were granted (0: spent).
 */
export async function claimRequests(
  db: Kysely<DB>,
  dialect: SqlDialect,
  q: { connectionId: string; window: number; want: number; limit: number },
): Promise<number> {
  const first = Math.min(q.want, q.limit);
  // In DO UPDATE SET every right-hand side reads the row as it was, so `granted`
  // is what this statement added to `claimed`. `claimed` never goes down: an
  // instance with a lower limit (a configuration change rolling out) gets 0
  // instead of handing budget back to instances with a higher one.
  const next = dialect.greatest(sql`rate_windows.claimed`, dialect.least(sql`rate_windows.claimed + ${q.want}`, sql`${q.limit}`));
  const row = await db
    .insertInto('rate_windows')
    .values({ connection_id: q.connectionId, window_start: q.window, claimed: first, granted: first })
    .onConflict((oc) =>
      oc.columns(['connection_id', 'window_start']).doUpdateSet({
        claimed: next as never,
        granted: sql`${next} - rate_windows.claimed` as never,
      }),
    )
    .returning('granted')
    .executeTakeFirstOrThrow();
  return Number(row.granted);
}

/** Forgets windows that ended before `window` (they decide nothing any more). */
export async function dropWindowsBefore(db: Kysely<DB>, window: number): Promise<void> {
  await db.deleteFrom('rate_windows').where('window_start', '<', window).execute();
}
