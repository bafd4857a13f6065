/**
 * fast-check arbitraries for SCIM filters in the reference AST (reference-filter.ts):
 * attributes of the resource type, every operator, and/or/not, parentheses, value
 * paths, literals drawn from the seeded data (recased, cut into substrings, dates
 * moved by a few milliseconds or written in another time zone) and made up ones.
 * Rendering varies keyword and name case, whitespace and redundant parentheses.
 */
import fc from 'fast-check';
import {
  CORE_USER_URN,
  ENTERPRISE_URN,
  type RefFilter,
  type RefOp,
  type RefPath,
  type RenderStyle,
  type RefType,
} from './reference-filter.js';

export interface Field {
  path: RefPath;
  type: RefType;
  /** Values of this attribute in the data set (strings as served). */
  pool: string[];
}

/** A multi-valued complex attribute usable as `attr[…]`, with its sub-attribute fields. */
export interface ValuePathField {
  path: RefPath;
  subs: Field[];
}

export interface Grammar {
  fields: Field[];
  valuePaths: ValuePathField[];
}

type Json = Record<string, unknown>;

function get(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? (obj as Json)[key] : undefined;
}

/** Every string value at `attr[.sub]` (flattened over arrays) in `docs`. */
function collect(docs: Json[], attr: string, sub?: string, container?: string): string[] {
  const out = new Set<string>();
  for (const d of docs) {
    const base = container ? get(d, container) : d;
    const v = get(base, attr);
    const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
    for (const el of list) {
      const x = sub === undefined ? el : get(el, sub);
      if (typeof x === 'string') out.add(x);
    }
  }
  return [...out];
}

const f = (path: RefPath, type: RefType, pool: string[]): Field => ({ path, type, pool: pool.length ? pool : ['x'] });

export function userGrammar(users: Json[]): Grammar {
  const c = (attr: string, sub?: string) => collect(users, attr, sub);
  const ent = (attr: string, sub?: string) => {
    const vals = collect(users, attr, undefined, ENTERPRISE_URN);
    return sub === undefined ? vals : collect(users.map((u) => (get(u, ENTERPRISE_URN) ?? {}) as Json), attr, sub);
  };
  const dates = [...c('meta', 'created'), ...c('meta', 'lastModified')];
  const metaDates = users.flatMap((u) => [get(get(u, 'meta'), 'created'), get(get(u, 'meta'), 'lastModified')]).filter((x): x is string => typeof x === 'string');
  const fields: Field[] = [
    f({ attr: 'id' }, 'string', users.map((u) => String(u.id))),
    f({ attr: 'externalId' }, 'string', c('externalId')),
    f({ attr: 'userName' }, 'string', c('userName')),
    f({ uri: CORE_USER_URN, attr: 'userName' }, 'string', c('userName')),
    f({ attr: 'displayName' }, 'string', c('displayName')),
    f({ attr: 'nickName' }, 'string', c('nickName')),
    f({ attr: 'title' }, 'string', c('title')),
    f({ attr: 'userType' }, 'string', c('userType')),
    f({ attr: 'active' }, 'boolean', []),
    f({ attr: 'name', sub: 'givenName' }, 'string', c('name', 'givenName')),
    f({ attr: 'name', sub: 'familyName' }, 'string', c('name', 'familyName')),
    f({ attr: 'name', sub: 'formatted' }, 'string', c('name', 'formatted')),
    f({ attr: 'emails' }, 'string', c('emails', 'value')),
    f({ attr: 'emails', sub: 'value' }, 'string', c('emails', 'value')),
    f({ attr: 'emails', sub: 'type' }, 'string', c('emails', 'type')),
    f({ attr: 'emails', sub: 'primary' }, 'boolean', []),
    f({ attr: 'phoneNumbers', sub: 'value' }, 'string', c('phoneNumbers', 'value')),
    f({ attr: 'phoneNumbers', sub: 'type' }, 'string', c('phoneNumbers', 'type')),
    f({ attr: 'groups', sub: 'value' }, 'string', c('groups', 'value')),
    f({ attr: 'groups', sub: 'display' }, 'string', c('groups', 'display')),
    f({ attr: 'meta', sub: 'created' }, 'dateTime', metaDates.length ? metaDates : dates),
    f({ attr: 'meta', sub: 'lastModified' }, 'dateTime', metaDates.length ? metaDates : dates),
    f({ attr: 'meta', sub: 'resourceType' }, 'string', ['User', 'Group']),
    f({ uri: ENTERPRISE_URN, attr: 'department' }, 'string', ent('department')),
    f({ uri: ENTERPRISE_URN, attr: 'employeeNumber' }, 'string', ent('employeeNumber')),
    f({ uri: ENTERPRISE_URN, attr: 'manager', sub: 'value' }, 'string', ent('manager', 'value')),
  ];
  const valuePaths: ValuePathField[] = [
    {
      path: { attr: 'emails' },
      subs: [f({ attr: 'value' }, 'string', c('emails', 'value')), f({ attr: 'type' }, 'string', c('emails', 'type')), f({ attr: 'primary' }, 'boolean', [])],
    },
    {
      path: { attr: 'phoneNumbers' },
      subs: [f({ attr: 'value' }, 'string', c('phoneNumbers', 'value')), f({ attr: 'type' }, 'string', c('phoneNumbers', 'type')), f({ attr: 'primary' }, 'boolean', [])],
    },
    {
      path: { attr: 'groups' },
      subs: [f({ attr: 'value' }, 'string', c('groups', 'value')), f({ attr: 'display' }, 'string', c('groups', 'display')), f({ attr: 'type' }, 'string', ['direct', 'indirect'])],
    },
  ];
  return { fields, valuePaths };
}

