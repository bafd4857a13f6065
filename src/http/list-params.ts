/**
 * Query parameters of list and search requests (RFC 7644 §3.4.2), from a GET
 * query string or a POST /.search body, validated into directory list params.
 */
import { fail } from '../scim/errors.js';
import { DEFAULT_LIMITS, type ScimLimits } from '../scim/limits.js';
import { parseFilter } from '../scim/filter/parse.js';
import type { AttrPath } from '../scim/filter/ast.js';
import type { ResourceTypeDef } from '../scim/schemas.js';
import { type Projection, parseProjection } from '../scim/serialize.js';
import type { ListParams } from '../directory/users.js';

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 1000;
export const MAX_START_INDEX = 2 ** 31;

function integer(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : /^\s*[-+]?\d+\s*$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw fail('ROLLCALL_NOT_AN_INTEGER', `'${name}' must be an integer, got ${JSON.stringify(v)}.`);
  return n;
}

function sortPath(v: unknown): AttrPath | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw fail('ROLLCALL_INVALID_SORT_BY', "'sortBy' must be an attribute name.");
  try {
    const f = parseFilter(`${v} pr`);
    if (f.kind === 'present') return f.path;
  } catch {
    // fall through to the clear message below
  }
  throw fail('ROLLCALL_INVALID_SORT_BY', `'sortBy' must be an attribute name, got '${v}'.`);
}

export interface ListRequest {
  params: ListParams;
  projection: Projection;
}

/** `source` is the query string object or the .search body; keys are matched case-insensitively. */
export function parseListRequest(rt: ResourceTypeDef | undefined, source: Record<string, unknown>, limits: ScimLimits = DEFAULT_LIMITS): ListRequest {
  const get = (name: string): unknown => {
    const lc = name.toLowerCase();
    for (const [k, v] of Object.entries(source)) if (k.toLowerCase() === lc) return Array.isArray(v) && name !== 'attributes' && name !== 'excludedAttributes' ? v[0] : v;
    return undefined;
  };
  const rawFilter = get('filter');
  if (rawFilter !== undefined && rawFilter !== null && typeof rawFilter !== 'string') throw fail('ROLLCALL_FILTER_NOT_A_STRING', "'filter' must be a string.");
  const filter = typeof rawFilter === 'string' && rawFilter.trim() !== '' ? parseFilter(rawFilter, limits) : undefined;
  // RFC 7644 §3.4.2.4: startIndex below 1 is read as 1, a negative count as 0.
  // Beyond MAX_START_INDEX every page is empty anyway; capping keeps the offset a valid SQL integer.
  const startIndex = Math.min(MAX_START_INDEX, Math.max(1, integer('startIndex', get('startIndex')) ?? 1));
  const count = Math.min(MAX_COUNT, Math.max(0, integer('count', get('count')) ?? DEFAULT_COUNT));
  const sortBy = sortPath(get('sortBy'));
  const order = get('sortOrder');
  let descending = false;
  if (order !== undefined && order !== null && order !== '') {
    const o = String(order).toLowerCase();
    if (o !== 'ascending' && o !== 'descending') throw fail('ROLLCALL_INVALID_SORT_ORDER', `'sortOrder' must be 'ascending' or 'descending', got '${order}'.`);
    descending = o === 'descending';
  }
  const projection = rt ? parseProjection(rt, get('attributes'), get('excludedAttributes'), limits.projectionAttributes) : {};
  return { params: { filter, sortBy, descending, startIndex, count }, projection };
}
