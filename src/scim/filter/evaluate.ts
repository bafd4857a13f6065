/**
 * In-memory filter evaluation (RFC 7644 §3.4.2.2). Used by PATCH to pick elements
 * of multi-valued attributes, and as the reference semantics the SQL compiler is
 * property-tested against — so every rule here is deliberately simple to state:
 *
 * - key lookup is case-insensitive; a URN-qualified path looks in `resource[uri]`,
 *   except the core User/Group URNs which mean the top level;
 * - a comparison on a multi-valued attribute holds when ANY value satisfies it;
 *   a complex value without a named sub-attribute is compared by its `value`;
 * - `ne` is exactly `not eq` (so an absent attribute is "not equal", and
 *   `emails.type ne "work"` is false when any email is of type work);
 * - `eq null` means "not present", `ne null` means "present";
 * - ordering (`gt`…) on booleans or binary is invalidFilter; ordering against
 *   null, or between values that cannot be compared, is simply no match.
 */
import { fail } from '../errors.js';
import type { AttrPath, CompareOp, CompareValue, Filter } from './ast.js';
import { type Instant, parseInstant } from '../datetime.js';

export interface EvalOptions {
  /**
   * True when the attribute at this path compares case-exactly (RFC 7643 caseExact).
   * Default: everything is case-insensitive. Inside a value path the callback gets
   * the full path (`{attr:'emails', sub:'type'}`), not the relative one.
   */
  caseExact?: (path: AttrPath) => boolean;
  /**
   * RFC 7643 attribute type: 'dateTime' compares as instants, 'boolean' as booleans,
   * 'decimal'/'integer' as numbers, 'binary' case-exactly and unordered, anything
   * else as strings. Default (or undefined): inferred from the stored JS value.
   */
  typeOf?: (path: AttrPath) => string | undefined;
}

interface Ctx {
  opts: EvalOptions;
  /** The multi-valued attribute a value filter is applied to, to report full paths to the callbacks. */
  parent?: AttrPath;
}