export function groupGrammar(groups: Json[]): Grammar {
  const c = (attr: string, sub?: string) => collect(groups, attr, sub);
  const metaDates = groups.flatMap((g) => [get(get(g, 'meta'), 'created'), get(get(g, 'meta'), 'lastModified')]).filter((x): x is string => typeof x === 'string');
  const fields: Field[] = [
    f({ attr: 'id' }, 'string', groups.map((g) => String(g.id))),
    f({ attr: 'externalId' }, 'string', c('externalId')),
    f({ attr: 'displayName' }, 'string', c('displayName')),
    f({ attr: 'members' }, 'string', c('members', 'value')),
    f({ attr: 'members', sub: 'value' }, 'string', c('members', 'value')),
    f({ attr: 'members', sub: 'display' }, 'string', c('members', 'display')),
    f({ attr: 'meta', sub: 'created' }, 'dateTime', metaDates),
    f({ attr: 'meta', sub: 'lastModified' }, 'dateTime', metaDates),
  ];
  const valuePaths: ValuePathField[] = [
    { path: { attr: 'members' }, subs: [f({ attr: 'value' }, 'string', c('members', 'value')), f({ attr: 'display' }, 'string', c('members', 'display')), f({ attr: 'type' }, 'string', ['User', 'Group'])] },
  ];
  return { fields, valuePaths };
}

/** Random case flips: names, operators and case-insensitive values must not care. */
export function recase(text: string, bits: number): string {
  let out = '';
  let i = 0;
  for (const ch of text) {
    out += (bits >> (i++ % 31)) & 1 ? ch.toUpperCase() : ch.toLowerCase();
  }
  // toUpperCase can lengthen a character (ß → SS); keep the original then.
  return [...out].length === [...text].length ? out : text;
}

/** Characters made-up literals are drawn from: ASCII, JSON escapes, and scripts the seed data uses. */
const LITERAL_CHARS = ['a', 'e', 'o', 'x', 'A', 'E', '.', '@', '-', '_', ' ', '"', '\\', '/', 'é', 'É', 'ü', 'ß', 'ж', 'Ж', 'ω', '日', '😀', '1', '0'];

const madeUpString = fc.array(fc.constantFrom(...LITERAL_CHARS), { minLength: 0, maxLength: 6 }).map((a) => a.join(''));

/** A string literal for a field: a data value (maybe recased), a piece of one, or a made-up string. */
function stringLiteral(field: Field, op: RefOp): fc.Arbitrary<string> {
  const fromPool = fc.constantFrom(...field.pool);
  const piece = fc.tuple(fromPool, fc.nat(), fc.nat()).map(([v, a, b]) => {
    const chars = [...v];
    const i = a % (chars.length + 1), j = b % (chars.length + 1);
    return op === 'sw' ? chars.slice(0, Math.max(i, j)).join('') : op === 'ew' ? chars.slice(Math.min(i, j)).join('') : chars.slice(Math.min(i, j), Math.max(i, j)).join('');
  });
  const recased = fc.tuple(fromPool, fc.integer()).map(([v, bits]) => recase(v, bits));
  return fc.oneof({ weight: 4, arbitrary: fromPool }, { weight: 3, arbitrary: recased }, { weight: SUBSTRING_OPS.has(op) ? 4 : 1, arbitrary: piece }, { weight: 1, arbitrary: madeUpString });
}

