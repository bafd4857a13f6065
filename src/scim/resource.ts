/**
 * Turning what a client sent into a canonical stored document, per RFC 7643 and
 * per what real clients send: attribute names in any case, booleans as strings,
 * `null` meaning "unassigned", read-only attributes ignored, unknown attributes
 * ignored (Microsoft's reference suite PUTs misspelled attributes and expects 200).
 *
 * The canonical document ("doc") uses the schema's spelling for every key, keeps
 * extension attributes under their schema URN, and never contains id, meta,
 * schemas, password or read-only attributes — those are derived when serialising.
 */
import { fail } from './errors.js';
import { parseInstant, toStoredDateTime } from './datetime.js';
import { DEFAULT_LIMITS, type ScimLimits, checkDocLimits, checkMemberCount } from './limits.js';
import {
  type AttributeDef,
  type ResourceTypeDef,
  canonicalSchemaUri,
  findAttr,
  commonAttributes,
} from './schemas.js';

export type Doc = Record<string, unknown>;

function describe(path: string): string {
  return `'${path}'`;
}

/** "True"/"false"/true → boolean; anything else is a type error. */
export function coerceBoolean(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lc = value.trim().toLowerCase();
    if (lc === 'true') return true;
    if (lc === 'false') return false;
  }
  throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Attribute ${describe(path)} must be a boolean, got ${JSON.stringify(value)}.`);
}

function coerceScalar(def: AttributeDef, value: unknown, path: string): unknown {
  switch (def.type) {
    case 'boolean':
      return coerceBoolean(value, path);
    case 'integer':
    case 'decimal': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n) || (def.type === 'integer' && !Number.isInteger(n))) {
        throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Attribute ${describe(path)} must be ${def.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}.`);
      }
      return n;
    }
    case 'dateTime': {
      const instant = typeof value === 'string' ? parseInstant(value) : undefined;
      if (!instant) throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Attribute ${describe(path)} must be an xsd:dateTime string, got ${JSON.stringify(value)}.`);
      return toStoredDateTime(instant).iso;
    }
    default: {
      // string, reference, binary. Numbers and booleans are accepted as their text:
      // IdP attribute mappings often turn an employee number into a JSON number.
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Attribute ${describe(path)} must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}.`);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Coerces one complex value. A bare scalar given for a complex attribute that has a
 * `value` sub-attribute is read as `{value: …}` — Entra ID sends the manager as a
 * bare id and group members are sometimes a bare id string.
 */
function coerceComplex(def: AttributeDef, value: unknown, path: string, input: boolean): Doc | undefined {
  if (!isPlainObject(value)) {
    if ((typeof value === 'string' || typeof value === 'number') && findAttr(def.subAttributes, 'value')) {
      value = { value };
    } else {
      throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Attribute ${describe(path)} must be an object, got ${Array.isArray(value) ? 'an array' : typeof value}.`);
    }
  }
  const out: Doc = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = findAttr(def.subAttributes, key);
    if (!sub) continue; // unknown sub-attribute: ignored, like unknown attributes
    if (input && sub.mutability === 'readOnly') continue;
    if (v === null || v === undefined) continue;
    const coerced = coerceScalar(sub, v, `${path}.${sub.name}`);
    if (coerced === '' && sub.name !== 'value') continue;
    out[sub.name] = coerced;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Coerces a value for an attribute definition. Returns undefined for "unassigned"
 * (null, empty array, empty object). `input` drops read-only sub-attributes.
 */
export function coerceAttribute(def: AttributeDef, value: unknown, path: string, input = true): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      if (item === null || item === undefined) continue;
      const v = def.type === 'complex' ? coerceComplex(def, item, `${path}[${i}]`, input) : coerceScalar(def, item, `${path}[${i}]`);
      if (v !== undefined) out.push(v);
    }
    return out.length ? normalizePrimary(out) : undefined;
  }
  // A one-element array for a single-valued attribute: Entra ID sends the manager
  // as `[{"$ref": …, "value": …}]`.
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.length > 1) throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Attribute ${describe(path)} is single-valued but got ${value.length} values.`);
    value = value[0];
    if (value === null || value === undefined) return undefined;
  }
  if (def.type === 'complex') return coerceComplex(def, value, path, input);
  return coerceScalar(def, value, path);
}

/**
 * RFC 7643 §2.4: "primary" true appears at most once. When a client marks several
 * values primary we keep the last one marked — PATCH adds append, and the newest
 * value a client adds as primary is the one it means (§3.5.2 says the server
 * clears the others).
 */
export function normalizePrimary(values: unknown[]): unknown[] {
  let last = -1;
  values.forEach((v, i) => {
    if (isPlainObject(v) && v.primary === true) last = i;
  });
  if (last < 0) return values;
  return values.map((v, i) => {
    if (!isPlainObject(v) || v.primary !== true || i === last) return v;
    const { primary: _drop, ...rest } = v;
    return { ...rest, primary: false };
  });
}

