/**
 * Random SCIM filters from a small grammar over the attributes the seeded data
 * uses. Values come mostly from the data itself (so filters match something),
 * re-cased, cut into substrings for co/sw/ew, or occasionally random.
 *
 * The generator writes filter TEXT; both consumers see whatever `parseFilter`
 * makes of it, so operator precedence etc. need no care here.
 */
import { Rng } from './rng.js';
import { ENT, CORE_USER_URN, CORE_GROUP_URN } from './seed.js';

type Kind = 'string' | 'boolean' | 'dateTime';

interface SubSpec {
  name: string;
  kind: Kind;
  pool: string[];
}

interface ScalarSpec {
  type: 'scalar';
  /** Attribute name as the schema spells it, with `.sub` when complex. */
  name: string;
  /** Extension URN the attribute lives under (always written qualified). */
  uri?: string;
  kind: Kind;
  pool: string[];
  weight: number;
}

interface MultiSpec {
  type: 'multi';
  name: string;
  uri?: string;
  subs: SubSpec[];
  weight: number;
}

/** `name pr` for a complex single-valued attribute. */
interface ComplexSpec {
  type: 'complex';
  name: string;
  uri?: string;
  weight: number;
}

type Spec = ScalarSpec | MultiSpec | ComplexSpec;

export interface Grammar {
  specs: Spec[];
  coreUrn: string;
}

type Res = Record<string, unknown>;

function ci(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const lc = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lc) return v;
  return undefined;
}

/** Every string form of the values at `uri:attr.sub` across resources (deduplicated). */
function poolOf(resources: Res[], attr: string, sub?: string, uri?: string, extra: string[] = []): string[] {
  const out = new Set<string>(extra);
  for (const r of resources) {
    const top = uri ? ci(ci(r, uri), attr) : ci(r, attr);
    const list = Array.isArray(top) ? top : top === undefined ? [] : [top];
    for (const el of list) {
      const v = sub ? ci(el, sub) : el;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.add(String(v));
    }
  }
  return [...out];
}

function scalar(resources: Res[], name: string, kind: Kind, weight: number, uri?: string, extra: string[] = []): ScalarSpec {
  const [attr, sub] = name.split('.');
  return { type: 'scalar', name, uri, kind, pool: poolOf(resources, attr, sub, uri, extra), weight };
}

const RANDOM_WORDS = ['zzz', 'nobody', 'Q', '@', '.', '-', 'é', 'SS', 'ß', 'i̇', '1', '%', '_', 'ext', 'a"b', 'back\\', '\u00a0'];

export function userGrammar(users: Res[], groups: Res[]): Grammar {
  const groupIds = poolOf(groups, 'id');
  const groupNames = poolOf(groups, 'displayName');
  return {
    coreUrn: CORE_USER_URN,
    specs: [
      scalar(users, 'userName', 'string', 10),
      scalar(users, 'displayName', 'string', 6),
      scalar(users, 'title', 'string', 5),
      scalar(users, 'name.givenName', 'string', 3),
      scalar(users, 'name.familyName', 'string', 3),
      scalar(users, 'name.formatted', 'string', 1),
      scalar(users, 'nickName', 'string', 0.5, undefined, ['bob']),
      scalar(users, 'externalId', 'string', 6),
      scalar(users, 'id', 'string', 4),
      scalar(users, 'department', 'string', 4, ENT),
      scalar(users, 'employeeNumber', 'string', 3, ENT),
      scalar(users, 'costCenter', 'string', 2, ENT),
      scalar(users, 'manager.value', 'string', 2, ENT),
      scalar(users, 'meta.resourceType', 'string', 0.5, undefined, ['user', 'Group']),
      scalar(users, 'meta.version', 'string', 0.5, undefined, ['W/"3"']),
      scalar(users, 'active', 'boolean', 5),
      scalar(users, 'meta.created', 'dateTime', 3),
      scalar(users, 'meta.lastModified', 'dateTime', 4),
      { type: 'complex', name: 'name', weight: 1 },
      { type: 'complex', name: 'manager', uri: ENT, weight: 1 },
      {
        type: 'multi',
        name: 'emails',
        weight: 10,
        subs: [
          { name: 'value', kind: 'string', pool: poolOf(users, 'emails', 'value') },
          { name: 'type', kind: 'string', pool: poolOf(users, 'emails', 'type', undefined, ['work', 'home', 'other']) },
          { name: 'primary', kind: 'boolean', pool: [] },
        ],
      },
      {
        type: 'multi',
        name: 'phoneNumbers',
        weight: 3,
        subs: [
          { name: 'value', kind: 'string', pool: poolOf(users, 'phoneNumbers', 'value') },
          { name: 'type', kind: 'string', pool: poolOf(users, 'phoneNumbers', 'type', undefined, ['mobile', 'work']) },
          { name: 'primary', kind: 'boolean', pool: [] },
        ],
      },
      {
        type: 'multi',
        name: 'addresses',
        weight: 2,
        subs: [
          { name: 'locality', kind: 'string', pool: poolOf(users, 'addresses', 'locality') },
          { name: 'type', kind: 'string', pool: poolOf(users, 'addresses', 'type', undefined, ['work', 'home']) },
          { name: 'country', kind: 'string', pool: poolOf(users, 'addresses', 'country') },
        ],
      },
      {
        type: 'multi',
        name: 'groups',
        weight: 4,
        subs: [
          { name: 'value', kind: 'string', pool: groupIds },
          { name: 'display', kind: 'string', pool: groupNames },
          { name: 'type', kind: 'string', pool: ['direct', 'Direct', 'indirect'] },
        ],
      },
    ],
  };
}

