/**
 * The SQL of pulled sources (directory/sources.ts): a connection's source row,
 * the lease that lets one instance at a time run its sync, the runs, and the map
 * from the source's object ids to ours.
 */
import { type Kysely, sql } from 'kysely';
import { chunks } from './chunks.js';
import type { SqlDialect } from './dialect.js';
import type { ConnectionSourcesTable, DB, SourceObjectsTable, SourceRunsTable } from './types.js';

export type SourceRow = ConnectionSourcesTable;
export type SourceRunRow = SourceRunsTable;
export type SourceObjectRow = SourceObjectsTable;

export async function insertSource(db: Kysely<DB>, row: SourceRow): Promise<void> {
  await db.insertInto('connection_sources').values(row).execute();
}

export async function getSource(db: Kysely<DB>, connectionId: string): Promise<SourceRow | undefined> {
  return db.selectFrom('connection_sources').selectAll().where('connection_id', '=', connectionId).executeTakeFirst();
}

export async function updateSource(db: Kysely<DB>, connectionId: string, values: Partial<Pick<SourceRow, 'config' | 'credentials' | 'interval_minutes' | 'next_run_at'>>): Promise<boolean> {
  const r = await db.updateTable('connection_sources').set(values).where('connection_id', '=', connectionId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Connections whose next run is due at `now` (the instance's schedule) and whose
 * lease is free by the database's clock, soonest first.
 */
export async function dueSources(db: Kysely<DB>, dialect: SqlDialect, now: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('connection_sources as s')
    .innerJoin('connections as c', 'c.id', 's.connection_id')
    .select('s.connection_id')
    .where('c.status', '=', 'active')
    .where('s.next_run_at', '<=', now)
    .where((eb) => eb.or([eb('s.lease_until', 'is', null), eb('s.lease_until', '<', dialect.nowIso())]))
    .orderBy('s.next_run_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.connection_id);
}

/**
 * Takes the connection's lease for `holder` for `seconds` when it is free (never
 * held, or expired by the database's clock): one conditional UPDATE, so of two
 * instances racing only one changes the row (on PostgreSQL the second waits for
 * the first's row lock, then finds the lease taken). True when `holder` has it now.
 */
export async function claimLease(db: Kysely<DB>, dialect: SqlDialect, connectionId: string, holder: string, seconds: number): Promise<boolean> {
  const r = await db
    .updateTable('connection_sources')
    .set({ lease_holder: holder, lease_until: dialect.nowIso(seconds) })
    .where('connection_id', '=', connectionId)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', dialect.nowIso())]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Renews a lease `holder` still has: it must hold it and the lease must not have
 * expired (by the database's clock), the source must still be of `kind` and its
 * connection active. False otherwise (sourceState then says why); a renewal never
 * takes a lease that was given back or taken by someone else.
 */
export async function renewLease(db: Kysely<DB>, dialect: SqlDialect, connectionId: string, holder: string, kind: string, seconds: number): Promise<boolean> {
  const r = await db
    .updateTable('connection_sources')
    .set({ lease_until: dialect.nowIso(seconds) })
    .where('connection_id', '=', connectionId)
    .where('lease_holder', '=', holder)
    .where('lease_until', '>=', dialect.nowIso())
    .where('kind', '=', kind)
    .where((eb) => eb.exists(eb.selectFrom('connections as c').select('c.id').where('c.id', '=', connectionId).where('c.status', '=', 'active')))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The source row's lease and kind with its connection's status (undefined: no such pulled connection), and whether the lease holds now by the database's clock. */
export async function sourceState(
  db: Kysely<DB>,
  dialect: SqlDialect,
  connectionId: string,
): Promise<{ kind: string; lease_holder: string | null; lease_until: string | null; status: string; held: boolean } | undefined> {
  const row = await db
    .selectFrom('connection_sources as s')
    .innerJoin('connections as c', 'c.id', 's.connection_id')
    .select(['s.kind', 's.lease_holder', 's.lease_until', 'c.status', sql<number | boolean>`case when s.lease_until >= ${dialect.nowIso()} then 1 else 0 end`.as('held')])
    .where('s.connection_id', '=', connectionId)
    .executeTakeFirst();
  return row && { ...row, held: Number(row.held) === 1 };
}

/** Gives the lease up (only if `holder` still has it) and sets when the next run is due. */
export async function releaseLease(db: Kysely<DB>, connectionId: string, holder: string, nextRunAt: string): Promise<void> {
  await db
    .updateTable('connection_sources')
    .set({ lease_holder: null, lease_until: null, next_run_at: nextRunAt })
    .where('connection_id', '=', connectionId)
    .where('lease_holder', '=', holder)
    .execute();
}

export async function insertRun(db: Kysely<DB>, row: SourceRunRow): Promise<void> {
  await db.insertInto('source_runs').values(row).execute();
}

export async function updateRun(db: Kysely<DB>, id: string, values: Partial<Pick<SourceRunRow, 'status' | 'finished_at' | 'counts' | 'errors' | 'message'>>): Promise<void> {
  await db.updateTable('source_runs').set(values).where('id', '=', id).execute();
}

/** Marks the connection's runs still `running` as failed: called by the lease's new holder, so they are runs whose instance died. */
export async function failAbandonedRuns(db: Kysely<DB>, connectionId: string, now: string, message: string): Promise<number> {
  const r = await db
    .updateTable('source_runs')
    .set({ status: 'failed', finished_at: now, message })
    .where('connection_id', '=', connectionId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** The connection's runs, newest first. */
export async function listRuns(db: Kysely<DB>, connectionId: string, limit: number): Promise<SourceRunRow[]> {
  return db.selectFrom('source_runs').selectAll().where('connection_id', '=', connectionId).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function getRun(db: Kysely<DB>, connectionId: string, id: string): Promise<SourceRunRow | undefined> {
  return db.selectFrom('source_runs').selectAll().where('connection_id', '=', connectionId).where('id', '=', id).executeTakeFirst();
}

/** The map rows of these source ids (one kind). */
export async function objectsBySourceId(db: Kysely<DB>, connectionId: string, kind: string, sourceIds: string[]): Promise<SourceObjectRow[]> {
  if (!sourceIds.length) return [];
  return db.selectFrom('source_objects').selectAll().where('connection_id', '=', connectionId).where('kind', '=', kind).where('source_id', 'in', sourceIds).execute();
}

/** Map rows of one kind in a state, after `afterSourceId` in source id order (a page at a time). */
export async function objectsInState(db: Kysely<DB>, connectionId: string, kind: string, state: string, afterSourceId: string, limit: number): Promise<SourceObjectRow[]> {
  return db
    .selectFrom('source_objects')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .where('kind', '=', kind)
    .where('state', '=', state)
    .where('source_id', '>', afterSourceId)
    .orderBy('source_id')
    .limit(limit)
    .execute();
}

export async function upsertObject(db: Kysely<DB>, row: SourceObjectRow): Promise<void> {
  await db
    .insertInto('source_objects')
    .values(row)
    .onConflict((oc) => oc.columns(['connection_id', 'kind', 'source_id']).doUpdateSet({ local_id: row.local_id, digest: row.digest, state: row.state }))
    .execute();
}

/** Upserts many map rows, a few hundred per statement (a page of users is one or two statements). */
export async function upsertObjects(db: Kysely<DB>, rows: SourceObjectRow[]): Promise<void> {
  for (const part of chunks(rows, 200)) {
    await db
      .insertInto('source_objects')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['connection_id', 'kind', 'source_id']).doUpdateSet({ local_id: sql.ref('excluded.local_id'), digest: sql.ref('excluded.digest'), state: sql.ref('excluded.state') }),
      )
      .execute();
  }
}
