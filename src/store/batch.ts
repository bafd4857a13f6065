/**
 * Group commit for SCIM writes. An IdP provisions with several requests in
 * parallel; each write as its own transaction pays a full commit (SQLite writes
 * every touched page of the WAL with one syscall per page, about 150 µs here). The
 * batcher runs the writes that arrive together in one transaction, each inside its
 * own savepoint: a write that fails is rolled back alone and rejects alone, the
 * others commit together, and no caller is answered before its write is committed.
 *
 * Writes may emit records (the event outbox): they are kept per write, dropped
 * with a write that fails, and handed to `beforeCommit` in the same transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { DB } from './types.js';

export type Emit<E> = (record: E) => void;
export type WriteFn<T, E = unknown> = (trx: Kysely<DB>, emit: Emit<E>) => Promise<T>;

export interface BatcherOptions<E> {
  /** Called after each committed batch, outside any transaction (WAL upkeep). */
  afterCommit?: () => void;
  /**
   * Called inside the transaction with everything the batch's successful writes
   * emitted; what it returns is handed to `committed` once the transaction commits.
   */
  beforeCommit?: (trx: Kysely<DB>, emitted: E[]) => Promise<unknown>;
  /** Called after the commit with what `beforeCommit` returned (e.g. the stored events, to publish). */
  committed?: (stored: unknown) => void;
  maxBatch?: number;
  /**
   * Batches in flight at once. SQLite has one writer, so 1; PostgreSQL gains from
   * a few, as transactions wait on the network rather than on each other.
   */
  concurrency?: number;
}

interface Pending {
  fn: WriteFn<unknown, unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** PostgreSQL's deadlock_detected and serialization_failure: the batch is safe to run again. */
function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === '40P01' || code === '40001';
}

const MAX_ATTEMPTS = 5;

export class WriteBatcher<E = unknown> {
  private readonly queue: Pending[] = [];
  private running = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly opts: BatcherOptions<E> = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 100;
    this.concurrency = opts.concurrency ?? 1;
  }

  /**
   * Runs `fn` in a write transaction, possibly shared with other writes. `fn` must
   * only use the transaction it is given (never call `run` again from inside it),
   * and may run more than once (a batch that deadlocked on PostgreSQL is retried).
   */
  run<T>(fn: WriteFn<T, E>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn: fn as WriteFn<unknown, unknown>, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.concurrency || !this.queue.length) return;
    this.scheduled = true;
    // Let the requests that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.concurrency && this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.running++;
        void this.runBatch(batch).finally(() => {
          this.running--;
          this.schedule();
        });
      }
    });
  }

  /**
   * Installs the outbox: `store` keeps what writes emitted, in the batch's
   * transaction; `committed` (optional) gets its result after the commit, before
   * any caller of the batch is answered.
   */
  setBeforeCommit<R>(store: (trx: Kysely<DB>, emitted: E[]) => Promise<R>, committed?: (stored: R) => void): void {
    this.opts.beforeCommit = store;
    this.opts.committed = committed as ((stored: unknown) => void) | undefined;
  }

  /** Whether an outbox is installed: without one, writes need not build what they would emit. */
  get emitting(): boolean {
    return !!this.opts.beforeCommit;
  }

  private upkeep(): void {
    try {
      this.opts.afterCommit?.();
    } catch {
      // upkeep must never fail a write
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { outcomes, stored } = await this.transaction(batch);
        if (stored !== undefined) {
          try {
            this.opts.committed?.(stored);
          } catch {
            // publishing never fails a committed write
          }
        }
        batch.forEach((item, i) => {
          const o = outcomes[i];
          if (o.ok) item.resolve(o.value);
          else item.reject(o.error);
        });
        this.upkeep();
        return;
      } catch (error) {
        if (isRetryable(error) && batch.length > 1) {
          // Writes of one batch hold each other's locks until the commit: a deadlock
          // with another instance's batch is likelier the larger both are. Each
          // write again on its own, one after the other, with its own retries.
          for (const item of batch) await this.runBatch([item]);
          return;
        }
        if (isRetryable(error) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        // The transaction failed as a whole: nothing of the batch is stored.
        for (const item of batch) item.reject(error);
        return;
      }
    }
  }

  private async transaction(batch: Pending[]): Promise<{ outcomes: Outcome[]; stored: unknown }> {
    return this.db.transaction().execute(async (trx) => {
      const outcomes: Outcome[] = [];
      const emitted: E[] = [];
      const single = batch.length === 1;
      for (const item of batch) {
        const mine: E[] = [];
        const emit = (e: unknown) => void mine.push(e as E);
        if (single) {
          // Alone in its transaction: a failure rolls the whole transaction back.
          outcomes.push({ ok: true, value: await item.fn(trx, emit) });
          emitted.push(...mine);
          continue;
        }
        await sql`savepoint batch_item`.execute(trx);
        try {
          const value = await item.fn(trx, emit);
          await sql`release batch_item`.execute(trx);
          outcomes.push({ ok: true, value });
          emitted.push(...mine);
        } catch (error) {
          // A deadlock aborts the whole transaction, not just this write.
          if (isRetryable(error)) throw error;
          await sql`rollback to batch_item`.execute(trx);
          await sql`release batch_item`.execute(trx);
          outcomes.push({ ok: false, error });
        }
      }
      const stored = emitted.length && this.opts.beforeCommit ? await this.opts.beforeCommit(trx, emitted) : undefined;
      return { outcomes, stored };
    });
  }
}
