/**
 * Scans off the event loop (SQLite). better-sqlite3 runs a query synchronously
 * on the calling thread, so a filter that has to read every user of a large
 * connection (`title co "x" or …`) would stop the server — every connection's
 * requests and /healthz — for as long as it runs. Queries that may scan run here
 * instead, on worker threads, each with its own read-only connection to the same
 * file (WAL: readers never wait for the writer and see every committed write).
 *
 * Fairness: one connection runs at most one scan at a time, so with two workers
 * a connection that sends expensive filters back to back leaves a worker for
 * everyone else. A scan that outlives the time budget is answered with a
 * refusal; its worker is replaced (the old one ends when SQLite returns).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery } from 'kysely';
import { fail } from '../scim/errors.js';
import { sqliteMemory } from './sqlite-connections.js';

// The worker's whole program, plain JS so it runs from dist/ and from the sources alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 10000');
db.pragma('cache_size = -8192');
db.pragma('mmap_size = ' + workerData.mmapBytes);
// The same folding as the main connections (sqlite-connections.ts).
db.function('scim_lower', { deterministic: true }, (v) => (typeof v === 'string' ? v.toLowerCase() : v));
const statements = new Map();
parentPort.postMessage({ ready: true });
parentPort.on('message', ({ id, sql, parameters }) => {
  try {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      if (!st.reader) throw new Error('the scan pool runs only queries that return rows');
      if (statements.size >= 200) statements.delete(statements.keys().next().value);
      statements.set(sql, st);
    }
    parentPort.postMessage({ id, rows: st.all(parameters) });
  } catch (e) {
    parentPort.postMessage({ id, error: { message: String(e && e.message), code: e && e.code } });
  }
});`;

interface Task {
  key: string;
  sql: string;
  parameters: readonly unknown[];
  resolve: (rows: unknown[]) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** The worker has opened its connection: the time budget counts from here, not from thread start-up. */
  ready: boolean;
  task?: Task & { id: number; timer?: NodeJS.Timeout };
}

export interface ScanPoolOptions {
  /** Worker threads (default 2). */
  workers?: number;
  /** A scan running longer is refused (ms; default 30,000, DATABASE_STATEMENT_TIMEOUT_MS; 0: no limit). */
  timeoutMs?: number;
}

export class SqliteScanPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private readonly running = new Set<string>();
  private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3');
  private next = 0;
  private closed = false;
  private readonly size: number;
  private failedStarts = 0;
  readonly timeoutMs: number;
  /**
   * False once workers failed to start three times (no threads, the driver cannot
   * load there): the caller then runs its scans on its own reader connection.
   */
  usable = true;

  constructor(
    private readonly file: string,
    opts: ScanPoolOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.size = Math.max(1, opts.workers ?? 2);
  }

  private spawn(): Slot {
    // A scan's rows are handed over and dropped: a small heap (and page cache:
    // the file is memory-mapped) keeps each worker's memory bounded.
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver: this.driver, file: this.file, mmapBytes: sqliteMemory().mmapMiB * 1024 * 1024 }, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } });
    worker.unref();
    const slot: Slot = { worker, ready: false };
    worker.on('message', (m: { ready?: true; id: number; rows?: unknown[]; error?: { message: string; code?: string } }) => {
      if (m.ready) {
        slot.ready = true;
        this.pump();
        return;
      }
      const t = slot.task;
      if (!t || t.id !== m.id) return;
      this.finish(slot);
      if (m.error) t.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else t.resolve(m.rows ?? []);
    });
    const broken = (err: unknown) => {
      const t = slot.task;
      if (t) {
        this.finish(slot);
        t.reject(err);
      }
      if (!slot.ready && ++this.failedStarts >= 3) {
        this.usable = false;
        this.slots.splice(this.slots.indexOf(slot), 1);
        for (const q of this.queue.splice(0)) q.reject(err);
        return;
      }
      this.replace(slot);
    };
    worker.on('error', broken);
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) broken(new Error(`the scan worker exited with code ${code}`));
    });
    return slot;
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    this.slots[i] = this.spawn();
    this.pump();
  }

  private finish(slot: Slot): void {
    const t = slot.task;
    if (!t) return;
    if (t.timer) clearTimeout(t.timer);
    this.running.delete(t.key);
    slot.task = undefined;
    this.pump();
  }

  /** Starts queued scans on idle workers: the oldest whose connection has none running. */
  private pump(): void {
    // Workers start when first needed: a server (or test) that never scans starts none.
    if (this.queue.length && this.slots.length < this.size && this.slots.every((s) => s.task || !s.ready)) this.slots.push(this.spawn());
    for (const slot of this.slots) {
      if (slot.task || !slot.ready) continue;
      const i = this.queue.findIndex((t) => !this.running.has(t.key));
      if (i < 0) return;
      const [task] = this.queue.splice(i, 1);
      const id = this.next++;
      const running: Slot['task'] = { ...task, id };
      this.running.add(task.key);
      slot.task = running;
      if (this.timeoutMs > 0) {
        running.timer = setTimeout(() => {
          if (slot.task !== running) return;
          this.running.delete(task.key);
          slot.task = undefined;
          // SQLite cannot be interrupted from here: the worker is let go (it ends
          // when its query returns) and a fresh one takes its place.
          this.slots[this.slots.indexOf(slot)] = this.spawn();
          void slot.worker.terminate();
          task.reject(fail('ROLLCALL_QUERY_TOO_SLOW', `The query ran longer than ${this.timeoutMs} ms (DATABASE_STATEMENT_TIMEOUT_MS) and was stopped; narrow the filter (indexed: id, userName, externalId, emails.value, displayName).`));
          this.pump();
        }, this.timeoutMs);
        running.timer.unref();
      }
      slot.worker.postMessage({ id, sql: task.sql, parameters: task.parameters });
    }
  }

  /** Runs a compiled read query for `key` (the connection); resolves with its rows. */
  rows<R>(query: CompiledQuery, key: string): Promise<R[]> {
    if (this.closed) return Promise.reject(new Error('the scan pool is closed'));
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ key, sql: query.sql, parameters: query.parameters, resolve: resolve as (rows: unknown[]) => void, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('the scan pool is closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
