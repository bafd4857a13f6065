/** Applying one add, replace or remove to the document: whole values, sub-attributes, path-less objects. */
import { fail, isRollcallError } from '../errors.js';
import { type AttributeDef, findAttr } from '../schemas.js';
import { type Doc, coerceAttribute, normalizePrimary } from '../resource.js';
import { parsePatchPath } from '../filter/parse.js';
import type { AttrTarget, OpName, State, Target } from './types.js';
import { IGNORED_VALUE_KEYS, identity, isEmpty, isObject, preferPrimary, stableKey, unassignedIfEmpty } from './values.js';
import { currentList, getValue, setValue } from './document.js';
import { resolveTarget } from './target.js';
import { applyFiltered } from './filtered.js';
import { applyMembers } from './members.js';

export function applyTarget(st: State, op: OpName, t: Target, value: unknown, hasValue: boolean, depth: number): void {
  if (t.kind === 'resource') {
    if (op === 'remove') throw fail('ROLLCALL_PATCH_INVALID_PATH', 'The resource itself cannot be removed with PATCH.');
    applyObject(st, op, value, undefined, depth);
    return;
  }
  if (t.kind === 'extension') {
    if (op === 'remove') {
      delete st.doc[t.schema.id];
      return;
    }
    // Replace merges like add: clients send the extension object to set some of
    // its attributes, not to wipe the ones they left out.
    if (value === null) {
      if (op === 'replace') delete st.doc[t.schema.id];
      return;
    }
    applyObject(st, op, value, t.schema.id, depth);
    return;
  }
  if (st.rt.id === 'Group' && t.ext === undefined && t.def.name === 'members') {
    applyMembers(st, op, t, value, hasValue);
    return;
  }
  if (t.def.mutability === 'writeOnly') {
    // password: validated for type, accepted, never stored.
    if (op !== 'remove') coerceAttribute(t.def, value, t.label);
    return;
  }
  if (t.filter) applyFiltered(st, op, t, t.filter, value);
  else if (t.sub) applySub(st, op, t, t.sub, value);
  else applyWhole(st, op, t, value, hasValue);
}

/**
 * A path-less add/replace (or a URN path naming the resource or an extension):
 * each key is applied as if it were the path. Keys may be dotted, URN-qualified or
 * even filtered (Entra's aadOptscim062020 shape). Unknown and read-only keys are
 * skipped, as for POST/PUT, because clients echo whole resources back.
 */
