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
import { ScimError, fail, isScimError } from './errors.js';
import { type AttributeDef, type ResourceTypeDef, type SchemaDef, PATCH_OP, canonicalSchemaUri, findAttr, resolveAttr, schemaById } from './schemas.js';
import { type Doc, coerceAttribute, coerceMembers, normalizePrimary } from './resource.js';
import type { AttrPath, Filter, PatchPath } from './filter/ast.js';
import { parsePatchPath } from './filter/parse.js';
import { type EvalOptions, matchingIndexes } from './filter/evaluate.js';

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

export type MemberOp =
  | { op: 'add'; members: { value: string; type?: string }[] }
  | { op: 'remove'; ids: string[] }
  | { op: 'removeAll' };

export interface PatchResult {
  doc: Doc;
  externalId: string | undefined;
  changes: Change[];
  memberOps: MemberOp[];
}

type OpName = 'add' | 'replace' | 'remove';

/** What a PATCH path points at once resolved against the resource type. */
type Target =
  /** The core schema URN as a path: the resource itself, like no path. */
  | { kind: 'resource' }
  /** A bare extension URN: the whole extension object. */
  | { kind: 'extension'; schema: SchemaDef }
  | AttrTarget;

interface AttrTarget {
  kind: 'attr';
  def: AttributeDef;
  /** Extension URN the attribute is stored under; undefined for core attributes. */
  ext?: string;
  /** externalId lives beside the document, not in it. */
  externalId: boolean;
  sub?: AttributeDef;
  filter?: Filter;
  subAfter?: AttributeDef;
  /** Canonical name for messages, e.g. `urn:…:User:manager`. */
  label: string;
}

interface State {
  rt: ResourceTypeDef;
  doc: Doc;
  externalId: string | undefined;
  memberOps: MemberOp[];
}

