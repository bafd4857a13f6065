/** Comparing and reading attribute values the way SCIM PATCH needs (case-insensitive keys, value identity). */
import { type AttributeDef, findAttr } from '../schemas.js';
import { type Doc, normalizePrimary } from '../resource.js';

/** Keys of a path-less value that clients echo back from GET and that we skip rather than refuse. */
export const IGNORED_VALUE_KEYS = new Set(['schemas', 'id', 'meta', 'groups']);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own key lookup, exact spelling first, then case-insensitive (SCIM names are case-insensitive). */
export function getKey(obj: Record<string, unknown>, key: string): { found: boolean; value: unknown } {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return { found: true, value: obj[key] };
  const lc = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lc) return { found: true, value: obj[k] };
  return { found: false, value: undefined };
}

export function deepEqual(a: unknown, b: unknown): boolean {
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
export function stableKey(v: unknown): string {
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
export function identity(v: unknown, def?: AttributeDef): string {
  if (!isObject(v)) return stableKey(typeof v === 'string' && !def?.caseExact ? v.toLowerCase() : v);
  const { primary: _p, ...rest } = v;
  const folded: Doc = {};
  for (const [k, x] of Object.entries(rest)) {
    const sub = findAttr(def?.subAttributes, k);
    folded[k] = typeof x === 'string' && !(sub?.caseExact ?? false) ? x.toLowerCase() : x;
  }
  return stableKey(folded);
}

export function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
}

/** Makes element `keep` the only primary one; without a preference, the last primary wins. */
export function preferPrimary(list: unknown[], keep: number): unknown[] {
  if (keep < 0) return normalizePrimary(list);
  return list.map((v, i) => {
    if (i === keep || !isObject(v) || v.primary !== true) return v;
    return { ...v, primary: false };
  });
}

/**
 * An empty string for a sub-attribute other than `value` unassigns it, as POST and
 * PUT read it (resource.ts coerceComplex); storing it would keep `"locality": ""`
 * that a PUT of the same resource drops.
 */
export function unassignedIfEmpty(sub: AttributeDef, v: unknown): unknown {
  return v === '' && sub.name !== 'value' ? undefined : v;
}
