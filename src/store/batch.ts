/**
 * Group commit for SCIM writes. An IdP provisions with several requests in
 * parallel; each write as its own transaction pays a full commit (SQLite writes
 * every touched page of the WAL with one syscall per page, about 150 µs here). The
 * batcher runs the writes that arrive together in one transaction, each inside its
 * own savepoint: a write that fails is rolled back alone and rejects alone, the
 * others commit together, and no caller is answered before its write is committed.
 */
import { type Kysely, sql } from 'kysely';
import type { DB } from './types.js';

export type WriteFn<T> = (trx: Kysely<DB>) => Promise<T>;

interface Pending {
  fn: WriteFn<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class WriteBatcher {
  private readonly queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly db: Kysely<DB>,
    /** Called after each committed batch, outside any transaction (WAL upkeep). */
    private readonly afterCommit: () => void = () => {},
    private readonly maxBatch = 100,
  ) {}

  /**
   * Runs `fn` in a write transaction, possibly shared with other writes. `fn` must
   * only use the transaction it is given (never call `run` again from inside it).
   */
  run<T>(fn: WriteFn<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        // Let the requests that arrived in this turn of the event loop join the batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private upkeep(): void {
    try {
      this.afterCommit();
    } catch {
      // upkeep must never fail a write
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        if (batch.length === 1) {
          const [one] = batch;
          await this.db.transaction().execute(one.fn).then(one.resolve, one.reject);
          this.upkeep();
          continue;
        }
        const outcomes: Outcome[] = [];
        try {
          await this.db.transaction().execute(async (trx) => {
            for (const item of batch) {
              await sql`savepoint batch_item`.execute(trx);
              try {
                const value = await item.fn(trx);
                await sql`release batch_item`.execute(trx);
                outcomes.push({ ok: true, value });
              } catch (error) {
                await sql`rollback to batch_item`.execute(trx);
                await sql`release batch_item`.execute(trx);
                outcomes.push({ ok: false, error });
              }
            }
          });
        } catch (error) {
          // The commit itself failed: nothing of the batch is stored.
          for (const item of batch) item.reject(error);
          continue;
        }
        batch.forEach((item, i) => {
          const o = outcomes[i];
          if (o.ok) item.resolve(o.value);
          else item.reject(o.error);
        });
        this.upkeep();
      }
    } finally {
      this.draining = false;
      if (this.queue.length) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    }
  }
}
