/**
 * Events are kept for a retention window (ROLLCALL_EVENT_RETENTION_DAYS, default
 * 30), then pruned with the hourly purge — but never an event an endpoint still
 * needs: one beyond the cursor of a webhook of its organisation, or one with a
 * pending delivery — nor any event after one that stays, so what is kept is
 * always a suffix and sequences keep no holes. Finished deliveries (delivered or
 * failed) older than the window go too. The feed only reaches back as far as the window: a poller away longer
 * resumes at the oldest kept event.
 */
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
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
  // Per organisation, events go only as a prefix of its sequence, so the kept
  // sequence has no holes: the first event that must stay (too young, not yet
  // given to an endpoint, or with a pending delivery) holds back the ones after it.
  const orgs = await db.selectFrom('events').select('organization_id').distinct().where('occurred_at', '<', before).execute();
  for (const { organization_id: org } of orgs) {
    const floor = await keepFrom(db, org, before);
    for (;;) {
      let chunk = db.selectFrom('events').select('pos').where(ofOrganization(org)).where('occurred_at', '<', before).orderBy('sequence').limit(CHUNK);
      if (floor !== null) chunk = chunk.where('sequence', '<', floor);
      const res = await db
        .deleteFrom('events')
        .where('pos', 'in', () => chunk)
        .executeTakeFirst();
      const n = Number(res.numDeletedRows);
      report.events += n;
      if (n < CHUNK) break;
    }
  }
  return report;
}

/** Events of this organisation (null: events of no organisation). */
function ofOrganization(org: string | null) {
  return (eb: ExpressionBuilder<DB, 'events'>) => (org === null ? eb('organization_id', 'is', null) : eb('organization_id', '=', org));
}

/** The sequence of an organisation's first event that must be kept; null when none must. */
async function keepFrom(db: Kysely<DB>, org: string | null, before: string): Promise<number | null> {
  // In sequence order: the rows read before the first young one are the ones pruned.
  const young = await db.selectFrom('events').select('sequence').where(ofOrganization(org)).where('occurred_at', '>=', before).orderBy('sequence').limit(1).executeTakeFirst();
  if (org === null) return young ? Number(young.sequence) : null;
  // The next event each of its endpoints has not been given yet (cursor + 1), and its pending deliveries.
  const ungiven = await db.selectFrom('webhooks').select((eb) => eb.fn.min('cursor').as('cursor')).where('organization_id', '=', org).executeTakeFirst();
  const pending = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select((eb) => eb.fn.min('d.sequence').as('sequence'))
    .where('w.organization_id', '=', org)
    .where('d.status', '=', 'pending')
    .executeTakeFirst();
  const floors = [young?.sequence, ungiven?.cursor == null ? null : Number(ungiven.cursor) + 1, pending?.sequence].filter((p) => p !== null && p !== undefined).map(Number);
  return floors.length ? Math.min(...floors) : null;
}
