/**
 * A small reference evaluator for SCIM filters, written from RFC 7644 §3.4.2.2 and
 * the RFC 7643 schemas, independent of src/scim/filter (it has its own AST, its own
 * attribute table and its own date and case handling). The differential test
 * (filter-sql.fuzz.test.ts) generates filters in this AST, renders them to text,
 * and compares what the server selects with what this evaluator selects over the
 * resources as the server serves them (GET …/Users/{id}).
 *
 * Readings of the RFC where it is silent or ambiguous (each noted where applied):
 *
 * 1. Unassigned attributes: RFC 7643 §2.5 makes "unassigned", null and [] the same
 *    state. `pr` is false and every comparison is false, except `ne`: an unassigned
 *    value is not identical to any literal, so `title ne "x"` holds for a user
 *    without a title.
 * 2. `ne` on a multi-valued attribute: §3.4.2.2 says a filter on a multi-valued
 *    attribute matches "if any of the values" matches. Read literally, `emails.type
 *    ne "work"` holds when SOME e-mail is not of type work ('someDiffers', the
 *    default here). Rollcall implements "no e-mail is of type work" ('noneEquals',
 *    i.e. `not (emails.type eq "work")`); the two differ only for resources that
 *    have both a matching and a non-matching value. The differential test runs in
 *    'noneEquals' mode and this disagreement is reported, not silently matched.
 * 3. A multi-valued complex attribute compared without a sub-attribute
 *    (`emails co "x"`) is compared by its `value` sub-attribute (RFC 7643 §2.4 makes
 *    `value` the attribute's primary value).
 * 4. Refusals: ordering operators on booleans are a 400 invalidFilter (§3.4.2.2
 *    says so). A literal of the wrong type (a string for a boolean, a non-date for a
 *    dateTime) is "an attribute and filter comparison combination that is not
 *    supported", also invalidFilter (RFC 7644 Table 9). Both are decided from the
 *    filter alone, before any resource is looked at.
 */

export type RefOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type RefLiteral = string | boolean;

export interface RefPath {
  /** A schema URN written before the attribute (core or extension). */
  uri?: string;
  attr: string;
  sub?: string;
}

export type RefFilter =
  | { t: 'cmp'; path: RefPath; op: RefOp; value: RefLiteral; bare?: boolean }
  | { t: 'pr'; path: RefPath }
  | { t: 'and' | 'or'; l: RefFilter; r: RefFilter }
  | { t: 'not'; f: RefFilter }
  /** `attr[filter]`: the inner paths name sub-attributes of `attr`. */
  | { t: 'vp'; path: RefPath; f: RefFilter };

export type RefType = 'string' | 'boolean' | 'dateTime' | 'reference';

export interface RefAttr {
  type: RefType | 'complex';
  caseExact: boolean;
  multi?: boolean;
  subs?: Record<string, RefAttr>;
}

const s = (caseExact = false): RefAttr => ({ type: 'string', caseExact });
const bool: RefAttr = { type: 'boolean', caseExact: false };
const date: RefAttr = { type: 'dateTime', caseExact: false };

/** RFC 7643 §3.1: id and externalId are case-exact; meta.resourceType and meta.version too. */
const COMMON: Record<string, RefAttr> = {
  id: s(true),
  externalid: s(true),
  meta: {
    type: 'complex',
    caseExact: false,
    subs: { created: date, lastmodified: date, resourcetype: s(true), version: s(true), location: { type: 'reference', caseExact: true } },
  },
};

const multiComplex = (subs: Record<string, RefAttr>): RefAttr => ({ type: 'complex', caseExact: false, multi: true, subs });

export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** The User attributes the generator uses, from RFC 7643 §4.1 and §4.3 (keys lower-cased). */
export const USER_SCHEMA: Record<string, RefAttr> = {
  ...COMMON,
  username: s(),
  displayname: s(),
  nickname: s(),
  title: s(),
  usertype: s(),
  active: bool,
  name: { type: 'complex', caseExact: false, subs: { givenname: s(), familyname: s(), formatted: s() } },
  emails: multiComplex({ value: s(), type: s(), primary: bool, display: s() }),
  phonenumbers: multiComplex({ value: s(), type: s(), primary: bool }),
  groups: multiComplex({ value: s(true), display: s(), type: s() }),
};

