/**
 * The end of a user's life: users deleted (and, with purgeDeactivated, users
 * deactivated) longer ago than the connection's retentionDays are purged — the row,
 * its e-mail index rows and memberships go for good. Until then a DELETE can be
 * undone by provisioning the same mapping key again (see UserDirectory.create).
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import { purgeUsers } from '../store/users.js';
import type { ConnectionDirectory } from './connections.js';

const DAY_MS = 86_400_000;

export interface PurgeReport {
  asOf: string;
  purged: number;
  connections: { id: string; name: string; purged: number }[];
}

export async function purgeExpired(db: Kysely<DB>, connections: ConnectionDirectory, asOf: Date): Promise<PurgeReport> {
  const report: PurgeReport = { asOf: asOf.toISOString(), purged: 0, connections: [] };
  for (const c of await connections.allWithSettings()) {
    const before = new Date(asOf.getTime() - c.settings.retentionDays * DAY_MS).toISOString();
    const n = await db
      .transaction()
      .execute((trx) => purgeUsers(trx, c.id, before, c.settings.purgeDeactivated ? before : null, asOf.toISOString()));
    report.purged += n;
    if (n) report.connections.push({ id: c.id, name: c.name, purged: n });
  }
  return report;
}
