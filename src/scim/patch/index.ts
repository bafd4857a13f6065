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
 * Operation caps: each operation on a multi-valued attribute rescans its values, so
 * an unbounded list of operations would let one client hold the CPU. A user has a
 * few dozen attributes; group membership operations are cheap set operations.
 */
export const MAX_USER_OPERATIONS = 1000;
export const MAX_GROUP_OPERATIONS = 10_000;

/**
 * Applies a PATCH request body to a stored resource. Throws only catalogue errors
 * (ROLLCALL_PATCH_…, ROLLCALL_READ_ONLY_ATTRIBUTE, ROLLCALL_REQUIRED_ATTRIBUTE_MISSING,
 * the path and value codes), each message prefixed with the failing operation's index.
 */
export function applyPatch(
  rt: ResourceTypeDef,
  current: { doc: Doc; externalId: string | undefined },
  body: unknown,
): PatchResult {
  const operations = parseOperations(body);
  const max = rt.id === 'Group' ? MAX_GROUP_OPERATIONS : MAX_USER_OPERATIONS;
  if (operations.length > max) {
    throw fail('ROLLCALL_PATCH_TOO_MANY_OPERATIONS', `A PATCH of a ${rt.id} may carry at most ${max} operations; this one has ${operations.length}. Send values in fewer operations (one operation takes a list).`);
  }
  const st: State = { rt, doc: structuredClone(current.doc), externalId: current.externalId, memberOps: [] };
  operations.forEach((raw, i) => {
    try {
      runOperation(st, raw);
    } catch (e) {
      if (!isRollcallError(e)) throw e;
      // Say which operation failed: requests carry dozens of them.
      throw new RollcallError(e.code, `Operations[${i}]: ${e.message}`, e.headers);
    }
  });
  for (const def of rt.schema.attributes) {
    if (!def.required) continue;
    const v = st.doc[def.name];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      throw fail('ROLLCALL_REQUIRED_ATTRIBUTE_MISSING', `Attribute '${def.name}' is required and cannot be removed or emptied.`);
    }
  }
  return { doc: st.doc, externalId: st.externalId, changes: diff(rt, current, st), memberOps: st.memberOps };
}
