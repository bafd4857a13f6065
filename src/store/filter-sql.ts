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
import type { SqlDialect } from './dialect.js';
import { parseInstant, toStoredDateTime } from '../scim/datetime.js';
import { type FilterTarget, type Multi, type Scalar, type Scope, alias, groupScope, unknownAttr, userScope } from './filter-scope.js';

export type { FilterTarget } from './filter-scope.js';

type Expr = RawBuilder<unknown>;

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
      let t = scope.resolve(f.path);
      // A single-valued complex attribute compared as a whole is compared by its
      // `value` (RFC 7644 §3.4.2.2; as the evaluator does): Entra ID checks a
      // manager with `manager eq <id>`.
      if (t.kind === 'scalar' && t.complex && !f.path.sub && f.value.value !== null) t = valueOf(scope, f.path) ?? t;
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

/** `attr.value` of a complex attribute, when it has one. */
function valueOf(scope: Scope, path: AttrPath): Scalar | undefined {
  try {
    const v = scope.resolve({ ...path, sub: 'value' });
    return v.kind === 'scalar' ? v : undefined;
  } catch {
    return undefined;
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
