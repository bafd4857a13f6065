/**
 * How a filter's attribute paths reach the data: which indexed column serves an
 * attribute (id, userName, externalId, displayName, emails.value, members), and
 * where the rest is read from the JSON document through the dialect. The filter
 * compiler (filter-sql.ts) and the sort key (sort-sql.ts) resolve paths here.
 */
import { type RawBuilder, sql } from 'kysely';
import type { AttrPath } from '../scim/filter/ast.js';
import { fail } from '../scim/errors.js';
import { type AttrType, type AttributeDef, type ResourceTypeDef, findAttr, resolveAttr } from '../scim/schemas.js';
import type { SqlDialect } from './dialect.js';
import { tenantOf } from './tenant.js';

export type Expr = RawBuilder<unknown>;

export interface Scalar {
  kind: 'scalar';
  expr: Expr;
  type: AttrType;
  caseExact: boolean;
  /** The column already holds a lower-cased copy (user_name_lc …). */
  folded?: boolean;
  /** A complex single-valued attribute named without a sub-attribute (only `pr` makes sense). */
  complex?: boolean;
  /** Read from the JSON document (booleans compare the dialect's JSON way). */
  json?: boolean;
  name: string;
}

export interface Scope {
  resolve(path: AttrPath): Scalar | Multi;
}

export interface Multi {
  kind: 'multi';
  name: string;
  /** EXISTS over the elements, with `build` giving the condition on one element. */
  exists(build: (elem: Scope) => Expr): Expr;
  /** The sub-attribute compared when the path names none (RFC 7644: `value`). */
  sub: string;
  /** Whether the path named the sub-attribute (`emails.type pr`) or only the attribute (`emails pr`). */
  hasSub: boolean;
}

let aliasCounter = 0;
export function alias(prefix: string): string {
  aliasCounter = (aliasCounter + 1) % 1_000_000;
  return `${prefix}${aliasCounter}`;
}

export function unknownAttr(path: AttrPath): never {
  const name = (path.uri ? path.uri + ':' : '') + path.attr + (path.sub ? '.' + path.sub : '');
  throw fail('ROLLCALL_FILTER_UNKNOWN_ATTRIBUTE', `Unknown or unfilterable attribute '${name}'.`);
}

export function pathName(path: AttrPath): string {
  return path.attr + (path.sub ? '.' + path.sub : '');
}

/** Resolves a path against core, then extension schemas (clients omit the URN for extension attributes). */
function resolveLoose(rt: ResourceTypeDef, path: AttrPath) {
  const r = resolveAttr(rt, path);
  if (r || path.uri) return r;
  for (const ext of rt.extensions) {
    const e = resolveAttr(rt, { ...path, uri: ext.schema.id });
    if (e) return e;
  }
  return undefined;
}

export function scalarOf(expr: Expr, def: AttributeDef, name: string, folded = false): Scalar {
  return { kind: 'scalar', expr, type: def.type, caseExact: def.caseExact, folded, name, complex: def.type === 'complex' };
}

/**
 * A multi-valued attribute: `column` says which SQL expression serves each of its
 * sub-attributes for the element aliased `a`; `wrap` turns a condition on one
 * element into a condition on the resource.
 */
function multi(
  def: AttributeDef,
  sub: string | undefined,
  prefix: string,
  column: (a: string, s: AttributeDef) => Scalar,
  wrap: (a: string, cond: Expr) => Expr,
): Multi {
  return {
    kind: 'multi',
    name: def.name,
    sub: sub ?? 'value',
    hasSub: sub !== undefined,
    exists(build) {
      const a = alias(prefix);
      const scope: Scope = {
        resolve(p) {
          const s = findAttr(def.subAttributes, p.attr);
          if (!s || p.sub || p.uri) unknownAttr(p);
          return column(a, s);
        },
      };
      return wrap(a, build(scope));
    },
  };
}

/** A multi-valued attribute stored in the JSON document. */
function jsonMulti(d: SqlDialect, doc: Expr, keys: string[], def: AttributeDef, sub?: string): Multi {
  return multi(
    def,
    sub,
    'j',
    (a, s) => ({ ...scalarOf(d.elementValue(a, s.name), s, `${def.name}.${s.name}`), json: true }),
    (a, cond) => sql`exists (select 1 from ${d.jsonElements(doc, keys, a)} where ${cond})`,
  );
}

export interface FilterTarget {
  rt: ResourceTypeDef;
  dialect: SqlDialect;
  /** The connection the outer query is restricted to (index prefix of child tables). */
  connectionId: string;
}

type Resolved = NonNullable<ReturnType<typeof resolveLoose>>;

/**
 * The scope of one table: common attributes (id, externalId, meta) from columns,
 * `columns` for the table's own indexed attributes, everything else from the JSON
 * document.
 */
function tableScope(t: FilterTarget, table: 'users' | 'groups', columns: (r: Resolved, name: string) => Scalar | Multi | undefined): Scope {
  const d = t.dialect;
  const doc = sql.ref(`${table}.doc`);
  return {
    resolve(path) {
      const r = resolveLoose(t.rt, path);
      if (!r) unknownAttr(path);
      const name = pathName(path);
      if (r.common) {
        if (r.def.name === 'id') return scalarOf(sql.ref(`${table}.id`), r.def, name);
        if (r.def.name === 'externalId') return scalarOf(sql.ref(`${table}.external_id`), r.def, name);
        return metaScalar(table, r.subDef, path);
      }
      const own = r.inExtension ? undefined : columns(r, name);
      if (own) return own;
      const keys = r.inExtension ? [r.schema, r.def.name] : [r.def.name];
      if (r.def.multiValued) return jsonMulti(d, doc, keys, r.def, r.subDef?.name);
      if (r.subDef) return { ...scalarOf(d.jsonValue(doc, [...keys, r.subDef.name]), r.subDef, name), json: true };
      return { ...scalarOf(d.jsonValue(doc, keys), r.def, name), json: true };
    },
  };
}

