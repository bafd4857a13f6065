/**
 * The compact key a connection's directory rows carry (users, user_emails, groups,
 * memberships) instead of its 36-character id: that id was stored in every row and
 * every index entry of them, ~35 bytes each time and ~300 bytes a user in all.
 *
 * Queries keep taking the connection id: `tenantOf(id)` is a scalar subquery on the
 * tenants table's unique index, which both SQLite and PostgreSQL evaluate once per
 * statement and then use like a constant (index lookups included), so no caller
 * has to know the number and nothing caches a mapping that a restore could change.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from './types.js';

export function tenantOf(connectionId: string): RawBuilder<number> {
  return sql<number>`(select ${sql.ref('tenants.tenant')} from ${sql.table('tenants')} where ${sql.ref('tenants.connection_id')} = ${connectionId})`;
}

/** Gives a new connection its key (in the transaction that inserts the connection). */
export async function addTenant(db: Kysely<DB>, connectionId: string): Promise<void> {
  await db.insertInto('tenants').values({ connection_id: connectionId }).onConflict((oc) => oc.column('connection_id').doNothing()).execute();
}
