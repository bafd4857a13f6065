/**
 * Cost bounds of one SCIM request. Every request a client can send must cost a
 * bounded amount of CPU, memory and storage, whatever its content: the server is
 * shared by many connections and runs its SCIM engine on one event loop.
 *
 * The defaults sit far above what Entra ID, Okta, OneLogin or JumpCloud send (an
 * IdP user has a handful of e-mails and short identifiers) and far below what
 * would let one client stall the others. Each is configurable (ROLLCALL_MAX_*).
 */
import { fail } from './errors.js';
import { type AttributeDef, type ResourceTypeDef, findAttr } from './schemas.js';

export interface ScimLimits {
  /** Characters in an identifier: userName, externalId, a group's displayName, ids and e-mail addresses. */
  identifierLength: number;
  /** Characters in any other string value. */
  valueLength: number;
  /** Values of one multi-valued attribute (emails, phoneNumbers, …); group members are bounded by `membersPerRequest`. */
  valuesPerAttribute: number;
  /** Group members named in one request (POST/PUT body or all PATCH operations together). */
  membersPerRequest: number;
  /** Operations in one PATCH request; operations on group members excepted (bounded by `membersPerRequest`). */
  patchOperations: number;
  /** Values given over all operations of one PATCH (a list counts each element), members excepted. */
  patchValues: number;
  /** Entries in `attributes` or `excludedAttributes` (after removing repeats). */
  projectionAttributes: number;
  /** Characters in a filter. */
  filterLength: number;
  /** Comparisons (attribute terms) in a filter, counted over the whole expression. */
  filterTerms: number;
  /** Nesting depth of a filter (parentheses, not, value paths). */
  filterDepth: number;
}

export const DEFAULT_LIMITS: Readonly<ScimLimits> = Object.freeze({
  identifierLength: 1024,
  valueLength: 64 * 1024,
  valuesPerAttribute: 100,
  membersPerRequest: 1000,
  patchOperations: 100,
  patchValues: 1000,
  projectionAttributes: 100,
  filterLength: 10_000,
  filterTerms: 100,
  filterDepth: 20,
});

/** Where a limit is set, for messages that tell an operator what to change. */
export const LIMIT_VARIABLES: Readonly<Record<keyof ScimLimits, string>> = Object.freeze({
  identifierLength: 'ROLLCALL_MAX_IDENTIFIER_LENGTH',
  valueLength: 'ROLLCALL_MAX_VALUE_LENGTH',
  valuesPerAttribute: 'ROLLCALL_MAX_VALUES_PER_ATTRIBUTE',
  membersPerRequest: 'ROLLCALL_MAX_MEMBERS_PER_REQUEST',
  patchOperations: 'ROLLCALL_MAX_PATCH_OPERATIONS',
  patchValues: 'ROLLCALL_MAX_PATCH_VALUES',
  projectionAttributes: 'ROLLCALL_MAX_PROJECTION_ATTRIBUTES',
  filterLength: 'ROLLCALL_MAX_FILTER_LENGTH',
  filterTerms: 'ROLLCALL_MAX_FILTER_TERMS',
  filterDepth: 'ROLLCALL_MAX_FILTER_DEPTH',
});

/** The smallest value each limit may be set to: below it, ordinary IdP traffic would be refused. */
export const LIMIT_MINIMUMS: Readonly<ScimLimits> = Object.freeze({
  identifierLength: 256,
  valueLength: 1024,
  valuesPerAttribute: 10,
  membersPerRequest: 100,
  patchOperations: 10,
  patchValues: 100,
  projectionAttributes: 10,
  filterLength: 256,
  filterTerms: 5,
  filterDepth: 3,
});

export function resolveLimits(partial?: Partial<ScimLimits>): ScimLimits {
  const out = { ...DEFAULT_LIMITS, ...partial };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ScimLimits)[]) {
    const v = out[key];
    if (!Number.isInteger(v) || v < LIMIT_MINIMUMS[key]) {
      throw fail('ROLLCALL_CONFIG_INVALID', `${LIMIT_VARIABLES[key]} must be an integer of at least ${LIMIT_MINIMUMS[key]}, got ${String(v)}`);
    }
  }
  return out;
}

/**
 * Values that are looked up by, indexed or compared as keys: the identifier cap
 * applies. Paths without list indexes, lower case. A user's displayName is free
 * text; a group's is how IdPs find it.
 */
const IDENTIFIERS: Record<string, ReadonlySet<string>> = {
  User: new Set(['username', 'externalid', 'emails.value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber']),
  Group: new Set(['displayname', 'externalid']),
};

function isIdentifier(rt: ResourceTypeDef, path: string): boolean {
  return IDENTIFIERS[rt.id]?.has(path.replace(/\[\d+\]/g, '').toLowerCase()) ?? false;
}

/** The values of a multi-valued attribute are more than the limit allows: refused before they are coerced. */
export function checkValueCount(def: AttributeDef, count: number, path: string, limits: ScimLimits): void {
  if (def.name === 'members') return;
  if (count > limits.valuesPerAttribute) {
    throw fail(
      'ROLLCALL_TOO_MANY_VALUES',
      `Attribute '${path}' has ${count} values; at most ${limits.valuesPerAttribute} are accepted (${LIMIT_VARIABLES.valuesPerAttribute}).`,
    );
  }
}

/**
 * Every multi-valued attribute of a document within its cap: a few dozen length
 * reads, cheap after each PATCH operation. A list that was already longer in
 * `before` (stored before the cap was lowered) may stay as long, so a PATCH
 * that deactivates such a user is not refused for what it did not add.
 */