/** Users: which column serves each indexed attribute. */
export function userScope(t: FilterTarget): Scope {
  return tableScope(t, 'users', (r, name) => {
    switch (r.def.name) {
      case 'userName':
        return scalarOf(sql.ref('users.user_name_lc'), r.def, name, true);
      case 'displayName':
        return scalarOf(sql.ref('users.display_name_lc'), r.def, name, true);
      case 'active':
        return scalarOf(sql.ref('users.active'), r.def, name);
      case 'emails':
        if (!r.subDef || ['value', 'type', 'primary'].includes(r.subDef.name)) return emailsMulti(t, r.def, r.subDef?.name);
        return undefined;
      case 'groups':
        return membershipMulti(t, 'user', r.def, r.subDef?.name);
      default:
        return undefined;
    }
  });
}

export function groupScope(t: FilterTarget): Scope {
  return tableScope(t, 'groups', (r, name) => {
    if (r.def.name === 'displayName') return scalarOf(sql.ref('groups.display_name_lc'), r.def, name, true);
    if (r.def.name === 'members') return membershipMulti(t, 'group', r.def, r.subDef?.name);
    return undefined;
  });
}

/**
 * emails live in their own indexed table (value folded to lower case). Written as
 * `users.id in (select … where tenant = (its key) and …)` so the planner can start
 * from the e-mail index instead of visiting every user of the connection.
 */
function emailsMulti(t: FilterTarget, def: AttributeDef, sub: string | undefined): Multi {
  return multi(
    def,
    sub,
    'e',
    (a, s) => {
      if (s.name === 'value') return scalarOf(sql.ref(`${a}.value_lc`), s, 'emails.value', true);
      if (s.name === 'type') return scalarOf(sql.ref(`${a}.type`), s, 'emails.type', true);
      if (s.name === 'primary') return scalarOf(sql.ref(`${a}.primary`), s, 'emails.primary');
      throw fail('ROLLCALL_UNFILTERABLE_ATTRIBUTE', `Filtering on 'emails.${s.name}' is not supported.`);
    },
    (a, cond) =>
      sql`${sql.ref('users.id')} in (select ${sql.ref(`${a}.user_id`)} from user_emails as ${sql.ref(a)} where ${sql.ref(`${a}.tenant`)} = ${tenantOf(t.connectionId)} and ${cond})`,
  );
}

/** Group members (from a group) or groups (from a user), both served by the memberships table and its two indexes. */
function membershipMulti(t: FilterTarget, from: 'user' | 'group', def: AttributeDef, sub: string | undefined): Multi {
  const self = from === 'group' ? 'group_id' : 'member_id';
  const other = from === 'group' ? 'member_id' : 'group_id';
  const table = from === 'group' ? 'groups' : 'users';
  return multi(
    def,
    sub,
    'm',
    (a, s) => {
      switch (s.name) {
        case 'value':
          return scalarOf(sql.ref(`${a}.${other}`), s, `${def.name}.value`);
        case 'display':
          // The same name the resource shows: a member's displayName, else its userName.
          return from === 'group'
            ? scalarOf(sql`(select coalesce(u.display_name, u.user_name) from users u where u.id = ${sql.ref(`${a}.member_id`)})`, s, 'members.display')
            : scalarOf(sql`(select g.display_name from groups g where g.id = ${sql.ref(`${a}.group_id`)})`, s, 'groups.display');
        case 'type':
          return scalarOf(sql.lit(from === 'group' ? 'User' : 'direct'), s, `${def.name}.type`);
        default:
          throw fail('ROLLCALL_UNFILTERABLE_ATTRIBUTE', `Filtering on '${def.name}.${s.name}' is not supported.`);
      }
    },
    (a, cond) =>
      sql`${sql.ref(`${table}.id`)} in (select ${sql.ref(`${a}.${self}`)} from memberships as ${sql.ref(a)} where ${sql.ref(`${a}.tenant`)} = ${tenantOf(t.connectionId)} and ${cond})`,
  );
}

function metaScalar(table: 'users' | 'groups', sub: AttributeDef | undefined, path: AttrPath): Scalar {
  if (!sub) throw fail('ROLLCALL_FILTER_NEEDS_SUB_ATTRIBUTE', `Filter on a sub-attribute of 'meta' such as meta.lastModified.`);
  switch (sub.name) {
    case 'created':
      return scalarOf(sql.ref(`${table}.created_at`), sub, 'meta.created');
    case 'lastModified':
      return scalarOf(sql.ref(`${table}.updated_at`), sub, 'meta.lastModified');
    case 'resourceType':
      return scalarOf(sql.lit(table === 'users' ? 'User' : 'Group'), sub, 'meta.resourceType');
    case 'version':
      return scalarOf(sql`('W/"' || ${sql.ref(`${table}.version`)} || '"')`, sub, 'meta.version');
    default:
      unknownAttr(path);
  }
}
