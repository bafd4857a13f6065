/**
 * PATCH (RFC 7644 §3.5.2) applied to a canonical stored document, with the
 * tolerances real clients need: Entra ID capitalises ops, sends booleans as
 * "False", unqualified extension paths (`manager`), dotted and URN-qualified keys
 * in path-less values, and filtered paths to elements that do not exist yet;
 * Okta sends path-less replaces carrying `id`, and member changes as
 * remove-by-filter + add.
 *
 * Pure: the caller's document is cloned, never mutated. Group members never enter
 * the document; they come back as `memberOps` for the membership table.
 */
import { RollcallError, fail, isRollcallError } from '../errors.js';
import { type ResourceTypeDef, PATCH_OP } from '../schemas.js';
import { type Doc } from '../resource.js';
import { parsePatchPath } from '../filter/parse.js';
import type { PatchResult, State } from './types.js';
import { getKey, isObject } from './values.js';
import { resolveTarget } from './target.js';
import { applyObject, applyTarget } from './apply.js';
import { diff } from './diff.js';
import { DEFAULT_LIMITS, type ScimLimits, checkChangedValues, checkMemberCount, checkPatchValues, checkValueCounts, isMemberOperation } from '../limits.js';

export type { Change, MemberOp, PatchResult } from './types.js';
export { diff } from './diff.js';

function parseOperations(body: unknown): unknown[] {
  if (!isObject(body)) throw fail('ROLLCALL_PATCH_INVALID_BODY', 'The PATCH body must be a JSON object with an Operations array.');
  const schemas = getKey(body, 'schemas').value;
  if (schemas !== undefined && schemas !== null) {
    const list = Array.isArray(schemas) ? schemas : [schemas];
    if (!list.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP.toLowerCase())) {
      throw fail('ROLLCALL_PATCH_SCHEMA_MISSING', `'schemas' of a PATCH request must contain '${PATCH_OP}'.`);
    }
  }
  const ops = getKey(body, 'Operations').value;
  if (!Array.isArray(ops)) throw fail('ROLLCALL_PATCH_INVALID_BODY', `The PATCH body needs an 'Operations' array.`);
  if (ops.length === 0) throw fail('ROLLCALL_PATCH_INVALID_BODY', `'Operations' must not be empty.`);
  return ops;
}

function runOperation(st: State, raw: unknown): void {
  if (!isObject(raw)) throw fail('ROLLCALL_PATCH_INVALID_BODY', 'An operation must be an object.');
  const opRaw = getKey(raw, 'op').value;
  if (typeof opRaw !== 'string') throw fail('ROLLCALL_PATCH_UNKNOWN_OP', `An operation needs 'op' ("add", "replace" or "remove").`);
  const op = opRaw.toLowerCase();
  if (op !== 'add' && op !== 'replace' && op !== 'remove') {
    throw fail('ROLLCALL_PATCH_UNKNOWN_OP', `Unknown operation '${opRaw.slice(0, 40)}'; expected "add", "replace" or "remove".`);
  }
  const pathRaw = getKey(raw, 'path').value;
  if (pathRaw !== undefined && pathRaw !== null && typeof pathRaw !== 'string') throw fail('ROLLCALL_PATCH_INVALID_BODY', `'path' must be a string.`);
  const path = typeof pathRaw === 'string' && pathRaw.trim() !== '' ? pathRaw : undefined;
  const { found: hasValue, value } = getKey(raw, 'value');

  if (op !== 'remove' && (!hasValue || value === undefined)) throw fail('ROLLCALL_PATCH_VALUE_MISSING', `'${op}' needs a 'value'.`);
  if (path === undefined) {
    if (op === 'remove') throw fail('ROLLCALL_PATCH_REMOVE_WITHOUT_PATH', `'remove' needs a 'path'.`);
    applyObject(st, op, value, undefined, 0);
    return;
  }
  applyTarget(st, op, resolveTarget(st.rt, parsePatchPath(path), path), value, hasValue, 0);
}

/**
 * Applies a PATCH request body to a stored resource. Throws only catalogue errors
 * (ROLLCALL_PATCH_…, ROLLCALL_READ_ONLY_ATTRIBUTE, ROLLCALL_REQUIRED_ATTRIBUTE_MISSING,
 * the path, value and limit codes), each message prefixed with the failing operation's index.
 *
 * Cost bounds (scim/limits.ts): each operation on a multi-valued attribute rescans
 * its values, so the number of operations is capped and every multi-valued
 * attribute is checked against its cap after each operation — a PATCH can never
 * grow a list beyond it and then keep rescanning it. Members are counted over the
 * whole request, and the string lengths of every changed value are checked.
 */
export function applyPatch(
  rt: ResourceTypeDef,
  current: { doc: Doc; externalId: string | undefined },
  body: unknown,
  limits: ScimLimits = DEFAULT_LIMITS,
): PatchResult {
  const operations = parseOperations(body);
  // Member operations are set operations on the membership table, bounded by the member cap instead.
  const attributeOps = rt.id === 'Group' ? operations.filter((o) => !isMemberOperation(o)).length : operations.length;
  if (attributeOps > limits.patchOperations) {
    throw fail(
      'ROLLCALL_PATCH_TOO_MANY_OPERATIONS',
      `A PATCH may carry at most ${limits.patchOperations} operations (ROLLCALL_MAX_PATCH_OPERATIONS; operations on group members excepted); this one has ${attributeOps}. Send values in fewer operations (one operation takes a list).`,
    );
  }
  if (operations.length > limits.membersPerRequest + limits.patchOperations) {
    throw fail('ROLLCALL_PATCH_TOO_MANY_OPERATIONS', `A PATCH may carry at most ${limits.membersPerRequest + limits.patchOperations} operations in all; this one has ${operations.length}.`);
  }
  checkPatchValues(operations, limits);
  const st: State = { rt, doc: structuredClone(current.doc), externalId: current.externalId, memberOps: [] };
  operations.forEach((raw, i) => {
    try {
      runOperation(st, raw);
      checkValueCounts(rt, st.doc, limits, current.doc);
    } catch (e) {
      if (!isRollcallError(e)) throw e;
      // Say which operation failed: requests carry dozens of them.
      throw new RollcallError(e.code, `Operations[${i}]: ${e.message}`, e.headers);
    }
  });
  checkMemberCount(st.memberOps.reduce((n, m) => n + (m.op === 'add' ? m.members.length : m.op === 'remove' ? m.ids.length : 0), 0), limits);
  for (const def of rt.schema.attributes) {
    if (!def.required) continue;
    const v = st.doc[def.name];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      throw fail('ROLLCALL_REQUIRED_ATTRIBUTE_MISSING', `Attribute '${def.name}' is required and cannot be removed or emptied.`);
    }
  }
  const changes = diff(rt, current, st);
  checkChangedValues(rt, changes, limits);
  return { doc: st.doc, externalId: st.externalId, changes, memberOps: st.memberOps };
}
