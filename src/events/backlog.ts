/**
 * How far webhook delivery is behind, for metrics: the deliveries still pending
 * and when the oldest of them became due. Read from the database, so every
 * instance reports the same figures (take the max over instances, not the sum).
 * The pending rows are the ones the partial indexes cover: the cost follows the
 * backlog, never the delivered history.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';

export interface DeliveryBacklog {
  pending: number;
  /** `due_since` of the oldest pending delivery (ISO 8601); null when none is pending. */
  oldestDueSince: string | null;
}

export async function deliveryBacklog(db: Kysely<DB>): Promise<DeliveryBacklog> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number | string | bigint>().as('pending'), eb.fn.min('due_since').as('oldest')])
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return { pending: Number(row?.pending ?? 0), oldestDueSince: row?.oldest ?? null };
}
