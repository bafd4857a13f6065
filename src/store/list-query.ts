/** One page of a SCIM list as the store runs it: filter, sort and window, already parsed. */
import type { Compilable, Kysely } from 'kysely';
import type { Filter, AttrPath } from '../scim/filter/ast.js';

export interface ListQuery {
  filter?: Filter;
  sortBy?: AttrPath;
  descending?: boolean;
  offset: number;
  limit: number;
}

/**
 * Runs a read that may scan (see OpenedDatabase.scan): bound to one connection,
 * so one connection's scans queue behind each other and not behind everyone's.
 */
export type Scan = <R>(query: Compilable<R>) => Promise<R[]>;

/** A Scan on the calling thread: for a database without a scan pool and for tests. */
export function scanOn(db: Kysely<any>): Scan {
  return async <R>(query: Compilable<R>) => (await db.executeQuery(query.compile())).rows as R[];
}
