/**
 * Prepared Kysely queries for the hottest paths (authentication, GET by id).
 * Building and compiling a Kysely query costs more than running a primary-key
 * lookup in SQLite; these are built once per database with placeholder values
 * and then executed with fresh parameters. Still Kysely, still bound parameters.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

const MARK = '\u0000rollcall-param-';

export function prepared<A extends unknown[], R>(build: (db: Kysely<any>, ...args: A) => Compilable<R>, arity: A['length']) {
  const cache = new WeakMap<object, { compiled: CompiledQuery<R>; slots: number[] }>();
  return function run(db: Kysely<any>, ...args: A): Promise<QueryResult<R>> {
    // Keyed by the dialect's adapter, which a transaction shares with its database:
    // the SQL text depends on the dialect only.
    const key = db.getExecutor().adapter;
    let entry = cache.get(key);
    if (!entry) {
      const marks = Array.from({ length: arity }, (_, i) => MARK + i) as unknown as A;
      const compiled = build(db, ...marks).compile();
      const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1));
      entry = { compiled, slots };
      cache.set(key, entry);
    }
    const { compiled, slots } = entry;
    const parameters = slots.map((s, i) => (s >= 0 ? args[s] : compiled.parameters[i]));
    return db.executeQuery({ ...compiled, parameters });
  };
}
