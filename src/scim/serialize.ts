/**
 * Building the JSON a client sees: `attributes` / `excludedAttributes`
 * (RFC 7644 §3.4.2.5), `returned` characteristics, list responses.
 */
import { fail } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import { LIST_RESPONSE, type ResourceTypeDef, resolveAttr, canonicalSchemaUri } from './schemas.js';

export type Json = Record<string, unknown>;

interface ProjectedPath {
  /** Key in the resource: canonical attribute name, or the extension URN. */
  top: string;
  /** Attribute inside an extension, or sub-attribute of a core attribute. */
  inner?: string;
  /** Sub-attribute of an extension attribute. */
  innerSub?: string;
}

export interface Projection {
  attributes?: ProjectedPath[];
  excluded?: ProjectedPath[];
}

/** `emails[type eq "work"]` in an attributes list means the attribute itself. */
function stripValueFilter(entry: string): string {
  const open = entry.indexOf('[');
  if (open < 0) return entry;
  const close = entry.lastIndexOf(']');
  const after = close >= 0 ? entry.slice(close + 1) : '';
  return entry.slice(0, open) + (after.startsWith('.') ? after : '');
}

function parseEntry(rt: ResourceTypeDef, raw: string): ProjectedPath | undefined {
  const entry = stripValueFilter(raw.trim());
  if (!entry) return undefined;
  if (/^urn:/i.test(entry)) {
    const whole = canonicalSchemaUri(rt, entry);
    if (whole) return whole === rt.schema.id ? undefined : { top: whole };
    const cut = entry.lastIndexOf(':');
    const uri = entry.slice(0, cut);
    const [attr, sub] = entry.slice(cut + 1).split('.', 2);
    const r = resolveAttr(rt, { uri, attr, sub });
    if (!r) return undefined;
    if (!r.inExtension) return { top: r.def.name, inner: r.subDef?.name };
    return { top: r.schema, inner: r.def.name, innerSub: r.subDef?.name };
  }
  const [attr, sub] = entry.split('.', 2);
  let r = resolveAttr(rt, { attr, sub });
  if (!r) {
    for (const ext of rt.extensions) {
      r = resolveAttr(rt, { uri: ext.schema.id, attr, sub });
      if (r) return { top: r.schema, inner: r.def.name, innerSub: r.subDef?.name };
    }
    return undefined;
  }
  return { top: r.def.name, inner: r.subDef?.name };
}

/** Parses the two query parameters; an entry naming no known attribute is ignored. */
/** Comma-separated entries in `text`, counted up to `stop` + 1 without splitting it. */
function countEntries(text: string, stop: number): number {
  let n = 1;
  for (let at = text.indexOf(','); at >= 0 && n <= stop; at = text.indexOf(',', at + 1)) n++;
  return n;
}

export function parseProjection(rt: ResourceTypeDef, attributes?: unknown, excluded?: unknown, max = DEFAULT_LIMITS.projectionAttributes): Projection {
  const split = (v: unknown, name: string): ProjectedPath[] | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    // A list far longer than the cap is refused before it is split or parsed, so its cost stays bounded.
    const entries = Array.isArray(v) ? v.length : countEntries(String(v), max * 10);
    if (entries > max * 10) {
      throw fail('ROLLCALL_TOO_MANY_PROJECTION_ATTRIBUTES', `'${name}' lists more than ${max * 10} entries; at most ${max} distinct attributes are accepted (ROLLCALL_MAX_PROJECTION_ATTRIBUTES).`);
    }
    const list = Array.isArray(v) ? v.map(String) : String(v).split(',');
    // Repeats are removed before counting: clients concatenate lists.
    const distinct = [...new Set(list.map((e) => e.trim().toLowerCase()).filter(Boolean))];
    if (distinct.length > max) {
      throw fail('ROLLCALL_TOO_MANY_PROJECTION_ATTRIBUTES', `'${name}' lists ${distinct.length} distinct attributes; at most ${max} are accepted (ROLLCALL_MAX_PROJECTION_ATTRIBUTES).`);
    }
    return distinct.map((e) => parseEntry(rt, e)).filter((p): p is ProjectedPath => !!p);
  };
  const p: Projection = {};
  const a = split(attributes, 'attributes');
  const x = split(excluded, 'excludedAttributes');
  if (a) p.attributes = a;
  if (x) p.excluded = x;
  if (a && x) throw fail('ROLLCALL_ATTRIBUTES_AND_EXCLUDED', "Use either 'attributes' or 'excludedAttributes', not both.");
  return p;
}