export function applyObject(st: State, op: OpName, value: unknown, extUri: string | undefined, depth: number): void {
  if (!isObject(value)) {
    throw fail('ROLLCALL_PATCH_VALUE_NOT_AN_OBJECT', `'${op}' ${extUri ? `of '${extUri}'` : 'without a path'} needs an object value.`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (extUri === undefined && IGNORED_VALUE_KEYS.has(key.toLowerCase())) continue;
    const text = extUri === undefined ? key : `${extUri}:${key}`;
    let t: Target;
    try {
      t = resolveTarget(st.rt, parsePatchPath(text), text);
    } catch (e) {
      if (isRollcallError(e)) continue;
      throw e;
    }
    // A schema URN inside a schema URN's value is nonsense; one level is all clients use.
    if (t.kind !== 'attr' && (extUri !== undefined || depth > 0)) continue;
    applyTarget(st, op, t, v, true, depth + 1);
  }
}

/** The whole attribute: no sub-attribute, no filter. */
export function applyWhole(st: State, op: OpName, t: AttrTarget, value: unknown, hasValue: boolean): void {
  const { def } = t;
  if (op === 'remove') {
    if (def.multiValued && hasValue && value !== null) removeValues(st, t, value);
    else setValue(st, t, undefined);
    return;
  }
  if (def.multiValued) {
    const incoming = (coerceAttribute(def, value, t.label) as unknown[] | undefined) ?? [];
    if (op === 'replace') setValue(st, t, incoming);
    else appendValues(st, t, incoming);
    return;
  }
  if (def.type === 'complex') {
    mergeComplex(st, t, value);
    return;
  }
  setValue(st, t, coerceAttribute(def, value, t.label));
}

/** Add to a multi-valued attribute: skip values already there; a re-sent value may still become primary. */
export function appendValues(st: State, t: AttrTarget, incoming: unknown[]): void {
  const list = currentList(st, t).slice();
  const seen = new Map<string, number>();
  list.forEach((el, i) => seen.set(identity(el, t.def), i));
  let preferred = -1;
  for (const v of incoming) {
    const primary = isObject(v) && v.primary === true;
    const key = identity(v, t.def);
    const at = seen.get(key);
    if (at !== undefined) {
      if (primary) {
        list[at] = { ...(list[at] as Doc), primary: true };
        preferred = at;
      }
      continue;
    }
    list.push(v);
    seen.set(key, list.length - 1);
    if (primary) preferred = list.length - 1;
  }
  setValue(st, t, preferPrimary(list, preferred));
}

/**
 * Remove with a value (Entra removes values this way): elements are matched by their
 * `value` sub-attribute, or wholly when the given element has no `value`.
 */
export function removeValues(st: State, t: AttrTarget, value: unknown): void {
  const given = (coerceAttribute(t.def, value, t.label) as unknown[] | undefined) ?? [];
  if (given.length === 0) return;
  const valueDef = findAttr(t.def.subAttributes, 'value');
  const norm = (v: unknown) => (typeof v === 'string' && !(valueDef?.caseExact ?? t.def.caseExact) ? v.toLowerCase() : stableKey(v));
  const byValue = new Set<string>();
  const whole = new Set<string>();
  for (const g of given) {
    if (!isObject(g)) byValue.add(norm(g));
    else if (g.value !== undefined) byValue.add(norm(g.value));
    else whole.add(identity(g, t.def));
  }
  const kept = currentList(st, t).filter((el) => {
    const v = isObject(el) ? el.value : el;
    if (v !== undefined && byValue.has(norm(v))) return false;
    return !whole.has(identity(el, t.def));
  });
  setValue(st, t, kept);
}

/**
 * Add/replace of a single-valued complex attribute merges sub-attributes
 * (RFC 7644 §3.5.2.1/§3.5.2.3: those not given are left unchanged; an explicit
 * null clears one). Exception: for a reference (`$ref` sub-attribute, e.g. the
 * manager) a new `value` is a different referent, so the old sub-attributes that
 * described the previous one are dropped.
 */
export function mergeComplex(st: State, t: AttrTarget, value: unknown): void {
  const { def } = t;
  if (value === null || (Array.isArray(value) && value.length === 0)) {
    setValue(st, t, undefined);
    return;
  }
  const incoming = coerceAttribute(def, value, t.label) as Doc | undefined;
  const current = getValue(st, t);
  const base: Doc = isObject(current) ? { ...current } : {};
  const raw = Array.isArray(value) ? value[0] : value;
  if (isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      const sub = findAttr(def.subAttributes, k);
      if (v === null && sub && sub.mutability !== 'readOnly') delete base[sub.name];
    }
  }
  if (incoming && findAttr(def.subAttributes, '$ref') && incoming.value !== undefined && incoming.value !== base.value) {
    setValue(st, t, incoming);
    return;
  }
  setValue(st, t, { ...base, ...incoming });
}

/** `name.givenName`, `manager.value`, or `emails.type` (every element of a multi-valued attribute). */
export function applySub(st: State, op: OpName, t: AttrTarget, sub: AttributeDef, value: unknown): void {
  const v = op === 'remove' ? undefined : unassignedIfEmpty(sub, coerceAttribute(sub, value, `${t.label}.${sub.name}`));
  const setSub = (el: unknown): Doc => {
    const out: Doc = isObject(el) ? { ...el } : {};
    if (v === undefined) delete out[sub.name];
    else out[sub.name] = v;
    return out;
  };
  if (!t.def.multiValued) {
    const current = getValue(st, t);
    if (v === undefined && !isObject(current)) return;
    // A reference pointing somewhere new (manager.value) drops what described the old referent.
    if (sub.name === 'value' && findAttr(t.def.subAttributes, '$ref') && isObject(current) && current.value !== v) {
      setValue(st, t, v === undefined ? undefined : { value: v });
      return;
    }
    setValue(st, t, setSub(current));
    return;
  }
  const list = currentList(st, t);
  if (list.length === 0) {
    if (v !== undefined) setValue(st, t, [setSub(undefined)]);
    return;
  }
  const out = list.map(setSub).filter((el) => !isEmpty(el));
  setValue(st, t, sub.name === 'primary' ? normalizePrimary(out) : out);
}

