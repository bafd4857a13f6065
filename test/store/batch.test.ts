/**
 * Group commit: writes that arrive together share one transaction, but each one
 * succeeds or fails on its own, and a failed one leaves nothing behind.
 */
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../src/store/db.js';

let database: TestDatabase;
let odb: OpenedDatabase;

beforeAll(async () => {
  database = await freshDatabase('rollcall-batch-');
  odb = await openDatabase(database.url);
});
afterAll(async () => {
  await odb.close();
  await database.drop();
});

const org = (id: string) => ({ id, name: id, plan: 'enterprise', created_at: '2026-01-01T00:00:00.000Z' });

describe('WriteBatcher', () => {
  it('commits the writes of a batch together and rolls back only the one that failed', async () => {
    const results = await Promise.allSettled([
      odb.writes.run((trx) => trx.insertInto('organizations').values(org('a')).execute()),
      odb.writes.run(async (trx) => {
        await trx.insertInto('organizations').values(org('b')).execute(); // undone below
        throw new Error('refused');
      }),
      odb.writes.run((trx) => trx.insertInto('organizations').values(org('c')).execute()),
      odb.writes.run((trx) => trx.insertInto('organizations').values(org('a')).execute()), // duplicate key
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('refused');
    const ids = (await odb.db.selectFrom('organizations').select('id').orderBy('id').execute()).map((r) => r.id);
    expect(ids).toEqual(['a', 'c']);
  });

  it('answers a write only after it is committed and visible to readers', async () => {
    await odb.writes.run((trx) => trx.insertInto('organizations').values(org('d')).execute());
    const seen = await odb.readDb.selectFrom('organizations').select('id').where('id', '=', 'd').execute();
    expect(seen).toHaveLength(1);
  });

  it('keeps going after a batch: later writes are not lost', async () => {
    const many = Array.from({ length: 250 }, (_, i) => odb.writes.run((trx) => trx.insertInto('organizations').values(org(`m${i}`)).execute()));
    await Promise.all(many);
    const n = await odb.db.selectFrom('organizations').select((eb) => eb.fn.countAll().as('n')).where('id', 'like', 'm%').executeTakeFirst();
    expect(Number(n?.n)).toBe(250);
  });

  it('runs a batch again when PostgreSQL reports a deadlock or serialization failure', async () => {
    let attempts = 0;
    const emitted: unknown[] = [];
    odb.writes.setBeforeCommit(async (_trx, evs) => void emitted.push(...evs));
    try {
      const results = await Promise.allSettled([
        odb.writes.run(async (trx, emit) => {
          attempts++;
          await trx.insertInto('organizations').values(org(`retry-${attempts}`)).execute();
          emit({ attempt: attempts } as never);
          if (attempts < 3) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
          return attempts;
        }),
        odb.writes.run(async (trx, emit) => {
          await trx.insertInto('organizations').values(org('retry-neighbour')).execute();
          emit({ neighbour: true } as never);
        }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect((results[0] as PromiseFulfilledResult<number>).value).toBe(3);
      // Only the attempt that committed left rows and events behind; the neighbour's write is in once.
      const ids = (await odb.db.selectFrom('organizations').select('id').where('id', 'like', 'retry-%').orderBy('id').execute()).map((r) => r.id);
      expect(ids).toEqual(['retry-3', 'retry-neighbour']);
      expect(emitted).toEqual([{ attempt: 3 }, { neighbour: true }]);
    } finally {
      odb.writes.setBeforeCommit(async () => {});
    }
  });

  it('drops what a failed write emitted and keeps what the others emitted', async () => {
    const emitted: unknown[] = [];
    odb.writes.setBeforeCommit(async (_trx, evs) => void emitted.push(...evs));
    try {
      await Promise.allSettled([
        odb.writes.run(async (_trx, emit) => emit({ n: 1 } as never)),
        odb.writes.run(async (_trx, emit) => {
          emit({ n: 2 } as never);
          throw new Error('refused');
        }),
        odb.writes.run(async (_trx, emit) => emit({ n: 3 } as never)),
      ]);
      expect(emitted).toEqual([{ n: 1 }, { n: 3 }]);
    } finally {
      odb.writes.setBeforeCommit(async () => {});
    }
  });
});