/** Keys of a path-less value that clients echo back from GET and that we skip rather than refuse. */
const IGNORED_VALUE_KEYS = new Set(['schemas', 'id', 'meta', 'groups']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own key lookup, exact spelling first, then case-insensitive (SCIM names are case-insensitive). */
function getKey(obj: Record<string, unknown>, key: string): { found: boolean; value: unknown } {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return { found: true, value: obj[key] };
  const lc = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lc) return { found: true, value: obj[k] };
  return { found: false, value: undefined };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Order-independent text of a value, so duplicate detection is a Set lookup (linear in the list). */
function stableKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableKey).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableKey(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** Identity of a multi-valued element for "already present": `primary` is a flag, not part of the value. */
/**
 * What makes two values of a multi-valued attribute the same value: everything but
 * `primary`, compared case-insensitively unless the sub-attribute is case-exact
 * (so `V@X.COM` / `Work` is the e-mail already there, not a second one).
 */
function identity(v: unknown, def?: AttributeDef): string {
  if (!isObject(v)) return stableKey(typeof v === 'string' && !def?.caseExact ? v.toLowerCase() : v);
  const { primary: _p, ...rest } = v;
  const folded: Doc = {};
  for (const [k, x] of Object.entries(rest)) {
    const sub = findAttr(def?.subAttributes, k);
    folded[k] = typeof x === 'string' && !(sub?.caseExact ?? false) ? x.toLowerCase() : x;
  }
  return stableKey(folded);
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
}

/** Makes element `keep` the only primary one; without a preference, the last primary wins. */
function preferPrimary(list: unknown[], keep: number): unknown[] {
  if (keep < 0) return normalizePrimary(list);
  return list.map((v, i) => {
    if (i === keep || !isObject(v) || v.primary !== true) return v;
    return { ...v, primary: false };
  });
}

// ---------------------------------------------------------------------------
// Path resolution

function resolveTarget(rt: ResourceTypeDef, pp: PatchPath, text: string): Target {
  const { path } = pp;
  if (path.uri !== undefined) {
    // The parser splits at the last colon, so a bare schema URN arrives as
    // `{uri:'…:2.0', attr:'User'}` (or `attr:''` when the tail is not a name).
    const whole = path.attr === '' ? path.uri : `${path.uri}:${path.attr}`;
    const uri = canonicalSchemaUri(rt, whole);
    if (uri !== undefined || path.attr === '') {
      if (uri === undefined) throw fail('ROLLCALL_PATCH_UNKNOWN_SCHEMA', `Unknown schema in path '${text}'.`);
      if (path.sub !== undefined || pp.filter) throw fail('ROLLCALL_PATCH_INVALID_PATH', `Invalid path '${text}'.`);
      return uri === rt.schema.id ? { kind: 'resource' } : { kind: 'extension', schema: schemaById(rt, uri)! };
    }
  }
  let r = resolveAttr(rt, path);
  // Entra ID sends extension attributes unqualified (`"path":"manager"`).
  if (!r && path.uri === undefined) {
    for (const ext of rt.extensions) {
      r = resolveAttr(rt, { uri: ext.schema.id, attr: path.attr, sub: path.sub });
      if (r) break;
    }
  }
  if (!r) throw fail('ROLLCALL_PATCH_UNKNOWN_ATTRIBUTE', `Unknown attribute in path '${text}'.`);
  const { def } = r;
  const label = r.inExtension ? `${r.schema}:${def.name}` : def.name;
  if (def.mutability === 'readOnly') throw fail('ROLLCALL_READ_ONLY_ATTRIBUTE', `Attribute '${label}' is read-only.`);
  if (r.subDef?.mutability === 'readOnly') throw fail('ROLLCALL_READ_ONLY_ATTRIBUTE', `Attribute '${label}.${r.subDef.name}' is read-only.`);
  const target: AttrTarget = {
    kind: 'attr',
    def,
    ext: r.inExtension ? r.schema : undefined,
    externalId: r.common && def.name === 'externalId',
    sub: r.subDef,
    label,
  };
  if (pp.filter) {
    if (!def.multiValued || def.type !== 'complex') {
      throw fail('ROLLCALL_PATCH_INVALID_PATH', `A value filter needs a multi-valued complex attribute; '${label}' is not one.`);
    }
    if (path.sub !== undefined) throw fail('ROLLCALL_PATCH_INVALID_PATH', `Invalid path '${text}': a sub-attribute goes after the filter.`);
    target.filter = pp.filter;
    if (pp.subAfterFilter !== undefined) {
      const subAfter = findAttr(def.subAttributes, pp.subAfterFilter);
      if (!subAfter) throw fail('ROLLCALL_PATCH_UNKNOWN_ATTRIBUTE', `Unknown attribute in path '${text}'.`);
      if (subAfter.mutability === 'readOnly') throw fail('ROLLCALL_READ_ONLY_ATTRIBUTE', `Attribute '${label}.${subAfter.name}' is read-only.`);
      target.subAfter = subAfter;
    }
  }
  return target;
}

// ---------------------------------------------------------------------------
// Reading and writing the document

function getValue(st: State, t: AttrTarget): unknown {
  if (t.externalId) return st.externalId;
  const container = t.ext === undefined ? st.doc : st.doc[t.ext];
  return isObject(container) ? container[t.def.name] : undefined;
}

/** Writes a value; undefined or an empty object/array unassigns, and an emptied extension goes too. */
function setValue(st: State, t: AttrTarget, v: unknown): void {
  if (t.externalId) {
    st.externalId = typeof v === 'string' && v !== '' ? v : undefined;
    return;
  }
  if (t.ext === undefined) {
    if (isEmpty(v)) delete st.doc[t.def.name];
    else st.doc[t.def.name] = v;
    return;
  }
  let container = st.doc[t.ext];
  if (isEmpty(v)) {
    if (!isObject(container)) return;
    delete container[t.def.name];
    if (Object.keys(container).length === 0) delete st.doc[t.ext];
    return;
  }
  if (!isObject(container)) {
    container = {};
    st.doc[t.ext] = container;
  }
  (container as Doc)[t.def.name] = v;
}

function currentList(st: State, t: AttrTarget): unknown[] {
  const v = getValue(st, t);
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

// ---------------------------------------------------------------------------
// Operations

function applyTarget(st: State, op: OpName, t: Target, value: unknown, hasValue: boolean, depth: number): void {
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
function applyObject(st: State, op: OpName, value: unknown, extUri: string | undefined, depth: number): void {
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
      if (isScimError(e)) continue;
      throw e;
    }
    // A schema URN inside a schema URN's value is nonsense; one level is all clients use.
    if (t.kind !== 'attr' && (extUri !== undefined || depth > 0)) continue;
    applyTarget(st, op, t, v, true, depth + 1);
  }
}

/** The whole attribute: no sub-attribute, no filter. */
function applyWhole(st: State, op: OpName, t: AttrTarget, value: unknown, hasValue: boolean): void {
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
function appendValues(st: State, t: AttrTarget, incoming: unknown[]): void {
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
function removeValues(st: State, t: AttrTarget, value: unknown): void {
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
function mergeComplex(st: State, t: AttrTarget, value: unknown): void {
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
function applySub(st: State, op: OpName, t: AttrTarget, sub: AttributeDef, value: unknown): void {
  const v = op === 'remove' ? undefined : coerceAttribute(sub, value, `${t.label}.${sub.name}`);
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

function filterOptions(def: AttributeDef): EvalOptions {
  // Inside a value filter the evaluator reports `{attr: parent, sub: name}`.
  const subOf = (p: AttrPath) => findAttr(def.subAttributes, p.sub ?? p.attr);
  return {
    caseExact: (p) => subOf(p)?.caseExact ?? false,
    typeOf: (p) => subOf(p)?.type,
  };
}

/**
 * `emails[type eq "work"]` or `emails[type eq "work"].value`. For add/replace with
 * no matching element, a filter made only of `sub eq "literal"` (joined by `and`)
 * describes the element to create — Entra ID relies on this for users who do not
 * have, say, a work phone yet.
 */
function applyFiltered(st: State, op: OpName, t: AttrTarget, filter: Filter, value: unknown): void {
  const list = currentList(st, t).slice();
  const hits = matchingIndexes(filter, list, filterOptions(t.def), { attr: t.def.name });
  const hitSet = new Set(hits);
  const where = `${t.label}[…]${t.subAfter ? `.${t.subAfter.name}` : ''}`;

  if (op === 'remove') {
    if (hits.length === 0) return; // idempotent: clients retry
    const sub = t.subAfter;
    const out = sub
      ? list
          .map((el, i) => {
            if (!hitSet.has(i) || !isObject(el)) return el;
            const { [sub.name]: _gone, ...rest } = el;
            return rest;
          })
          .filter((el) => !isEmpty(el))
      : list.filter((_, i) => !hitSet.has(i));
    setValue(st, t, out);
    return;
  }

  // What to write into each selected element.
  let patch: Doc | undefined;
  let clear: string[] = [];
  if (t.subAfter) {
    const v = coerceAttribute(t.subAfter, value, where);
    if (v === undefined) clear = [t.subAfter.name];
    else patch = { [t.subAfter.name]: v };
  } else {
    if (value === null) {
      // Replacing selected elements with null unassigns them; adding null adds nothing.
      if (op === 'replace' && hits.length) setValue(st, t, list.filter((_, i) => !hitSet.has(i)));
      return;
    }
    const coerced = (coerceAttribute(t.def, value, where) as Doc[] | undefined) ?? [];
    if (coerced.length > 1) throw fail('ROLLCALL_PATCH_ONE_VALUE_EXPECTED', `A value filter path selects elements; give one object for '${t.label}', not ${coerced.length}.`);
    patch = coerced[0];
    const raw = Array.isArray(value) ? value[0] : value;
    if (isObject(raw)) {
      for (const [k, v] of Object.entries(raw)) {
        const sub = findAttr(t.def.subAttributes, k);
        if (v === null && sub) clear.push(sub.name);
      }
    }
  }
  const apply = (el: unknown): Doc => {
    const out: Doc = { ...(isObject(el) ? el : {}) };
    for (const k of clear) delete out[k];
    return patch ? Object.assign(out, patch) : out;
  };

  let touched: number[];
  let out: unknown[];
  if (hits.length) {
    out = list.map((el, i) => (hitSet.has(i) ? apply(el) : el));
    touched = hits;
  } else {
    if (!patch) return; // nothing to set on nothing
    const seed = seedFromFilter(filter, t.def);
    if (!seed) throw fail('ROLLCALL_PATCH_NO_TARGET', `No value of '${t.label}' matches the filter, and the filter does not describe a value to create.`);
    out = [...list, apply(seed)];
    touched = [out.length - 1];
  }
  // The element the client just marked primary wins over older primaries.
  let keepEl: unknown;
  for (const i of touched) if (isObject(out[i]) && (out[i] as Doc).primary === true) keepEl = out[i];
  out = out.filter((el) => !isEmpty(el));
  setValue(st, t, preferPrimary(out, keepEl === undefined ? -1 : out.indexOf(keepEl)));
}

/** The element a filter of `sub eq literal` (and-ed) describes, or undefined for any other filter. */
function seedFromFilter(filter: Filter, def: AttributeDef): Doc | undefined {
  const seed: Doc = {};
  const stack: Filter[] = [filter];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.kind === 'and') {
      stack.push(f.left, f.right);
      continue;
    }
    if (f.kind !== 'compare' || f.op !== 'eq' || f.path.sub !== undefined || f.path.uri !== undefined) return undefined;
    const sub = findAttr(def.subAttributes, f.path.attr);
    if (!sub || sub.mutability === 'readOnly' || f.value.value === null) return undefined;
    // Unquoted literals keep their text so `eq 007` stays "007" for a string.
    const literal = typeof f.value.value === 'string' ? f.value.value : (f.value.raw ?? f.value.value);
    let v: unknown;
    try {
      v = coerceAttribute(sub, literal, `${def.name}.${sub.name}`);
    } catch (e) {
      if (isScimError(e)) return undefined;
      throw e;
    }
    if (v === undefined || (sub.name in seed && seed[sub.name] !== v)) return undefined;
    seed[sub.name] = v;
  }
  return seed;
}

// ---------------------------------------------------------------------------
// Group members: turned into operations on the membership table.

function applyMembers(st: State, op: OpName, t: AttrTarget, value: unknown, hasValue: boolean): void {
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
function coerceMembersStrict(def: AttributeDef, value: unknown): { value: string; type?: string }[] {
  const members = coerceMembers(def, value);
  const given = (Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== undefined).length;
  if (members.length < given) throw fail('ROLLCALL_MEMBER_WITHOUT_VALUE', `Every member needs a 'value' (the member's id).`);
  return members;
}

/** `value eq "id"`, or several joined by `or`; anything else cannot be mapped onto the membership table. */
function memberIdsFromFilter(filter: Filter): string[] {
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

// ---------------------------------------------------------------------------
// Entry point

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

/** Change entries at top-level attribute granularity, in schema order. */
export function diff(rt: ResourceTypeDef, before: { doc: Doc; externalId: string | undefined }, after: { doc: Doc; externalId: string | undefined }): Change[] {
  const changes: Change[] = [];
  const push = (path: string, b: unknown, a: unknown) => {
    if (!deepEqual(b, a)) changes.push({ path, before: structuredClone(b), after: structuredClone(a) });
  };
  for (const def of rt.schema.attributes) {
    if (rt.id === 'Group' && def.name === 'members') continue;
    push(def.name, before.doc[def.name], after.doc[def.name]);
  }
  for (const { schema } of rt.extensions) {
    const b = isObject(before.doc[schema.id]) ? (before.doc[schema.id] as Doc) : {};
    const a = isObject(after.doc[schema.id]) ? (after.doc[schema.id] as Doc) : {};
    for (const def of schema.attributes) push(`${schema.id}:${def.name}`, b[def.name], a[def.name]);
  }
  push('externalId', before.externalId, after.externalId);
  return changes;
}

/**
 * Applies a PATCH request body to a stored resource. Throws only ScimError:
 * invalidSyntax (body shape, unknown op, wrong value types), invalidPath,
 * mutability, noTarget, invalidFilter, invalidValue (required attribute gone).
 */
/**
 * Operation caps: each operation on a multi-valued attribute rescans its values, so
 * an unbounded list of operations would let one client hold the CPU. A user has a
 * few dozen attributes; group membership operations are cheap set operations.
 */
export const MAX_USER_OPERATIONS = 1000;
export const MAX_GROUP_OPERATIONS = 10_000;

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
      if (!isScimError(e)) throw e;
      // Say which operation failed: requests carry dozens of them.
      throw new ScimError(e.code, `Operations[${i}]: ${e.message}`, e.headers);
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