export interface NormalizedInput {
  doc: Doc;
  externalId: string | undefined;
  /** Group members as given (ids), only for Group resources. */
  members?: { value: string; type?: string }[];
}

/**
 * Normalises a POST/PUT body into a canonical document. Validates required
 * attributes; read-only attributes (id, meta, groups …) are ignored rather than
 * refused, as RFC 7644 §3.5.1 allows and real clients need.
 */
export function normalizeResource(rt: ResourceTypeDef, body: unknown, limits: ScimLimits = DEFAULT_LIMITS, nested = false): NormalizedInput {
  if (!isPlainObject(body)) throw fail('ROLLCALL_BODY_NOT_AN_OBJECT', 'The request body must be a JSON object.');
  if (body.schemas !== undefined && body.schemas !== null) {
    if (!Array.isArray(body.schemas) || body.schemas.some((s) => typeof s !== 'string')) {
      throw fail('ROLLCALL_INVALID_SCHEMAS', "'schemas' must be an array of schema URNs.");
    }
  }
  const doc: Doc = {};
  let externalId: string | undefined;
  let members: NormalizedInput['members'];
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    const lc = key.toLowerCase();
    if (lc === 'schemas') continue;
    if (lc.startsWith('urn:')) {
      const uri = canonicalSchemaUri(rt, key);
      if (!uri || uri === rt.schema.id) {
        // A core-URN-qualified object is legal but unusual; merge its attributes.
        if (uri === rt.schema.id && isPlainObject(value)) {
          // One level only: a core object inside a core object is not a resource.
          if (nested) throw fail('ROLLCALL_EXTENSION_NESTED', `'${key}' cannot be nested inside itself.`);
          const inner = normalizeResource(rt, value, limits, true);
          Object.assign(doc, inner.doc);
        }
        continue;
      }
      const ext = rt.extensions.find((e) => e.schema.id === uri)!.schema;
      if (!isPlainObject(value)) throw fail('ROLLCALL_ATTRIBUTE_TYPE_MISMATCH', `Extension '${uri}' must be an object.`);
      const extDoc: Doc = {};
      for (const [k, v] of Object.entries(value)) {
        const def = findAttr(ext.attributes, k);
        if (!def || def.mutability === 'readOnly') continue;
        const coerced = coerceAttribute(def, v, `${uri}:${def.name}`);
        if (coerced !== undefined) extDoc[def.name] = coerced;
      }
      if (Object.keys(extDoc).length) doc[uri] = extDoc;
      continue;
    }
    const common = findAttr(commonAttributes, key);
    if (common) {
      if (common.name === 'externalId') {
        const v = coerceAttribute(common, value, 'externalId');
        externalId = v === '' ? undefined : (v as string | undefined);
      }
      continue; // id and meta are read-only: ignored
    }
    const def = findAttr(rt.schema.attributes, key);
    if (!def) continue;
    if (def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue;
    if (rt.id === 'Group' && def.name === 'members') {
      members = coerceMembers(def, value);
      continue;
    }
    const coerced = coerceAttribute(def, value, def.name);
    if (coerced !== undefined) doc[def.name] = coerced;
  }
  for (const def of nested ? [] : rt.schema.attributes) {
    if (def.required) {
      const v = doc[def.name];
      if (v === undefined || (typeof v === 'string' && v.trim() === '')) {
        throw fail('ROLLCALL_REQUIRED_ATTRIBUTE_MISSING', `Attribute '${def.name}' is required.`);
      }
    }
  }
  if (!nested) {
    checkDocLimits(rt, doc, externalId, limits);
    if (members) checkMemberCount(members.length, limits);
  }
  return { doc, externalId, members };
}

/** Group members from POST/PUT/PATCH values: ids, optionally typed. */
export function coerceMembers(def: AttributeDef, value: unknown): { value: string; type?: string }[] {
  // An entry without a usable value would otherwise be dropped silently and the
  // request would "succeed" without doing what the client asked.
  const raw = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  raw.forEach((m, i) => {
    if (m === null || typeof m === 'string' || typeof m === 'number') return;
    const v = typeof m === 'object' ? Object.entries(m as Doc).find(([k]) => k.toLowerCase() === 'value')?.[1] : undefined;
    if (typeof v !== 'string' || v === '') throw fail('ROLLCALL_MEMBER_WITHOUT_VALUE', `members[${i}] has no 'value' (the member's id).`);
  });
  const list = coerceAttribute(def, value, 'members') as Doc[] | undefined;
  if (!list) return [];
  return list.map((m, i) => {
    if (typeof m.value !== 'string' || m.value === '') {
      throw fail('ROLLCALL_MEMBER_WITHOUT_VALUE', `members[${i}] has no 'value' (the member's id).`);
    }
    return typeof m.type === 'string' ? { value: m.value, type: m.type } : { value: m.value };
  });
}