export const ENTERPRISE_SCHEMA: Record<string, RefAttr> = {
  department: s(),
  employeenumber: s(),
  costcenter: s(),
  manager: { type: 'complex', caseExact: false, subs: { value: s(true) } },
};

export const GROUP_SCHEMA: Record<string, RefAttr> = {
  ...COMMON,
  displayname: s(),
  members: multiComplex({ value: s(true), display: s(), type: s() }),
};

/** A refusal the RFC requires (or allows) the server to answer with 400 invalidFilter. */
export class RefRefusal extends Error {
  readonly scimType = 'invalidFilter';
}

export type NeMode = 'someDiffers' | 'noneEquals';

export interface RefOptions {
  /** Reading 2 above. */
  neOnMultiValued?: NeMode;
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7644 §3.4.2.2: attribute names are case-insensitive. */
function lookup(obj: unknown, key: string): unknown {
  if (!isObj(obj)) return undefined;
  const lc = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lc) return obj[k];
  return undefined;
}

interface Located {
  /** The attribute's definition (the sub-attribute's when the path names one). */
  def: RefAttr;
  /** Whether the values come from a multi-valued attribute. */
  multi: boolean;
  /** The values at the path: scalars, or objects for complex attributes named without a sub-attribute. */
  values: unknown[];
}

export interface RefResourceType {
  core: string;
  attrs: Record<string, RefAttr>;
  extensions: Record<string, Record<string, RefAttr>>;
}

export const USER_TYPE: RefResourceType = { core: CORE_USER_URN, attrs: USER_SCHEMA, extensions: { [ENTERPRISE_URN.toLowerCase()]: ENTERPRISE_SCHEMA } };
export const GROUP_TYPE: RefResourceType = { core: CORE_GROUP_URN, attrs: GROUP_SCHEMA, extensions: {} };

function definition(rt: RefResourceType, path: RefPath): { def: RefAttr; container: (res: Json) => unknown } {
  let attrs = rt.attrs;
  let container = (res: Json): unknown => res;
  if (path.uri !== undefined && path.uri.toLowerCase() !== rt.core.toLowerCase()) {
    const ext = rt.extensions[path.uri.toLowerCase()];
    if (!ext) throw new Error(`reference: unknown schema ${path.uri}`);
    attrs = ext;
    const uri = path.uri;
    container = (res) => lookup(res, uri);
  }
  const def = attrs[path.attr.toLowerCase()];
  if (!def) throw new Error(`reference: unknown attribute ${path.attr}`);
  return { def, container };
}

function subDef(def: RefAttr, sub: string): RefAttr {
  const d = def.subs?.[sub.toLowerCase()];
  if (!d) throw new Error(`reference: unknown sub-attribute ${sub}`);
  return d;
}

function locate(rt: RefResourceType, res: Json, path: RefPath): Located {
  const { def, container } = definition(rt, path);
  const raw = lookup(container(res), path.attr);
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  if (path.sub !== undefined) {
    const sd = subDef(def, path.sub);
    const sub = path.sub;
    return { def: sd, multi: !!def.multi, values: list.map((el) => lookup(el, sub)).filter((v) => v !== undefined && v !== null) };
  }
  // Reading 3: a multi-valued complex attribute named alone stands for its `value`s.
  if (def.multi && def.type === 'complex') {
    return { def: subDef(def, 'value'), multi: true, values: list.map((el) => lookup(el, 'value')).filter((v) => v !== undefined && v !== null) };
  }
  return { def, multi: !!def.multi, values: list };
}

/** RFC 7644 `pr`: a non-empty value, or a complex value with a non-empty node. */
function nonEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(nonEmpty);
  if (isObj(v)) return Object.values(v).some(nonEmpty);
  return true;
}

/** An xsd:dateTime as [epoch seconds, fraction digits], or undefined. Own parser: no Date.parse leniency. */
export function parseDateTime(text: string): [number, string] | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac = '', zone] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(se);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  let epoch = Date.UTC(Number(y), month - 1, day, hour, minute, second) / 1000;
  if (new Date(epoch * 1000).getUTCDate() !== day) return undefined; // 31 February
  if (zone !== 'Z') {
    const sign = zone[0] === '+' ? 1 : -1;
    epoch -= sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  }
  return [epoch, frac.replace(/0+$/, '')];
}

