/** SQL for console sessions, setup links and the organisations' audit trail (directory/console-access.ts decides). */
import { type Kysely, sql } from 'kysely';
import type { AuditLogTable, ConsoleSessionsTable, DB, SetupLinksTable } from './types.js';

export async function insertSession(db: Kysely<DB>, row: ConsoleSessionsTable): Promise<void> {
  await db.insertInto('console_sessions').values(row).execute();
}

/** The live session with this hash at `now`. */
export async function liveSession(db: Kysely<DB>, hash: string, now: string): Promise<ConsoleSessionsTable | undefined> {
  return db.selectFrom('console_sessions').selectAll().where('hash', '=', hash).where('expires_at', '>', now).executeTakeFirst();
}

export async function deleteSession(db: Kysely<DB>, hash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('hash', '=', hash).execute();
}

/** Ends every session a setup link opened (it was revoked). */
export async function deleteSessionsOfLink(db: Kysely<DB>, linkId: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('setup_link_id', '=', linkId).execute();
}

export async function deleteExpiredSessions(db: Kysely<DB>, now: string): Promise<number> {
  const r = await db.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function insertSetupLink(db: Kysely<DB>, row: SetupLinksTable): Promise<void> {
  await db.insertInto('setup_links').values(row).execute();
}

export async function setupLinkByHash(db: Kysely<DB>, hash: string): Promise<SetupLinksTable | undefined> {
  return db.selectFrom('setup_links').selectAll().where('hash', '=', hash).executeTakeFirst();
}

export async function setupLinksOf(db: Kysely<DB>, organizationId: string): Promise<SetupLinksTable[]> {
  return db.selectFrom('setup_links').selectAll().where('organization_id', '=', organizationId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export async function revokeSetupLink(db: Kysely<DB>, organizationId: string, id: string, now: string): Promise<SetupLinksTable | undefined> {
  await db.updateTable('setup_links').set({ revoked_at: now }).where('id', '=', id).where('organization_id', '=', organizationId).where('revoked_at', 'is', null).execute();
  return db.selectFrom('setup_links').selectAll().where('id', '=', id).where('organization_id', '=', organizationId).executeTakeFirst();
}

export async function countSetupLinkUse(db: Kysely<DB>, id: string, now: string): Promise<void> {
  await db
    .updateTable('setup_links')
    .set({ uses: sql<number>`uses + 1`, last_used_at: now })
    .where('id', '=', id)
    .execute();
}

export async function insertAudit(db: Kysely<DB>, row: AuditLogTable): Promise<void> {
  await db.insertInto('audit_log').values(row).execute();
}

export async function auditOf(db: Kysely<DB>, organizationId: string, limit: number, before?: string): Promise<AuditLogTable[]> {
  let q = db.selectFrom('audit_log').selectAll().where('organization_id', '=', organizationId);
  if (before) q = q.where('id', '<', before);
  return q.orderBy('id', 'desc').limit(limit).execute();
}
