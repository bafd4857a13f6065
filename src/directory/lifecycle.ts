/**
 * The end of a user's life: users deleted (and, with purgeDeactivated, users
 * deactivated) longer ago than the connection's retentionDays are purged — the row,
 * its e-mail index rows and memberships go for good. Until then a DELETE can be
 * undone by provisioning the same mapping key again (see UserDirectory.create).
 */
import type { WriteBatcher } from '../store/batch.js';
import type { NewEvent } from '../events/types.js';
import type { Doc } from '../scim/resource.js';
import { event, membershipEvent, userView } from './emitted-events.js';
import type { SqlDialect } from '../store/dialect.js';
import { purgeUsers, type UserRow } from '../store/users.js';
import type { ConnectionDirectory } from './connections.js';
import { daysBefore, requestContext } from './context.js';

export interface PurgeReport {
  asOf: string;
  purged: number;
  connections: { id: string; name: string; purged: number }[];
  /** Events and finished webhook deliveries past the event retention window (when it is on). */
  events?: { events: number; deliveries: number };
  /** Logged SCIM requests past the request log's retention (when the log is on). */
  requests?: number;
}

/** Users purged per transaction: bounded work per write, several rounds when there is more. */
const PURGE_CHUNK = 500;

export async function purgeExpired(
  database: { writes: WriteBatcher<NewEvent>; dialect: SqlDialect },
  connections: ConnectionDirectory,
  asOf: Date,
): Promise<PurgeReport> {
  const report: PurgeReport = { asOf: asOf.toISOString(), purged: 0, connections: [] };
  for (const c of await connections.allWithSettings()) {
    const before = daysBefore(asOf, c.settings.retentionDays);
    const ctx = requestContext(c.id, c, c.scimUrl);
    let n = 0;
    let after: string | null = null;
    for (;;) {
      const chunk: { rows: UserRow[]; last: string | null } = await database.writes.run(async (trx, emit) => {
        const { rows, memberships, last } = await purgeUsers(trx, {
          connectionId: c.id,
          deletedBefore: before,
          deactivatedBefore: c.settings.purgeDeactivated ? before : null,
          now: asOf.toISOString(),
          limit: PURGE_CHUNK,
          skipLocked: database.dialect.lockRows,
          after,
        });
        const at = asOf.toISOString();
        const byId = new Map(rows.map((r) => [r.id, r]));
        // A deactivated user purged leaves its groups: say so, as a DELETE does.
        for (const m of memberships) {
          const u = byId.get(m.member_id)!;
          const member = { id: u.id, userName: u.user_name, externalId: u.external_id, displayName: u.display_name };
          emit(membershipEvent(ctx, 'group.member_removed', { id: m.group_id, displayName: m.display_name }, member, at));
        }
        for (const row of rows) emit(event(ctx, 'user.purged', { type: 'User', id: row.id }, userView(ctx, row, JSON.parse(row.doc) as Doc), at));
        return { rows, last };
      });
      n += chunk.rows.length;
      // A short chunk means the sweep reached the end. Rows skipped because
      // someone held them (another purge, a restore, a write) are left to that
      // purge or to the next run.
      if (chunk.last === null) break;
      after = chunk.last;
    }
    report.purged += n;
    if (n) report.connections.push({ id: c.id, name: c.name, purged: n });
  }
  return report;
}