const SUBSTRING_OPS = new Set<RefOp>(['co', 'sw', 'ew']);

/** A dateTime literal near a data value: shifted, in another zone, with more or fewer fraction digits. */
function dateLiteral(field: Field): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(...field.pool),
      fc.constantFrom(0, 0, 0, 1, -1, 999, -1000, 60_000, -3_600_000, 86_400_000),
      fc.constantFrom('Z', 'z', '+00:00', '+02:00', '-05:30'),
      fc.constantFrom('', '.SSS', '.SSS', '.S', '.SSS000', '.SSS4'),
    )
    .map(([iso, shift, zone, frac]) => {
      const ms = Date.parse(iso) + shift;
      const offsetMin = zone === 'Z' || zone === 'z' ? 0 : (zone[0] === '+' ? 1 : -1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      const local = new Date(ms + offsetMin * 60_000).toISOString(); // yyyy-mm-ddThh:mm:ss.SSSZ in the zone
      const millis = local.slice(20, 23);
      const fraction = frac === '' ? '' : frac.replace('SSS', millis).replace('.S', `.${millis[0]}`);
      return `${local.slice(0, 19)}${fraction}${zone === 'z' ? 'Z' : zone}`;
    });
}

const BARE = /^[A-Za-z][A-Za-z0-9_.@-]*$/;
const NOT_BARE = /^(true|false|null)$/i;

function compareArb(field: Field, inBrackets: boolean): fc.Arbitrary<RefFilter> {
  const path = field.path;
  if (field.type === 'boolean') {
    return fc
      .tuple(fc.constantFrom<RefOp>('eq', 'eq', 'ne', 'ne', 'gt'), fc.boolean())
      .map(([op, value]): RefFilter => ({ t: 'cmp', path, op, value }));
  }
  const ops: RefOp[] = field.type === 'dateTime' ? ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] : ['eq', 'eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
  return fc.constantFrom(...ops).chain((op) =>
    fc
      .tuple(field.type === 'dateTime' ? dateLiteral(field) : stringLiteral(field, op), fc.nat(4))
      .map(([value, b]): RefFilter => {
        const bare = b === 0 && !inBrackets && BARE.test(value) && !NOT_BARE.test(value) && !/^-?\d/.test(value);
        return bare ? { t: 'cmp', path, op, value, bare } : { t: 'cmp', path, op, value };
      }),
  );
}

function atomArb(fields: Field[], inBrackets: boolean): fc.Arbitrary<RefFilter> {
  return fc.constantFrom(...fields).chain((field) =>
    fc.oneof({ weight: 5, arbitrary: compareArb(field, inBrackets) }, { weight: 1, arbitrary: fc.constant<RefFilter>({ t: 'pr', path: field.path }) }),
  );
}

/** A logical tree over `atom` up to `depth` levels. */
function treeArb(atom: fc.Arbitrary<RefFilter>, extra: fc.Arbitrary<RefFilter>[], depth: number): fc.Arbitrary<RefFilter> {
  const { node } = fc.letrec<{ node: RefFilter }>((tie) => ({
    node: fc.oneof(
      { maxDepth: depth, depthIdentifier: 'filter' },
      { weight: 4, arbitrary: atom },
      ...extra.map((arbitrary) => ({ weight: 2, arbitrary })),
      { weight: 2, arbitrary: fc.tuple(tie('node'), tie('node')).map(([l, r]): RefFilter => ({ t: 'and', l, r })) },
      { weight: 2, arbitrary: fc.tuple(tie('node'), tie('node')).map(([l, r]): RefFilter => ({ t: 'or', l, r })) },
      { weight: 1, arbitrary: tie('node').map((inner): RefFilter => ({ t: 'not', f: inner })) },
    ),
  }));
  return node;
}

export function filterArb(g: Grammar, depth = 3): fc.Arbitrary<RefFilter> {
  const valuePath = fc.constantFrom(...g.valuePaths).chain((vp) =>
    treeArb(atomArb(vp.subs, true), [], 2).map((inner): RefFilter => ({ t: 'vp', path: vp.path, f: inner })),
  );
  return treeArb(atomArb(g.fields, false), [valuePath], depth);
}

/** A deterministic rendering style from a seed: case of names and keywords, whitespace, extra parentheses. */
export function styleFrom(seed: number): RenderStyle {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    word: (w) => (next() % 3 === 0 ? recase(w, next()) : w),
    space: () => (next() % 8 === 0 ? ['  ', '\t', ' \n '][next() % 3] : ' '),
    paren: () => next() % 5 === 0,
  };
}
