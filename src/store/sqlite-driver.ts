/**
 * A Kysely driver for better-sqlite3 that queues waiting queries first-in,
 * first-out. Kysely's own SQLite driver wakes every waiter whenever the single
 * connection is released, and all but one go back to sleep; with twenty
 * concurrent requests that is twenty wake-ups per query, which dominated request
 * cost under load. Queries still run one at a time, and a transaction still holds
 * the connection from BEGIN to COMMIT.
 */
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

/** What the driver needs from a database handle: better-sqlite3, possibly wrapped. */
export interface StatementSource {
  prepare(sql: string): {
    reader: boolean;
    all(params: readonly unknown[]): unknown[];
    run(params: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint };
  };
  close(): void;
}

class FifoMutex {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  unlock(): void {
    const next = this.waiting.shift();
    if (next) next(); // ownership passes straight to the next waiter
    else this.held = false;
  }
}

class Connection implements DatabaseConnection {
  constructor(private readonly db: StatementSource) {}

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.db.prepare(compiled.sql);
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(compiled.parameters) as R[] });
    const { changes, lastInsertRowid } = stmt.run(compiled.parameters);
    return Promise.resolve({
      rows: [],
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
    });
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not used by Rollcall');
  }
}

class QueueingSqliteDriver implements Driver {
  private readonly mutex = new FifoMutex();
  private readonly connection: Connection;

  constructor(private readonly db: StatementSource) {
    this.connection = new Connection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock();
    return this.connection;
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.db.close();
  }
}

export class QueueingSqliteDialect implements Dialect {
  constructor(private readonly db: StatementSource) {}

  createDriver(): Driver {
    return new QueueingSqliteDriver(this.db);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