function compareDates(a: [number, string], b: [number, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  const w = Math.max(a[1].length, b[1].length);
  const fa = a[1].padEnd(w, '0'), fb = b[1].padEnd(w, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/** Lexicographic by code point (RFC 7644: "a lexicographical comparison"). */
function compareText(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const cx = x[i].codePointAt(0)!, cy = y[i].codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

const ORDERING = new Set<RefOp>(['gt', 'ge', 'lt', 'le']);
const SUBSTRING = new Set<RefOp>(['co', 'sw', 'ew']);

function byOrder(op: RefOp, cmp: number): boolean {
  switch (op) {
    case 'eq': return cmp === 0;
    case 'gt': return cmp > 0;
    case 'ge': return cmp >= 0;
    case 'lt': return cmp < 0;
    case 'le': return cmp <= 0;
    default: throw new Error(`reference: ${op} is not an ordering`);
  }
}

/** One value against the literal, `op` never `ne`. */
function matchOne(def: RefAttr, op: RefOp, v: unknown, lit: RefLiteral): boolean {
  switch (def.type) {
    case 'boolean':
      return op === 'eq' && v === lit;
    case 'dateTime': {
      const a = typeof v === 'string' ? parseDateTime(v) : undefined;
      const b = parseDateTime(String(lit));
      return !!a && !!b && byOrder(op, compareDates(a, b));
    }
    default: {
      if (typeof v !== 'string') return false;
      // RFC 7644 §3.4.2.2: case sensitivity follows the attribute's caseExact.
      const a = def.caseExact ? v : v.toLowerCase();
      const b = def.caseExact ? String(lit) : String(lit).toLowerCase();
      if (op === 'co') return a.includes(b);
      if (op === 'sw') return a.startsWith(b);
      if (op === 'ew') return a.endsWith(b);
      return byOrder(op, compareText(a, b));
    }
  }
}

function compare(located: Located, op: RefOp, lit: RefLiteral, opts: RefOptions): boolean {
  // "" is a value (only `pr` calls it empty); unassigned values were dropped by locate().
  const present = located.values;
  if (op === 'ne') {
    // Reading 1: an unassigned attribute is not identical to any literal.
    if (present.length === 0) return true;
    if (located.multi && (opts.neOnMultiValued ?? 'someDiffers') === 'someDiffers') {
      return present.some((v) => !matchOne(located.def, 'eq', v, lit));
    }
    return !present.some((v) => matchOne(located.def, 'eq', v, lit));
  }
  return present.some((v) => matchOne(located.def, op, v, lit));
}

/** Reading 4: the refusals, decided from the filter and the schema alone. Throws RefRefusal. */
function check(rt: RefResourceType, f: RefFilter, parent?: RefAttr): void {
  switch (f.t) {
    case 'and':
    case 'or':
      check(rt, f.l, parent);
      check(rt, f.r, parent);
      return;
    case 'not':
      check(rt, f.f, parent);
      return;
    case 'vp':
      check(rt, f.f, definition(rt, f.path).def);
      return;
    case 'pr':
      return;
    case 'cmp': {
      let def: RefAttr;
      if (parent) def = subDef(parent, f.path.attr);
      else {
        const d = definition(rt, f.path).def;
        def = f.path.sub !== undefined ? subDef(d, f.path.sub) : d.multi && d.type === 'complex' ? subDef(d, 'value') : d;
      }
      if (def.type === 'complex') throw new RefRefusal(`${f.path.attr} is complex`);
      if (def.type === 'boolean') {
        if (ORDERING.has(f.op) || SUBSTRING.has(f.op)) throw new RefRefusal(`${f.op} on a boolean`);
        if (typeof f.value !== 'boolean') throw new RefRefusal('a boolean compared with a string');
      } else if (typeof f.value === 'boolean') {
        if (f.op !== 'eq' && f.op !== 'ne') throw new RefRefusal(`${f.op} with a boolean literal`);
      }
      if (def.type === 'dateTime' && !SUBSTRING.has(f.op) && !parseDateTime(String(f.value))) throw new RefRefusal('not a dateTime');
    }
  }
}

function evalIn(rt: RefResourceType, f: RefFilter, res: Json, opts: RefOptions, parent?: RefAttr): boolean {
  switch (f.t) {
    case 'and':
      return evalIn(rt, f.l, res, opts, parent) && evalIn(rt, f.r, res, opts, parent);
    case 'or':
      return evalIn(rt, f.l, res, opts, parent) || evalIn(rt, f.r, res, opts, parent);
    case 'not':
      return !evalIn(rt, f.f, res, opts, parent);
    case 'pr':
    case 'cmp': {
      let located: Located;
      if (parent) {
        // Inside `attr[…]`, `res` is one element and paths name its sub-attributes.
        const v = lookup(res, f.path.attr);
        located = { def: subDef(parent, f.path.attr), multi: false, values: v === undefined || v === null ? [] : [v] };
      } else {
        located = locate(rt, res, f.path);
      }
      if (f.t === 'pr') return located.values.some(nonEmpty);
      return compare(located, f.op, f.value, opts);
    }
    case 'vp': {
      const { def, container } = definition(rt, f.path);
      const raw = lookup(container(res), f.path.attr);
      const elements = Array.isArray(raw) ? raw : isObj(raw) ? [raw] : [];
      return elements.some((el) => isObj(el) && evalIn(rt, f.f, el, opts, def));
    }
  }
}

/** The ids of `resources` that `filter` selects; throws RefRefusal when the server must refuse it. */
export function referenceSelect(rt: RefResourceType, filter: RefFilter, resources: Json[], opts: RefOptions = {}): string[] {
  check(rt, filter);
  return resources.filter((r) => evalIn(rt, filter, r, opts)).map((r) => String(r.id));
}

/** Whether `filter` uses `ne` on a multi-valued attribute (where reading 2 matters). */
export function usesNeOnMultiValued(rt: RefResourceType, f: RefFilter): boolean {
  switch (f.t) {
    case 'and':
    case 'or':
      return usesNeOnMultiValued(rt, f.l) || usesNeOnMultiValued(rt, f.r);
    case 'not':
      return usesNeOnMultiValued(rt, f.f);
    case 'cmp':
      return f.op === 'ne' && !!definition(rt, f.path).def.multi;
    default:
      return false;
  }
}

function quote(v: string): string {
  return JSON.stringify(v);
}

export interface RenderStyle {
  /** Returns a spelling of a keyword or name: the fuzzer varies case (names and operators are case-insensitive). */
  word(w: string): string;
  /** Whitespace between tokens (one or more of space, tab, newline). */
  space(): string;
  /** Whether to wrap this sub-expression in extra parentheses. */
  paren(): boolean;
}

const PLAIN: RenderStyle = { word: (w) => w, space: () => ' ', paren: () => false };

function renderPath(p: RefPath, st: RenderStyle): string {
  const name = st.word(p.attr) + (p.sub !== undefined ? `.${st.word(p.sub)}` : '');
  return p.uri !== undefined ? `${p.uri}:${name}` : name;
}

/** Precedence: or < and < not/atoms. Parentheses where the tree needs them, and where the style adds them. */
export function renderFilter(f: RefFilter, st: RenderStyle = PLAIN, ctx: 'top' | 'or' | 'and' = 'top'): string {
  const sp = () => st.space();
  let out: string;
  let needs = false;
  switch (f.t) {
    case 'cmp': {
      const lit = typeof f.value === 'boolean' ? st.word(String(f.value)) : f.bare ? f.value : quote(f.value);
      out = `${renderPath(f.path, st)}${sp()}${st.word(f.op)}${sp()}${lit}`;
      break;
    }
    case 'pr':
      out = `${renderPath(f.path, st)}${sp()}${st.word('pr')}`;
      break;
    case 'not':
      out = `${st.word('not')}${st.paren() ? sp() : ''}(${renderFilter(f.f, st, 'top')})`;
      break;
    case 'vp':
      out = `${renderPath(f.path, st)}[${renderFilter(f.f, st, 'top')}]`;
      break;
    case 'and':
      out = `${renderFilter(f.l, st, 'and')}${sp()}${st.word('and')}${sp()}${renderFilter(f.r, st, 'and')}`;
      break;
    case 'or':
      out = `${renderFilter(f.l, st, 'or')}${sp()}${st.word('or')}${sp()}${renderFilter(f.r, st, 'or')}`;
      needs = ctx === 'and'; // `and` binds tighter than `or`
      break;
  }
  return needs || (f.t !== 'not' && f.t !== 'vp' && ctx !== 'top' && st.paren()) ? `(${out})` : out;
}
