/** Operations on value-filter paths (`emails[type eq "work"].value`), creating the element when the filter describes one. */
import { fail, isRollcallError } from '../errors.js';
import { type AttributeDef, findAttr } from '../schemas.js';
import { type Doc, coerceAttribute } from '../resource.js';
import type { AttrPath, Filter } from '../filter/ast.js';
import { type EvalOptions, matchingIndexes } from '../filter/evaluate.js';
import type { AttrTarget, OpName, State } from './types.js';
import { isEmpty, isObject, preferPrimary, unassignedIfEmpty } from './values.js';
import { currentList, setValue } from './document.js';

export function filterOptions(def: AttributeDef): EvalOptions {
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
export function applyFiltered(st: State, op: OpName, t: AttrTarget, filter: Filter, value: unknown): void {
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
    const v = unassignedIfEmpty(t.subAfter, coerceAttribute(t.subAfter, value, where));
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
export function seedFromFilter(filter: Filter, def: AttributeDef): Doc | undefined {
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
      if (isRollcallError(e)) return undefined;
      throw e;
    }
    if (v === undefined || (sub.name in seed && seed[sub.name] !== v)) return undefined;
    seed[sub.name] = v;
  }
  return seed;
}
