/**
 * Events are kept for a retention window (ROLLCALL_EVENT_RETENTION_DAYS, default
 * 30), then pruned with the hourly purge — but never an event an endpoint still
 * needs: one beyond the cursor of a webhook of its organisation, or one with a
 * pending delivery. Finished deliveries (delivered or failed) older than the window
 * go too. The feed only reaches back as far as the window: a poller away longer
 * resumes at the oldest kept event.
 */
import { type Kysely, sql } from 'kysely';
import type { DB } from '../store/types.js';

/** Rows deleted per statement: bounded work per round on a large backlog. */
const CHUNK = 5000;

export interface PruneReport {
  events: number;
  deliveries: number;
}

export async function pruneEvents(db: Kysely<DB>, before: string): Promise<PruneReport> {
  const report: PruneReport = { events: 0, deliveries: 0 };
  for (;;) {
    const res = await db
      .deleteFrom('webhook_deliveries')
      .where(sql<boolean>`(webhook_id, sequence) in (select d.webhook_id, d.sequence from webhook_deliveries d where d.status <> 'pending' and d.created_at < ${before} limit ${CHUNK})`)
      .executeTakeFirst();
    const n = Number(res.numDeletedRows);
    report.deliveries += n;
    if (n < CHUNK) break;
  }
  for (;;) {
    const res = await db
      .deleteFrom('events')
      .where('pos', 'in', (eb) =>
        eb
          .selectFrom('events as e')
          .select('e.pos')
          .where('e.occurred_at', '<', before)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('webhooks as w')
                  .select(sql`1`.as('one'))
                  .whereRef('w.organization_id', '=', 'e.organization_id')
                  .whereRef('w.cursor', '<', 'e.sequence'),
              ),
            ),
          )
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('webhook_deliveries as d').select(sql`1`.as('one')).whereRef('d.event_pos', '=', 'e.pos').where('d.status', '=', 'pending'))),
          )
          .orderBy('e.pos')
          .limit(CHUNK),
      )
      .executeTakeFirst();
    const n = Number(res.numDeletedRows);
    report.events += n;
    if (n < CHUNK) break;
  }
  return report;
}
