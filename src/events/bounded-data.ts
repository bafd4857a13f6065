/**
 * Events are stored, fed and delivered for every change, so their size must not
 * follow the size of the resource. An event's data stays as it is while it fits
 * EVENT_DATA_BUDGET (every ordinary IdP change does, by far); beyond that, large
 * values are replaced by a summary — first in `changes` (before/after), then in
 * the resource itself (`scim`) — and the event says so (`summarized: true`). A
 * consumer that needs the full value reads the resource through the API.
 */
import { createHash } from 'node:crypto';

/** Bytes of JSON an event's data may take before large values are summarised. */
export const EVENT_DATA_BUDGET = 64 * 1024;
/** A value whose JSON is longer than this is summarised when the event is over budget. */
export const SUMMARY_THRESHOLD = 1024;

/** What stands in for a large value: its shape, size and a fingerprint to tell two apart. */
export interface ValueSummary {
  summary: { type: 'string' | 'array' | 'object'; length: number; bytes: number; sha256: string };
}

function summarize(value: unknown, json: string): ValueSummary {
  const type = typeof value === 'string' ? 'string' : Array.isArray(value) ? 'array' : 'object';
  const length = typeof value === 'string' ? value.length : Array.isArray(value) ? value.length : Object.keys(value as object).length;
  const bytes = Buffer.byteLength(json);
  return { summary: { type, length, bytes, sha256: createHash('sha256').update(json).digest('hex').slice(0, 16) } };
}

/** The value, or its summary when its JSON is longer than the threshold. */
function small(value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string' && value.length <= SUMMARY_THRESHOLD / 6) return value; // cannot exceed the threshold even escaped
  const json = JSON.stringify(value);
  return json.length > SUMMARY_THRESHOLD ? summarize(value, json) : value;
}

function smallAttributes(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    // Extension objects are summarised attribute by attribute, like the core.
    out[k] = k.startsWith('urn:') && v && typeof v === 'object' && !Array.isArray(v) ? smallAttributes(v as Record<string, unknown>) : small(v);
  }
  return out;
}

const size = (v: unknown) => JSON.stringify(v).length;

/**
 * Event data within the budget and its JSON, stringified once: the outbox stores
 * the JSON, so measuring it costs nothing extra on the write path.
 */
export function boundedEventJson(data: Record<string, unknown>, budget = EVENT_DATA_BUDGET): { data: Record<string, unknown>; json: string } {
  const json = JSON.stringify(data);
  if (json.length <= budget) return { data, json };
  const bounded = boundEventData(data, budget);
  return { data: bounded, json: JSON.stringify(bounded) };
}

/** Event data within the budget (see the module comment); unchanged when it already is. */
export function boundEventData<T extends Record<string, unknown>>(data: T, budget = EVENT_DATA_BUDGET): T {
  if (size(data) <= budget) return data;
  let out: Record<string, unknown> = { ...data, summarized: true };
  if (Array.isArray(data.changes)) {
    out.changes = (data.changes as { path: string; before: unknown; after: unknown }[]).map((c) => ({ ...c, before: small(c.before), after: small(c.after) }));
    if (size(out) <= budget) return out as T;
  }
  if (data.scim && typeof data.scim === 'object') {
    out.scim = smallAttributes(data.scim as Record<string, unknown>);
    if (size(out) <= budget) return out as T;
  }
  // Hundreds of attributes each just under the threshold: the resource goes, what changed stays.
  const { scim: _dropped, ...rest } = out;
  out = rest;
  if (size(out) <= budget) return out as T;
  return { ...out, changes: Array.isArray(out.changes) ? (out.changes as unknown[]).slice(0, 50) : out.changes, changesTruncated: true } as unknown as T;
}