const CORE_URN = /^urn:ietf:params:scim:schemas:core:2\.0:(?:user|group)$/i;
// `\d+\.?\d*` would let two quantifiers split a run of digits every way (quadratic on a long non-number).
const NUMERIC = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
/** Only values with a time part are inferred to be dateTimes, so plain strings like "2015-10-10" stay strings. */
const LOOKS_LIKE_DATETIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive own-key lookup; exact match first because it is the common case. */
function getKey(obj: unknown, key: string): unknown {
  if (!isRecord(obj)) return undefined;
  if (Object.prototype.hasOwnProperty.call(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** The value of `[uri:]attr` (sub-attributes not applied). */
function resolveAttr(resource: Record<string, unknown>, path: AttrPath): unknown {
  if (path.uri === undefined || CORE_URN.test(path.uri)) return getKey(resource, path.attr);
  // The parser splits at the last colon, so a bare extension URN arrives as
  // uri `…:2.0` + attr `User`; if that whole URN is a key, it names the extension object.
  const whole = getKey(resource, `${path.uri}:${path.attr}`);
  if (whole !== undefined) return whole;
  return getKey(getKey(resource, path.uri), path.attr);
}

/** The attribute value(s) the path names, flattened over multi-valued attributes. */
function resolveValues(resource: Record<string, unknown>, path: AttrPath): unknown[] {
  const v = resolveAttr(resource, path);
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  if (path.sub === undefined) return list;
  const sub = path.sub;
  return list.flatMap((el) => {
    const s = getKey(el, sub);
    return Array.isArray(s) ? s : [s];
  });
}

/** RFC 7644: present means a non-empty value, or a complex value with a non-empty node. */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isRecord(v)) return Object.values(v).some(isPresent);
  return true;
}

function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    // Some stores (and Entra ID payloads) carry booleans as "True"/"False".
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return undefined;
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  const width = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(width, '0'), fb = b.fraction.padEnd(width, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

function ordered(op: CompareOp, cmp: number): boolean {
  switch (op) {
    case 'eq': return cmp === 0;
    case 'ne': return cmp !== 0;
    case 'gt': return cmp > 0;
    case 'ge': return cmp >= 0;
    case 'lt': return cmp < 0;
    case 'le': return cmp <= 0;
    default: return false;
  }
}

const ORDERING: ReadonlySet<CompareOp> = new Set(['gt', 'ge', 'lt', 'le']);
const SUBSTRING: ReadonlySet<CompareOp> = new Set(['co', 'sw', 'ew']);

function orderingNotAllowed(path: AttrPath, type: string): never {
  const name = path.sub ? `${path.attr}.${path.sub}` : path.attr;
  throw fail('ROLLCALL_FILTER_OPERATOR_MISMATCH', `'gt', 'ge', 'lt' and 'le' cannot be used with the ${type} attribute '${name}'`);
}

/** The literal as text, for comparing with a string attribute (`externalId eq 12345`). */
function literalText(v: CompareValue): string {
  return typeof v.value === 'string' ? v.value : (v.raw ?? String(v.value));
}

function compareStrings(op: CompareOp, a: string, b: string, caseExact: boolean): boolean {
  if (!caseExact) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  switch (op) {
    case 'co': return a.includes(b);
    case 'sw': return a.startsWith(b);
    case 'ew': return a.endsWith(b);
    default: return ordered(op, codePointCompare(a, b));
  }
}

/**
 * Orders by Unicode code point, as databases order UTF-8 text. JavaScript's `<`
 * compares UTF-16 code units, which puts emoji (surrogate pairs) before U+E000–U+FFFF.
 */
function codePointCompare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    const cx = a.codePointAt(i)!, cy = b.codePointAt(i)!;
    return cx < cy ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

function inferType(attr: unknown, literal: CompareValue): string | undefined {
  if (typeof attr === 'boolean') return 'boolean';
  if (typeof attr === 'number') return 'decimal';
  if (typeof attr !== 'string') return undefined; // nested objects/arrays: nothing to compare
  if (typeof literal.value === 'boolean' && asBoolean(attr) !== undefined) return 'boolean';
  if (typeof literal.value === 'string' && LOOKS_LIKE_DATETIME.test(attr) && LOOKS_LIKE_DATETIME.test(literal.value)) {
    return 'dateTime';
  }
  return 'string';
}

/** One stored value against the literal. `op` is never 'ne' here (handled as not-eq). */
function compareOne(op: CompareOp, attr: unknown, literal: CompareValue, path: AttrPath, ctx: Ctx, declared?: string): boolean {
  if (attr === undefined || attr === null) return false;
  const type = declared ?? inferType(attr, literal);
  switch (type) {
    case undefined:
      return false;
    case 'boolean': {
      if (ORDERING.has(op)) orderingNotAllowed(path, 'boolean');
      const a = asBoolean(attr), b = asBoolean(literal.value);
      return op === 'eq' && a !== undefined && a === b;
    }
    case 'integer':
    case 'decimal': {
      if (SUBSTRING.has(op)) return false;
      const a = asNumber(attr), b = asNumber(literal.value);
      if (a === undefined || b === undefined) return false;
      return ordered(op, a === b ? 0 : a < b ? -1 : 1);
    }
    case 'dateTime': {
      if (typeof attr !== 'string') return false;
      if (SUBSTRING.has(op)) return compareStrings(op, attr, literalText(literal), false);
      const a = parseInstant(attr), b = parseInstant(literalText(literal));
      if (!a || !b) return false;
      return ordered(op, compareInstants(a, b));
    }
    case 'binary':
      if (ORDERING.has(op)) orderingNotAllowed(path, 'binary');
      // base64 is case-sensitive whatever the schema says.
      return typeof attr === 'string' && compareStrings(op, attr, literalText(literal), true);
    default: {
      if (typeof attr === 'object') return false;
      const caseExact = ctx.opts.caseExact?.(path) ?? false;
      return compareStrings(op, String(attr), literalText(literal), caseExact);
    }
  }
}

/** The path as the callbacks should see it: inside a value filter, relative names are re-rooted. */
function fullPath(path: AttrPath, ctx: Ctx): AttrPath {
  if (!ctx.parent) return path;
  const full: AttrPath = { attr: ctx.parent.attr, sub: path.attr };
  if (ctx.parent.uri !== undefined) full.uri = ctx.parent.uri;
  return full;
}

function evalCompare(
  resource: Record<string, unknown>,
  path: AttrPath,
  op: CompareOp,
  literal: CompareValue,
  ctx: Ctx,
): boolean {
  if (op === 'ne') return !evalCompare(resource, path, 'eq', literal, ctx);
  const values = resolveValues(resource, path);
  if (literal.value === null) return op === 'eq' ? !values.some(isPresent) : false;

  const full = fullPath(path, ctx);
  const declared = ctx.opts.typeOf?.(full);
  // Decided from the filter alone, so the error does not depend on the data.
  if (ORDERING.has(op)) {
    if (typeof literal.value === 'boolean' || declared === 'boolean') orderingNotAllowed(full, 'boolean');
    if (declared === 'binary') orderingNotAllowed(full, 'binary');
  }
  return values.some((v) => {
    // A complex value compared without a sub-attribute is compared by its `value` (RFC 7644 §3.4.2.2).
    const scalar = path.sub === undefined && isRecord(v) ? getKey(v, 'value') : v;
    return compareOne(op, scalar, literal, full, ctx, declared);
  });
}

function evalNode(filter: Filter, resource: Record<string, unknown>, ctx: Ctx): boolean {
  switch (filter.kind) {
    case 'and':
      return evalNode(filter.left, resource, ctx) && evalNode(filter.right, resource, ctx);
    case 'or':
      return evalNode(filter.left, resource, ctx) || evalNode(filter.right, resource, ctx);
    case 'not':
      return !evalNode(filter.filter, resource, ctx);
    case 'present':
      return resolveValues(resource, filter.path).some(isPresent);
    case 'compare':
      return evalCompare(resource, filter.path, filter.op, filter.value, ctx);
    case 'valuePath': {
      const v = resolveAttr(resource, filter.path);
      const elements = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
      const inner: Ctx = { opts: ctx.opts, parent: fullPath(filter.path, ctx) };
      return elements.some((el) => evalNode(filter.filter, asElement(el), inner));
    }
  }
}

/** Simple multi-valued attributes hold scalars; let `[value eq "x"]` address them. */
function asElement(el: unknown): Record<string, unknown> {
  return isRecord(el) ? el : { value: el };
}

/** True when `resource` satisfies `filter`. Throws RollcallError(invalidFilter) for `gt` etc. on booleans/binary. */
export function evaluateFilter(filter: Filter, resource: Record<string, unknown>, opts: EvalOptions = {}): boolean {
  return evalNode(filter, resource, { opts });
}

/**
 * Indexes of the elements of a multi-valued attribute that satisfy a value filter
 * (the `[…]` of `emails[type eq "work"].value`); paths in `filter` name
 * sub-attributes. Pass `parent` (e.g. `{attr:'emails'}`) so the option callbacks
 * receive full paths; without it they see the relative ones.
 */
export function matchingIndexes(filter: Filter, values: unknown[], opts: EvalOptions = {}, parent?: AttrPath): number[] {
  const ctx: Ctx = { opts, parent };
  const out: number[] = [];
  values.forEach((el, i) => {
    if (evalNode(filter, asElement(el), ctx)) out.push(i);
  });
  return out;
}