export function checkValueCounts(rt: ResourceTypeDef, doc: Record<string, unknown>, limits: ScimLimits, before: Record<string, unknown> = {}): void {
  const allowed = (value: unknown[], was: unknown) => value.length <= limits.valuesPerAttribute || (Array.isArray(was) && value.length <= was.length);
  for (const [key, value] of Object.entries(doc)) {
    if (Array.isArray(value)) {
      if (!allowed(value, before[key])) checkValueCount(findAttr(rt.schema.attributes, key) ?? MULTI, value.length, key, limits);
    } else if (key.startsWith('urn:') && value && typeof value === 'object') {
      const wasExt = before[key] && typeof before[key] === 'object' ? (before[key] as Record<string, unknown>) : {};
      for (const [k, v] of Object.entries(value)) {
        if (Array.isArray(v) && !allowed(v, wasExt[k])) checkValueCount(MULTI, v.length, `${key}:${k}`, limits);
      }
    }
  }
}

/** The string lengths of what a PATCH changed (its `after` values): unchanged stored values are not re-judged. */
export function checkChangedValues(rt: ResourceTypeDef, changes: readonly { path: string; after: unknown }[], limits: ScimLimits): void {
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') return checkString(rt, value, path, limits);
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`));
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  for (const c of changes) walk(c.after, c.path);
}

/** Stands in for an array-valued attribute the schema does not know; it is counted like any other. */
const MULTI = { name: '', multiValued: true } as AttributeDef;

function checkString(rt: ResourceTypeDef, value: string, path: string, limits: ScimLimits): void {
  if (value.length <= limits.identifierLength) return;
  if (isIdentifier(rt, path)) {
    throw fail('ROLLCALL_VALUE_TOO_LONG', `Attribute '${path}' is ${value.length} characters long; an identifier may have at most ${limits.identifierLength} (${LIMIT_VARIABLES.identifierLength}).`);
  }
  if (value.length > limits.valueLength) {
    throw fail('ROLLCALL_VALUE_TOO_LONG', `Attribute '${path}' is ${value.length} characters long; a value may have at most ${limits.valueLength} (${LIMIT_VARIABLES.valueLength}).`);
  }
}

/**
 * Checks a canonical document (after POST/PUT normalisation or a PATCH) against
 * the size limits: one walk, linear in the document. Members are not in the
 * document (they are rows of their own) and are bounded per request instead.
 */
export function checkDocLimits(rt: ResourceTypeDef, doc: Record<string, unknown>, externalId: string | undefined, limits: ScimLimits): void {
  if (externalId !== undefined) checkString(rt, externalId, 'externalId', limits);
  const walk = (value: unknown, path: string, def: AttributeDef | undefined): void => {
    if (typeof value === 'string') return checkString(rt, value, path, limits);
    if (Array.isArray(value)) {
      checkValueCount(def ?? MULTI, value.length, path, limits);
      value.forEach((v, i) => walk(v, `${path}[${i}]`, undefined));
      return;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, undefined);
    }
  };
  for (const [key, value] of Object.entries(doc)) {
    if (key.startsWith('urn:') && value && typeof value === 'object' && !Array.isArray(value)) {
      const ext = rt.extensions.find((e) => e.schema.id === key)?.schema;
      for (const [k, v] of Object.entries(value)) walk(v, `${key}:${k}`, ext ? findAttr(ext.attributes, k) : undefined);
      continue;
    }
    walk(value, key, findAttr(rt.schema.attributes, key));
  }
}

/** Members named in one request. */
export function checkMemberCount(count: number, limits: ScimLimits): void {
  if (count > limits.membersPerRequest) {
    throw fail(
      'ROLLCALL_TOO_MANY_MEMBERS',
      `The request names ${count} group members; at most ${limits.membersPerRequest} are accepted in one request (${LIMIT_VARIABLES.membersPerRequest}). Send them in several PATCH requests.`,
    );
  }
}

const isMembers = (key: string) => /^members($|[[.])/i.test(key);

/** An operation whose path names group members: a cheap set operation on the membership table. */
export function isMemberOperation(raw: unknown): boolean {
  if (!raw || typeof raw !== 'object') return false;
  const path = Object.entries(raw as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'path')?.[1];
  return typeof path === 'string' && isMembers(path.trim());
}

/** Values an operation's `value` carries: a list counts its elements, an object its attributes' values. */
function countValues(value: unknown, nested = false): number {
  if (Array.isArray(value)) return value.length;
  if (!value || typeof value !== 'object' || nested) return 1;
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (isMembers(k)) continue;
    n += k.startsWith('urn:') && v && typeof v === 'object' && !Array.isArray(v) ? countValues(v) : countValues(v, true);
  }
  return n;
}

/**
 * The values a PATCH carries, members excepted (checkMemberCount counts them):
 * each operation's cost is linear in its values and in the list it changes, so
 * the total bounds the work of the whole request.
 */
export function checkPatchValues(operations: readonly unknown[], limits: ScimLimits): void {
  let n = 0;
  for (const raw of operations) {
    if (!raw || typeof raw !== 'object') continue;
    if (isMemberOperation(raw)) continue;
    const value = Object.entries(raw as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'value')?.[1];
    n += value === undefined ? 1 : countValues(value);
  }
  if (n > limits.patchValues) {
    throw fail('ROLLCALL_PATCH_TOO_MANY_VALUES', `The PATCH carries ${n} values; at most ${limits.patchValues} are accepted in one request (${LIMIT_VARIABLES.patchValues}), group members excepted.`);
  }
}
