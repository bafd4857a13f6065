/**
 * The outbox: events are stored in the transaction of the write that emitted
 * them (a failed write stores none), numbered per organisation without gaps or
 * duplicates even under concurrent batches, and handed to in-process subscribers
 * after the commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { onPostgres } from '../support/databases.js';
import { writeEvents, uuidv7 } from '../../src/events/outbox.js';
import { decodeEventData } from '../../src/events/event-data.js';
import type { RollcallEvent } from '../../src/events/types.js';
import { emitEvents, newEvent, waitFor } from './helpers.js';
import { addTenant } from '../../src/store/tenant.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  // The made-up connection of newEvent(), keyed as a created connection would be.
  await addTenant(t.rc.database.db, 'conn-1');
});
afterAll(async () => {
  await t?.close();
});

async function stored(org?: string) {
  let q = t.rc.database.db.selectFrom('events').selectAll().orderBy('pos');
  if (org !== undefined) q = q.where('organization_id', '=', org);
  return q.execute();
}

describe('outbox', () => {
  it('stores emitted events with an id, a per-organisation sequence and the published shape', async () => {
    await emitEvents(t.rc, [newEvent('org-a', { data: { hello: 'world' } }), newEvent('org-b'), newEvent('org-a')]);
    const a = await stored('org-a');
    const b = await stored('org-b');
    expect(a.map((r) => Number(r.sequence))).toEqual([1, 2]);
    expect(b.map((r) => Number(r.sequence))).toEqual([1]);
    expect(a[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(decodeEventData(a[0].data)).toEqual({ hello: 'world' });
    expect(a[0].resource_type).toBe('User');
    const page = await t.rc.events.feed({ organizationId: 'org-a' });
    expect(Object.keys(page.events[0])).toEqual(['id', 'type', 'occurredAt', 'organizationId', 'connectionId', 'sequence', 'data']);
    expect(page.events[0]).toMatchObject({ type: 'user.created', organizationId: 'org-a', connectionId: 'conn-1', sequence: 1, data: { hello: 'world' } });
  });

  it('stores nothing for a write that emits and then fails', async () => {
    const before = (await stored()).length;
    const marker = newEvent('org-fail', { data: { marker: 'lost' } });
    await expect(
      t.rc.database.writes.run(async (trx, emit) => {
        emit(marker);
        await trx.insertInto('organizations').values({ id: 'org-fail', name: 'x', plan: 'enterprise', created_at: new Date().toISOString() }).execute();
        throw new Error('refused after emitting');
      }),
    ).rejects.toThrow('refused after emitting');
    expect((await stored()).length).toBe(before);
    expect(await t.rc.database.db.selectFrom('organizations').select('id').where('id', '=', 'org-fail').executeTakeFirst()).toBeUndefined();
  });

  it('in a batch, drops the failed write\'s events and keeps the others\'', async () => {
    const results = await Promise.allSettled([
      emitEvents(t.rc, [newEvent('org-batch', { data: { w: 1 } })]),
      t.rc.database.writes.run(async (_trx, emit) => {
        emit(newEvent('org-batch', { data: { w: 2 } }));
        emit(newEvent('org-batch', { data: { w: 2 } }));
        throw new Error('second write refused');
      }),
      emitEvents(t.rc, [newEvent('org-batch', { data: { w: 3 } }), newEvent('org-other', { data: { w: 3 } })]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await stored('org-batch');
    expect(rows.map((r) => decodeEventData(r.data).w)).toEqual([1, 3]);
    // No gap where the failed write's events would have been.
    expect(rows.map((r) => Number(r.sequence))).toEqual([1, 2]);
  });

  it('numbers events without an organisation on a counter of their own', async () => {
    await emitEvents(t.rc, [newEvent(null), newEvent(null)]);
    const rows = await t.rc.database.db.selectFrom('events').select('sequence').where('organization_id', 'is', null).orderBy('pos').execute();
    expect(rows.map((r) => Number(r.sequence))).toEqual([1, 2]);
  });

  it('writeEvents works in any transaction and rolls back with it', async () => {
    const db = t.rc.database.db;
    const before = (await stored('org-direct')).length;
    await expect(
      db.transaction().execute(async (trx) => {
        await writeEvents(trx, [newEvent('org-direct')], t.rc.database.dialect);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect((await stored('org-direct')).length).toBe(before);
    const out = await db.transaction().execute((trx) => writeEvents(trx, [newEvent('org-direct'), newEvent('org-direct')], t.rc.database.dialect));
    expect(out.map((e) => e.sequence)).toEqual([1, 2]);
  });

  it('keeps sequences and positions gapless and unique under many concurrent batches', async () => {
    const orgs = ['org-c1', 'org-c2', 'org-c3', 'org-c4'];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      const o1 = orgs[i % 4];
      const o2 = orgs[(i * 7 + 1) % 4];
      writes.push(
        i % 13 === 0
          ? t.rc.database.writes
              .run(async (_trx, emit) => {
                emit(newEvent(o1));
                throw new Error('refused');
              })
              .catch(() => undefined)
          : emitEvents(t.rc, [newEvent(o1), newEvent(o2)]),
      );
    }
    await Promise.all(writes);
    const failed = Math.ceil(400 / 13);
    let total = 0;
    for (const o of orgs) {
      const seqs = (await stored(o)).map((r) => Number(r.sequence));
      total += seqs.length;
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    expect(total).toBe((400 - failed) * 2);
    const positions = (await stored()).map((r) => Number(r.pos));
    expect(positions).toEqual(Array.from({ length: positions.length }, (_, i) => i + 1));
    const ids = (await stored()).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('hands committed events to subscribers after the commit, in order, filtered by type; handler errors never fail a write', async () => {
    const all: RollcallEvent[] = [];
    const onlyDeleted: RollcallEvent[] = [];
    const seenAtCall: number[] = [];
    const unsubAll = t.rc.events.subscribe(async (e) => {
      // Called after the commit: the event is already readable outside the transaction.
      const row = await t.rc.database.readDb.selectFrom('events').select('id').where('id', '=', e.id).executeTakeFirst();
      seenAtCall.push(row ? 1 : 0);
      all.push(e);
    });
    const unsubDeleted = t.rc.events.subscribe((e) => void onlyDeleted.push(e), { types: ['user.deleted'] });
    const unsubThrows = t.rc.events.subscribe(() => {
      throw new Error('a broken handler');
    });
    const logged: unknown[] = [];
    t.rc.setLogger({ error: (o) => void logged.push(o), warn: () => {}, info: () => {} });
    await emitEvents(t.rc, [newEvent('org-sub', { type: 'user.created' }), newEvent('org-sub', { type: 'user.deleted' })]);
    await t.rc.database.writes
      .run(async (_trx, emit) => {
        emit(newEvent('org-sub', { type: 'user.deleted', data: { lost: true } }));
        throw new Error('refused');
      })
      .catch(() => undefined);
    await emitEvents(t.rc, [newEvent('org-sub', { type: 'user.updated' })]);
    await waitFor(() => all.length === 3, 'three events at the subscriber');
    expect(all.map((e) => [e.type, e.sequence])).toEqual([
      ['user.created', 1],
      ['user.deleted', 2],
      ['user.updated', 3],
    ]);
    expect(seenAtCall).toEqual([1, 1, 1]);
    expect(onlyDeleted.map((e) => e.sequence)).toEqual([2]);
    await waitFor(() => logged.length === 3, 'three logged handler errors');
    unsubAll();
    unsubDeleted();
    unsubThrows();
    await emitEvents(t.rc, [newEvent('org-sub', { type: 'user.deleted' })]);
    expect(all.length).toBe(3);
    expect(onlyDeleted.length).toBe(1);
  });

  it('generates time-ordered v7 ids', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(a.slice(0, 13)).toBe('018bcfe5-6800');
  });

  it.runIf(onPostgres)('numbers commit-ordered across two instances writing to one organisation at once', async () => {
    const { createRollcall } = await import('../../src/rollcall.js');
    const other = await createRollcall({ databaseUrl: t.databaseUrl, publicUrl: 'https://x.example' });
    try {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => emitEvents(i % 2 ? other : t.rc, [newEvent('org-two'), newEvent(`org-two-${i % 3}`)])),
      );
      const seqs = (await stored('org-two')).map((r) => Number(r.sequence));
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    } finally {
      await other.close();
    }
  });
});
