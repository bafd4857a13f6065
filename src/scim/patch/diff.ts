/** The changes between two versions of a resource, per top-level attribute (for events and history). */
import { RollcallError } from '../errors.js';
import { type ResourceTypeDef } from '../schemas.js';
import { type Doc } from '../resource.js';
import type { Change } from './types.js';
import { deepEqual, isObject } from './values.js';

/** Change entries at top-level attribute granularity, in schema order. */
export function diff(rt: ResourceTypeDef, before: { doc: Doc; externalId: string | undefined }, after: { doc: Doc; externalId: string | undefined }): Change[] {
  const changes: Change[] = [];
  const push = (path: string, b: unknown, a: unknown) => {
    if (!deepEqual(b, a)) changes.push({ path, before: structuredClone(b), after: structuredClone(a) });
  };
  for (const def of rt.schema.attributes) {
    if (rt.id === 'Group' && def.name === 'members') continue;
    push(def.name, before.doc[def.name], after.doc[def.name]);
  }
  for (const { schema } of rt.extensions) {
    const b = isObject(before.doc[schema.id]) ? (before.doc[schema.id] as Doc) : {};
    const a = isObject(after.doc[schema.id]) ? (after.doc[schema.id] as Doc) : {};
    for (const def of schema.attributes) push(`${schema.id}:${def.name}`, b[def.name], a[def.name]);
  }
  push('externalId', before.externalId, after.externalId);
  return changes;
}
