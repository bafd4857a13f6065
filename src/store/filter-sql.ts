/**
 * Compiles a filter AST (scim/filter/ast.ts) into a SQL boolean expression with
 * bound parameters, for the users or groups table. Indexed columns serve the
 * attributes IdPs look up by (id, userName, externalId, displayName, emails.value,
 * members); everything else reads the JSON document through the dialect.
 * Never loads resources into memory: the database filters.
 */
import { type RawBuilder, sql } from 'kysely';
import type { AttrPath, CompareOp, CompareValue, Filter } from '../scim/filter/ast.js';
import { fail } from '../scim/errors.js';
import {
  type AttrType,
  type AttributeDef,
  type ResourceTypeDef,
  findAttr,
  resolveAttr,
} from '../scim/schemas.js';
import type { SqlDialect } from './dialect.js';
import { parseInstant, toStoredDateTime } from '../scim/datetime.js';

type Expr = RawBuilder<unknown>;

interface Scalar {
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

interface Scope {
  resolve(path: AttrPath): Scalar | Multi;
}

interface Multi {
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
function alias(prefix: string): string {
  aliasCounter = (aliasCounter + 1) % 1_000_000;
  return `${prefix}${aliasCounter}`;
}

function unknownAttr(path: AttrPath): never {
  const name = (path.uri ? path.uri + ':' : '') + path.attr + (path.sub ? '.' + path.sub : '');
  throw fail('ROLLCALL_FILTER_UNKNOWN_ATTRIBUTE', `Unknown or unfilterable attribute '${name}'.`);
}

function pathName(path: AttrPath): string {
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

function scalarOf(expr: Expr, def: AttributeDef, name: string, folded = false): Scalar {
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
function userScope(t: FilterTarget): Scope {
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

function groupScope(t: FilterTarget): Scope {
  return tableScope(t, 'groups', (r, name) => {
    if (r.def.name === 'displayName') return scalarOf(sql.ref('groups.display_name_lc'), r.def, name, true);
    if (r.def.name === 'members') return membershipMulti(t, 'group', r.def, r.subDef?.name);
    return undefined;
  });
}

/**
 * emails live in their own indexed table (value folded to lower case). Written as
 * `users.id in (select … where connection_id = ? and …)` so the planner can start
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
      sql`${sql.ref('users.id')} in (select ${sql.ref(`${a}.user_id`)} from user_emails as ${sql.ref(a)} where ${sql.ref(`${a}.connection_id`)} = ${t.connectionId} and ${cond})`,
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
      sql`${sql.ref(`${table}.id`)} in (select ${sql.ref(`${a}.${self}`)} from memberships as ${sql.ref(a)} where ${sql.ref(`${a}.connection_id`)} = ${t.connectionId} and ${cond})`,
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

/** A comparison value in the attribute's type; `subMillis` marks a dateTime cut to milliseconds. */
interface Typed {
  v: string | number | boolean;
  subMillis?: boolean;
}

/** Normalises a comparison value to the attribute's type; invalidFilter when it cannot be. */
function typedValue(s: Scalar, op: CompareOp, cv: CompareValue): Typed {
  const v = cv.value;
  switch (s.type) {
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') throw fail('ROLLCALL_FILTER_OPERATOR_MISMATCH', `Operator '${op}' cannot compare the boolean '${s.name}'.`);
      if (typeof v === 'boolean') return { v };
      if (typeof v === 'string' && /^(true|false)$/i.test(v)) return { v: v.toLowerCase() === 'true' };
      throw fail('ROLLCALL_FILTER_VALUE_MISMATCH', `'${s.name}' is a boolean; compare it with true or false.`);
    }
    case 'dateTime': {
      const text = typeof v === 'string' ? v : (cv.raw ?? String(v));
      // co/sw/ew look at the stored text (ISO 8601, UTC, milliseconds).
      if (op === 'co' || op === 'sw' || op === 'ew') return { v: text };
      const instant = parseInstant(text);
      if (!instant) throw fail('ROLLCALL_FILTER_VALUE_MISMATCH', `'${s.name}' is a dateTime; ${JSON.stringify(v)} is not one (use e.g. 2024-03-01T09:00:00Z).`);
      const { iso, subMillis } = toStoredDateTime(instant);
      return { v: iso, subMillis };
    }
    case 'integer':
    case 'decimal': {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) throw fail('ROLLCALL_FILTER_VALUE_MISMATCH', `'${s.name}' is a number; ${JSON.stringify(v)} is not one.`);
      return { v: n };
    }
    case 'binary':
    case 'complex':
      throw fail('ROLLCALL_FILTER_NEEDS_SUB_ATTRIBUTE', `'${s.name}' cannot be compared; filter on one of its sub-attributes.`);
    default: {
      if (typeof v === 'boolean' && op !== 'eq' && op !== 'ne') {
        throw fail('ROLLCALL_FILTER_OPERATOR_MISMATCH', `Operator '${op}' cannot compare with a boolean.`);
      }
      const text = typeof v === 'string' ? v : (cv.raw ?? String(v));
      return { v: s.caseExact ? text : text.toLowerCase() };
    }
  }
}

/**
 * Stored dateTimes have millisecond precision. A literal with more digits lies
 * strictly between two stored values, so the comparison shifts to the
 * millisecond it was cut to: `ge 10.8617979` is `gt 10.861`, `lt` is `le`,
 * `eq` matches nothing and `ne` everything present.
 */
function subMillisOp(op: CompareOp): CompareOp | 'never' | 'present' {
  switch (op) {
    case 'ge':
      return 'gt';
    case 'lt':
      return 'le';
    case 'eq':
      return 'never';
    case 'ne':
      return 'present';
    default:
      return op;
  }
}

function compileScalarCompare(d: SqlDialect, s: Scalar, opIn: CompareOp, cv: CompareValue): Expr {
  if (s.complex) throw fail('ROLLCALL_FILTER_NEEDS_SUB_ATTRIBUTE', `'${s.name}' is complex; filter on one of its sub-attributes.`);
  const { v, subMillis } = typedValue(s, opIn, cv);
  let e = s.expr;
  let op: CompareOp = opIn;
  if (subMillis) {
    const mapped = subMillisOp(opIn);
    if (mapped === 'never') return sql`1 = 0`;
    if (mapped === 'present') return present(s);
    op = mapped;
  }
  if (typeof v === 'string' && !s.caseExact && !s.folded && s.type !== 'dateTime') e = d.lower(e);
  // An absent boolean is neither true nor false (it satisfies only `ne`).
  if (typeof v === 'boolean') {
    const equal = s.json ? d.jsonBoolean(e, v) : sql`${e} = ${v ? 1 : 0}`;
    return op === 'eq' ? equal : sql`(${e} is null or not (${equal}))`;
  }
  switch (op) {
    case 'eq':
      return sql`${e} = ${v}`;
    case 'ne':
      return sql`(${e} is null or ${e} <> ${v})`;
    case 'co':
    case 'sw':
    case 'ew': {
      if (typeof v !== 'string') throw fail('ROLLCALL_FILTER_OPERATOR_MISMATCH', `Operator '${op}' applies to strings; '${s.name}' is not one.`);
      const f = op === 'co' ? d.contains : op === 'sw' ? d.startsWith : d.endsWith;
      return sql`(${e} is not null and ${f(e, v)})`;
    }
    case 'gt':
      return sql`${e} > ${v}`;
    case 'ge':
      return sql`${e} >= ${v}`;
    case 'lt':
      return sql`${e} < ${v}`;
    case 'le':
      return sql`${e} <= ${v}`;
  }
}

function present(s: Scalar): Expr {
  if (s.type === 'string' || s.type === 'reference' || s.type === 'binary') return sql`(${s.expr} is not null and ${s.expr} <> '')`;
  return sql`${s.expr} is not null`;
}

function compileIn(d: SqlDialect, scope: Scope, f: Filter, depth: number): Expr {
  if (depth > 60) throw fail('ROLLCALL_FILTER_TOO_COMPLEX', 'Filter is nested too deeply.');
  switch (f.kind) {
    case 'and':
    case 'or': {
      // A flat chain `a or b or c …` is a left-deep tree from the parser; compiling
      // it as one list keeps long Entra-style lookups from counting as nesting.
      const operands = flatten(f, f.kind);
      if (operands.length > MAX_TERMS) {
        throw fail('ROLLCALL_FILTER_TOO_COMPLEX', `The filter joins ${operands.length} terms with '${f.kind}'; at most ${MAX_TERMS} are accepted.`);
      }
      return joinBalanced(
        operands.map((t) => compileIn(d, scope, t, depth + 1)),
        f.kind === 'and' ? sql` and ` : sql` or `,
      );
    }
    case 'not':
      // In SQL, NOT over NULL stays NULL (excluded), but a user without a title does
      // satisfy `not (title eq "x")`; folding NULL to false first makes it so.
      return sql`not coalesce(${compileIn(d, scope, f.filter, depth + 1)}, false)`;
    case 'present': {
      const t = scope.resolve(f.path);
      if (t.kind === 'multi') return multiPresent(t);
      return present(t);
    }
    case 'compare': {
      const t = scope.resolve(f.path);
      if (t.kind === 'multi') {
        const sub: AttrPath = { attr: t.sub };
        if (f.value.value === null) {
          if (f.op === 'eq') return sql`not ${multiPresent(t)}`;
          if (f.op === 'ne') return multiPresent(t);
          throw fail('ROLLCALL_FILTER_OPERATOR_MISMATCH', `Operator '${f.op}' cannot compare with null.`);
        }
        // `ne` on a multi-valued attribute: no value equals it (the natural reading of
        // "emails ne x"), rather than "some value differs".
        if (f.op === 'ne') return sql`not ${t.exists((el) => compileScalarCompare(d, asScalar(el.resolve(sub)), 'eq', f.value))}`;
        return t.exists((el) => compileScalarCompare(d, asScalar(el.resolve(sub)), f.op, f.value));
      }
      if (f.value.value === null) {
        if (f.op === 'eq') return sql`not ${present(t)}`;
        if (f.op === 'ne') return present(t);
        throw fail('ROLLCALL_FILTER_OPERATOR_MISMATCH', `Operator '${f.op}' cannot compare with null.`);
      }
      return compileScalarCompare(d, t, f.op, f.value);
    }
    case 'valuePath': {
      const t = scope.resolve({ uri: f.path.uri, attr: f.path.attr });
      if (t.kind !== 'multi') {
        throw fail('ROLLCALL_FILTER_NOT_MULTI_VALUED', `'${f.path.attr}[…]' needs a multi-valued attribute.`);
      }
      return t.exists((el) => compileIn(d, el, f.filter, depth + 1));
    }
  }
}

/** More terms than any IdP sends; SQLite's expression depth limit is 1000. */
const MAX_TERMS = 500;

/**
 * `(a or b or …)` as nested groups of at most 16: SQL parsers build a chain as a
 * tree as deep as it is long, and SQLite refuses trees deeper than 1000.
 */
function joinBalanced(terms: Expr[], op: Expr): Expr {
  if (terms.length <= 16) return sql`(${sql.join(terms, op)})`;
  const groups: Expr[] = [];
  for (let i = 0; i < terms.length; i += 16) groups.push(joinBalanced(terms.slice(i, i + 16), op));
  return joinBalanced(groups, op);
}

/** Operands of a chain of one logical operator, in order. */
function flatten(f: Filter, kind: 'and' | 'or'): Filter[] {
  const out: Filter[] = [];
  const stack: Filter[] = [f];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.kind === kind) stack.push(n.right, n.left);
    else out.push(n);
  }
  return out;
}

/** `emails pr`: some value exists; `emails.type pr`: some value has a type. */
function multiPresent(t: Multi): Expr {
  if (!t.hasSub) return t.exists(() => sql`1 = 1`);
  return t.exists((el) => present(asScalar(el.resolve({ attr: t.sub }))));
}

function asScalar(t: Scalar | Multi): Scalar {
  if (t.kind !== 'scalar') throw fail('ROLLCALL_FILTER_NESTED_MULTI_VALUED', 'Nested multi-valued attributes cannot be filtered.');
  return t;
}

/** SQL condition for a filter over the users (rt User) or groups (rt Group) table. */
export function compileFilter(target: FilterTarget, filter: Filter): Expr {
  const scope = target.rt.id === 'User' ? userScope(target) : groupScope(target);
  return compileIn(target.dialect, scope, filter, 0);
}

/** SQL expression to sort by (RFC 7644 §3.4.2.3); multi-valued attributes sort by their first value. */
export function compileSortKey(target: FilterTarget, path: AttrPath): Expr {
  const scope = target.rt.id === 'User' ? userScope(target) : groupScope(target);
  let t: Scalar | Multi;
  try {
    t = scope.resolve(path);
  } catch {
    throw fail('ROLLCALL_UNKNOWN_SORT_ATTRIBUTE', `Cannot sort by '${pathName(path)}': unknown attribute.`);
  }
  if (t.kind === 'scalar') {
    if (t.complex) throw fail('ROLLCALL_UNSORTABLE_ATTRIBUTE', `Cannot sort by the complex attribute '${t.name}'.`);
    return t.caseExact || t.folded || t.type !== 'string' ? t.expr : target.dialect.lower(t.expr);
  }
  if (t.name === 'emails' && target.rt.id === 'User') {
    return sql`(select min(e.value_lc) from user_emails e where e.user_id = users.id)`;
  }
  throw fail('ROLLCALL_UNSORTABLE_ATTRIBUTE', `Cannot sort by the multi-valued attribute '${t.name}'.`);
}
