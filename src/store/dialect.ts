/**
 * The SQL that differs between dialects, in one place. Everything else is
 * dialect-neutral Kysely.
 */
import { type RawBuilder, sql } from 'kysely';

type Expr = RawBuilder<unknown>;

export interface SqlDialect {
  name: 'sqlite' | 'postgres';
  /**
   * Whether writes must lock rows they read before deciding (SELECT … FOR UPDATE).
   * SQLite has a single writer, so a write transaction already sees no one else's;
   * PostgreSQL transactions run side by side, from one instance or several.
   */
  lockRows: boolean;
  /** Text (or number/boolean) at a JSON path in a JSON text column; keys are canonical names. */
  jsonValue(doc: Expr, keys: string[]): Expr;
  /** JSON array at `keys` as a FROM item named `alias`, one row per element, element in `alias.value`. */
  jsonElements(doc: Expr, keys: string[], alias: string): Expr;
  /** Scalar inside one element produced by jsonElements. */
  elementValue(alias: string, key: string | null): Expr;
  /** Unicode-aware lower-casing (matches JavaScript's toLowerCase used for *_lc columns). */
  lower(e: Expr): Expr;
  contains(e: Expr, v: unknown): Expr;
  startsWith(e: Expr, v: unknown): Expr;
  endsWith(e: Expr, v: unknown): Expr;
  /** A JSON boolean read through jsonValue/elementValue compared with true/false. */
  jsonBoolean(e: Expr, v: boolean): Expr;
  /** JSON text `[{"value": group id, "display": name}, …]` of a user's groups (one query with the user). */
  userGroupsJson(userId: Expr): Expr;
  /** The smaller of two numbers. */
  least(a: Expr, b: Expr): Expr;
  /** The larger of two numbers. */
  greatest(a: Expr, b: Expr): Expr;
  /**
   * The locking clause of a work-queue SELECT over `alias`: rows another transaction
   * holds are skipped (PostgreSQL); empty on SQLite, whose single writer needs none.
   */
  skipLocked(alias: string): Expr;
  /** The n-th (1-based) parameter in hand-written SQL text: `?` or `$n`. */
  placeholder(n: number): string;
  /** The column type of 64-bit positions (SQLite's INTEGER PRIMARY KEY is the rowid itself). */
  bigIntType: 'integer' | 'bigint';
  /**
   * Whether a column declared text also keeps bytes (SQLite's columns are
   * dynamically typed; PostgreSQL's are not): compressed event data goes there.
   */
  storesBytesInTextColumns: boolean;
  /**
   * The database's clock `offsetSeconds` from now, as ISO-8601 UTC text with
   * milliseconds (the shape of Date.toISOString, so it compares as text with
   * stored times): leases shared by instances compare on one clock, not on each
   * instance's own.
   */
  nowIso(offsetSeconds?: number): RawBuilder<string>;
}

/** SQLite JSON path: `$."urn:…:User"."department"` — quoting every label keeps colons and dots safe. */
function sqlitePath(keys: string[]): string {
  return '$' + keys.map((k) => '."' + k.replace(/"/g, '') + '"').join('');
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  lockRows: false,
  jsonValue: (doc, keys) => sql`json_extract(${doc}, ${sqlitePath(keys)})`,
  jsonElements: (doc, keys, alias) => sql`json_each(${doc}, ${sqlitePath(keys)}) as ${sql.ref(alias)}`,
  elementValue: (alias, key) =>
    key === null ? sql`${sql.ref(alias)}.value` : sql`json_extract(${sql.ref(alias)}.value, ${sqlitePath([key])})`,
  lower: (e) => sql`scim_lower(${e})`,
  contains: (e, v) => sql`instr(${e}, ${v}) > 0`,
  startsWith: (e, v) => sql`substr(${e}, 1, length(${v})) = ${v}`,
  endsWith: (e, v) => sql`(length(${v}) = 0 or substr(${e}, -length(${v})) = ${v})`,
  jsonBoolean: (e, v) => sql`${e} = ${v ? 1 : 0}`,
  userGroupsJson: (userId) =>
    // CROSS JOIN fixes the join order in SQLite: from the user's memberships (indexed
    // by member) to each group by primary key, never a scan of all groups.
    sql`(select json_group_array(json_object('value', g.id, 'display', g.display_name)) from memberships m cross join groups g where g.id = m.group_id and m.member_id = ${userId})`,
  least: (a, b) => sql`min(${a}, ${b})`,
  greatest: (a, b) => sql`max(${a}, ${b})`,
  skipLocked: () => sql``,
  placeholder: () => '?',
  bigIntType: 'integer',
  storesBytesInTextColumns: true,
  nowIso: (offsetSeconds = 0) => sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds} seconds`})`,
};

/**
 * PostgreSQL: documents are JSON text cast to jsonb where read (one schema for
 * both dialects); `#>>` yields text, so JSON booleans compare as 'true'/'false'.
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  lockRows: true,
  jsonValue: (doc, keys) => sql`(${doc}::jsonb #>> ${keys}::text[])`,
  jsonElements: (doc, keys, alias) => sql`jsonb_array_elements(${doc}::jsonb #> ${keys}::text[]) as ${sql.ref(alias)}(value)`,
  elementValue: (alias, key) =>
    key === null ? sql`(${sql.ref(alias)}.value #>> '{}')` : sql`(${sql.ref(alias)}.value ->> ${key}::text)`,
  lower: (e) => sql`lower(${e})`,
  contains: (e, v) => sql`strpos(${e}, ${v}::text) > 0`,
  startsWith: (e, v) => sql`left(${e}, length(${v}::text)) = ${v}::text`,
  endsWith: (e, v) => sql`right(${e}, length(${v}::text)) = ${v}::text`,
  jsonBoolean: (e, v) => sql`${e} = ${v ? 'true' : 'false'}`,
  userGroupsJson: (userId) =>
    sql`(select coalesce(json_agg(json_build_object('value', g.id, 'display', g.display_name))::text, '[]') from memberships m join groups g on g.id = m.group_id where m.member_id = ${userId})`,
  least: (a, b) => sql`least(${a}, ${b})`,
  greatest: (a, b) => sql`greatest(${a}, ${b})`,
  skipLocked: (alias) => sql`for update of ${sql.ref(alias)} skip locked`,
  placeholder: (n) => `$${n}`,
  bigIntType: 'bigint',
  storesBytesInTextColumns: false,
  // clock_timestamp(), not now(): a long transaction must not see an old time.
  nowIso: (offsetSeconds = 0) =>
    sql<string>`to_char((clock_timestamp() + make_interval(secs => ${offsetSeconds}::double precision)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
};