/** Whether a top-level attribute is returned under this projection (used to skip loading members). */
export function wantsAttribute(p: Projection, top: string): boolean {
  if (p.attributes) return p.attributes.some((a) => a.top === top);
  if (p.excluded) return !p.excluded.some((a) => a.top === top && !a.inner);
  return true;
}

/**
 * One sub-attribute of a value. For a multi-valued attribute the result keeps one
 * (possibly empty) object per element, so picks of several sub-attributes merge
 * element by element; empty ones are dropped at the end (see `dropEmpty`).
 */
function pick(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => (v && typeof v === 'object' && sub in v ? { [sub]: (v as Json)[sub] } : {}));
  }
  if (value && typeof value === 'object') return sub in value ? { [sub]: (value as Json)[sub] } : undefined;
  return undefined;
}

function omit(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) return value.map((v) => (v && typeof v === 'object' ? omitKey(v as Json, sub) : v));
  if (value && typeof value === 'object') return omitKey(value as Json, sub);
  return value;
}

function omitKey(o: Json, k: string): Json {
  const { [k]: _drop, ...rest } = o;
  return rest;
}

function mergeInto(out: Json, key: string, v: unknown) {
  if (v === undefined) return;
  const prev = out[key];
  if (prev && typeof prev === 'object' && !Array.isArray(prev) && v && typeof v === 'object' && !Array.isArray(v)) {
    out[key] = { ...(prev as Json), ...(v as Json) };
  } else if (Array.isArray(prev) && Array.isArray(v)) {
    out[key] = prev.map((p, i) => ({ ...(p as Json), ...(v[i] as Json) }));
  } else {
    out[key] = v;
  }
}

/** Elements that got none of the requested sub-attributes, and lists left empty, are not returned. */
function dropEmpty(out: Json): Json {
  for (const [k, v] of Object.entries(out)) {
    if (Array.isArray(v)) {
      const kept = v.filter((e) => !(e && typeof e === 'object' && !Array.isArray(e) && Object.keys(e).length === 0));
      if (kept.length) out[k] = kept;
      else delete out[k];
    } else if (v && typeof v === 'object' && k.startsWith('urn:')) {
      dropEmpty(v as Json);
      if (!Object.keys(v).length) delete out[k];
    }
  }
  return out;
}

/**
 * Applies a projection to a fully built resource. `id` and `schemas` are always
 * returned (returned: always); `meta` is kept unless excluded or not requested.
 */
export function project(resource: Json, p: Projection): Json {
  if (p.attributes) {
    const out: Json = { schemas: resource.schemas, id: resource.id };
    for (const a of p.attributes) {
      const v = resource[a.top];
      if (v === undefined) continue;
      if (!a.inner) mergeInto(out, a.top, v);
      else if (a.innerSub === undefined && !a.top.startsWith('urn:')) mergeInto(out, a.top, pick(v, a.inner));
      else {
        const innerV = (v as Json)[a.inner];
        if (innerV === undefined) continue;
        const picked = a.innerSub ? pick(innerV, a.innerSub) : innerV;
        if (picked !== undefined) mergeInto(out, a.top, { [a.inner]: picked });
      }
    }
    return dropEmpty(out);
  }
  if (p.excluded) {
    let out: Json = { ...resource };
    for (const a of p.excluded) {
      if (a.top === 'id') continue;
      if (!a.inner) {
        out = omitKey(out, a.top);
        continue;
      }
      const v = out[a.top];
      if (v === undefined) continue;
      if (a.top.startsWith('urn:')) {
        const ext = v as Json;
        out[a.top] = a.innerSub ? { ...ext, [a.inner]: omit(ext[a.inner], a.innerSub) } : omitKey(ext, a.inner);
      } else {
        out[a.top] = omit(v, a.inner);
      }
    }
    return out;
  }
  return resource;
}

export function listResponse(resources: Json[], totalResults: number, startIndex: number): Json {
  return {
    schemas: [LIST_RESPONSE],
    totalResults,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}
