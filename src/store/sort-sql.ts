/** The SQL a list is ordered by (RFC 7644 §3.4.2.3). */
import { sql } from 'kysely';
import type { AttrPath } from '../scim/filter/ast.js';
import { fail } from '../scim/errors.js';
import { type Expr, type Multi, type Scalar, type FilterTarget, groupScope, pathName, userScope } from './filter-scope.js';

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