export function groupGrammar(groups: Res[], users: Res[]): Grammar {
  return {
    coreUrn: CORE_GROUP_URN,
    specs: [
      scalar(groups, 'displayName', 'string', 10),
      scalar(groups, 'externalId', 'string', 5),
      scalar(groups, 'id', 'string', 4),
      scalar(groups, 'meta.created', 'dateTime', 3),
      scalar(groups, 'meta.lastModified', 'dateTime', 3),
      scalar(groups, 'meta.resourceType', 'string', 0.5, undefined, ['group']),
      {
        type: 'multi',
        name: 'members',
        weight: 10,
        subs: [
          // Ids of members and of users that are in no group at all (or deleted).
          { name: 'value', kind: 'string', pool: [...poolOf(groups, 'members', 'value'), ...poolOf(users, 'id').slice(0, 40)] },
          { name: 'display', kind: 'string', pool: poolOf(groups, 'members', 'display') },
          { name: 'type', kind: 'string', pool: ['User', 'user', 'Group'] },
        ],
      },
    ],
  };
}

export interface GenOptions {
  maxDepth: number;
}

export class FilterGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly g: Grammar,
    private readonly opts: GenOptions = { maxDepth: 3 },
  ) {}

  filter(): string {
    return this.expr(0);
  }

  private kw(word: string): string {
    return this.rng.recase(word, 0.1);
  }

  private expr(depth: number): string {
    const r = this.rng;
    if (depth >= this.opts.maxDepth || r.chance(0.45)) return this.atom();
    const wrap = (s: string) => (r.chance(0.4) ? `(${s})` : s);
    return r.weighted([
      [35, () => `${wrap(this.expr(depth + 1))} ${this.kw('and')} ${wrap(this.expr(depth + 1))}`],
      [30, () => `${wrap(this.expr(depth + 1))} ${this.kw('or')} ${wrap(this.expr(depth + 1))}`],
      [20, () => `${this.kw('not')} (${this.expr(depth + 1)})`],
      [5, () => `(${this.expr(depth + 1)})`],
    ] as const)();
  }

  private atom(): string {
    const spec = this.rng.weighted(this.g.specs.map((s) => [s.weight, s] as const));
    switch (spec.type) {
      case 'scalar':
        return this.scalarAtom(this.pathText(spec.name, spec.uri), spec.kind, spec.pool);
      case 'complex':
        return `${this.pathText(spec.name, spec.uri)} ${this.kw('pr')}`;
      case 'multi':
        return this.multiAtom(spec);
    }
  }

  /** `[uri:]attr[.sub]` with case variation, core attributes sometimes URN-qualified. */
  private pathText(name: string, uri?: string): string {
    const r = this.rng;
    const n = r.chance(0.15) ? r.recase(name, 1) : name;
    if (uri) return `${r.chance(0.15) ? r.recase(uri, 1) : uri}:${n}`;
    if (r.chance(0.08)) return `${r.chance(0.2) ? r.recase(this.g.coreUrn, 1) : this.g.coreUrn}:${n}`;
    return n;
  }

  private multiAtom(spec: MultiSpec): string {
    const r = this.rng;
    const attr = this.pathText(spec.name, spec.uri);
    return r.weighted([
      // `emails op v`: compared by value
      [15, () => {
        const sub = spec.subs.find((s) => s.name === 'value') ?? spec.subs[0];
        return this.scalarAtom(attr, sub.kind, sub.pool);
      }],
      // `emails.type op v`
      [30, () => {
        const sub = r.pick(spec.subs);
        return this.scalarAtom(`${attr}.${r.chance(0.15) ? r.recase(sub.name, 1) : sub.name}`, sub.kind, sub.pool);
      }],
      // `emails[type eq "work" and value co "x"]`
      [45, () => `${attr}[${this.inner(spec, 0)}]`],
      [5, () => `${attr} ${this.kw('pr')}`],
      [2, () => `${attr} ${this.kw(r.pick(['eq', 'ne']))} null`],
    ] as const)();
  }

  /** A value filter's body: relative sub-attribute names. */
  private inner(spec: MultiSpec, depth: number): string {
    const r = this.rng;
    if (depth >= 2 || r.chance(0.5)) {
      const sub = r.pick(spec.subs);
      return this.scalarAtom(r.chance(0.15) ? r.recase(sub.name, 1) : sub.name, sub.kind, sub.pool);
    }
    return r.weighted([
      [45, () => `${this.inner(spec, depth + 1)} ${this.kw('and')} ${this.inner(spec, depth + 1)}`],
      [30, () => `${this.inner(spec, depth + 1)} ${this.kw('or')} ${this.inner(spec, depth + 1)}`],
      [15, () => `${this.kw('not')} (${this.inner(spec, depth + 1)})`],
      [10, () => `(${this.inner(spec, depth + 1)})`],
    ] as const)();
  }

  private scalarAtom(path: string, kind: Kind, pool: string[]): string {
    const r = this.rng;
    const op = (o: string) => this.kw(o);
    if (r.chance(0.03)) return `${path} ${op(r.pick(['eq', 'ne']))} null`;
    if (r.chance(0.004)) return `${path} ${op(r.pick(['gt', 'co', 'le']))} null`;
    switch (kind) {
      case 'boolean': {
        const o = r.weighted([[60, 'eq'], [25, 'ne'], [10, 'pr'], [1, 'gt']] as const);
        if (o === 'pr') return `${path} ${op('pr')}`;
        const v = r.weighted([[85, r.pick(['true', 'false'])], [10, r.pick(['"true"', '"False"', 'TRUE'])], [1, r.pick(['"yes"', '1'])]] as const);
        return `${path} ${op(o)} ${v}`;
      }
      case 'dateTime': {
        const o = r.weighted([[20, 'eq'], [10, 'ne'], [20, 'gt'], [15, 'ge'], [20, 'lt'], [10, 'le'], [3, 'pr'], [1, 'sw']] as const);
        if (o === 'pr') return `${path} ${op('pr')}`;
        if (o === 'sw') return `${path} ${op('sw')} ${JSON.stringify(r.pick(pool).slice(0, r.int(4, 10)))}`;
        return `${path} ${op(o)} ${this.dateValue(pool)}`;
      }
      case 'string': {
        const o = r.weighted([
          [25, 'eq'], [10, 'ne'], [15, 'co'], [12, 'sw'], [10, 'ew'], [4, 'gt'], [4, 'ge'], [4, 'lt'], [4, 'le'], [8, 'pr'],
        ] as const);
        if (o === 'pr') return `${path} ${op('pr')}`;
        return `${path} ${op(o)} ${this.renderString(this.stringValue(o, pool))}`;
      }
    }
  }

  private stringValue(op: string, pool: string[]): string {
    const r = this.rng;
    if (pool.length === 0 || r.chance(0.08)) return r.pick(RANDOM_WORDS);
    if (r.chance(0.02)) return '';
    let v = r.pick(pool);
    if (op === 'co' || op === 'sw' || op === 'ew') {
      const chars = [...v];
      const len = r.int(1, Math.max(1, Math.min(chars.length, 6)));
      if (op === 'sw') v = chars.slice(0, len).join('');
      else if (op === 'ew') v = chars.slice(chars.length - len).join('');
      else {
        const start = r.int(0, Math.max(0, chars.length - len));
        v = chars.slice(start, start + len).join('');
      }
    }
    return r.recase(v, 0.35);
  }

  /** Usually a JSON string; sometimes bare (Entra ID's `externalId eq jyoung`). */
  private renderString(v: string): string {
    if (/^[A-Za-z0-9._@+-]+$/.test(v) && this.rng.chance(0.1)) return v;
    return JSON.stringify(v);
  }

  /** A dateTime near a seeded timestamp, with millisecond precision at most. */
  private dateValue(pool: string[]): string {
    const r = this.rng;
    const base = Date.parse(r.pick(pool)) + r.weighted([[6, 0], [1, 1], [1, -1], [1, 1000], [1, -1000], [1, 60_000]] as const);
    const d = new Date(base);
    const iso = d.toISOString();
    const form = r.weighted([[60, 'ms'], [15, 'noMs'], [12, 'offset'], [5, 'dateOnly'], [8, 'bare']] as const);
    switch (form) {
      case 'ms':
        return JSON.stringify(iso);
      case 'noMs':
        return JSON.stringify(d.getUTCMilliseconds() === 0 ? iso.replace('.000Z', 'Z') : iso);
      case 'offset': {
        // Same instant written in another zone.
        const mins = r.pick([120, -330, 60, -480]);
        const local = new Date(base + mins * 60_000).toISOString().replace('Z', '');
        const sign = mins < 0 ? '-' : '+';
        const abs = Math.abs(mins);
        return JSON.stringify(`${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`);
      }
      case 'dateOnly':
        return JSON.stringify(iso.slice(0, 10));
      case 'bare':
        return iso;
    }
  }
}
