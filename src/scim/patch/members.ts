/** Group members: PATCH operations on them become membership operations, never document changes. */
import { fail } from '../errors.js';
import { type AttributeDef } from '../schemas.js';
import { coerceMembers } from '../resource.js';
import type { Filter } from '../filter/ast.js';
import type { AttrTarget, OpName, State } from './types.js';

export function applyMembers(st: State, op: OpName, t: AttrTarget, value: unknown, hasValue: boolean): void {
  if (t.sub || t.subAfter) {
    throw fail('ROLLCALL_PATCH_MEMBERS_PATH', `Group members are changed as whole values: use 'members' or 'members[value eq "…"]'.`);
  }
  if (op === 'remove') {
    if (t.filter) {
      const ids = memberIdsFromFilter(t.filter);
      if (ids.length) st.memberOps.push({ op: 'remove', ids });
    } else if (!hasValue || value === null) {
      st.memberOps.push({ op: 'removeAll' });
    } else {
      const ids = coerceMembersStrict(t.def, value).map((m) => m.value);
      if (ids.length) st.memberOps.push({ op: 'remove', ids });
    }
    return;
  }
  if (t.filter) throw fail('ROLLCALL_PATCH_MEMBERS_PATH', `Members are added or replaced with path 'members', not a value filter.`);
  const members = coerceMembersStrict(t.def, value);
  if (op === 'replace') st.memberOps.push({ op: 'removeAll' });
  if (members.length) st.memberOps.push({ op: 'add', members });
}

/**
 * coerceMembers, but an entry that carries nothing usable (e.g. only the read-only
 * `display`) is refused instead of silently dropped: it would otherwise turn a
 * client's member change into a no-op that reports success.
 */
export function coerceMembersStrict(def: AttributeDef, value: unknown): { value: string; type?: string }[] {
  const members = coerceMembers(def, value);
  const given = (Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== undefined).length;
  if (members.length < given) throw fail('ROLLCALL_MEMBER_WITHOUT_VALUE', `Every member needs a 'value' (the member's id).`);
  return members;
}

/** `value eq "id"`, or several joined by `or`; anything else cannot be mapped onto the membership table. */
export function memberIdsFromFilter(filter: Filter): string[] {
  const ids: string[] = [];
  const stack: Filter[] = [filter];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.kind === 'or') {
      stack.push(f.right, f.left);
      continue;
    }
    const ok =
      f.kind === 'compare' &&
      f.op === 'eq' &&
      f.path.uri === undefined &&
      f.path.sub === undefined &&
      f.path.attr.toLowerCase() === 'value' &&
      (typeof f.value.value === 'string' || typeof f.value.value === 'number');
    if (!ok) throw fail('ROLLCALL_PATCH_MEMBERS_FILTER', `Only 'value eq "…"' (optionally joined by 'or') is supported for members.`);
    ids.push(typeof f.value.value === 'string' ? f.value.value : (f.value.raw ?? String(f.value.value)));
  }
  return ids;
}
