/** attributeMap: product profile fields filled from SCIM attribute paths. */
import type { Doc } from '../../scim/resource.js';
import type { ConnectionSettings } from '../settings.js';
import { compilePath, pathProblems, valuesAt } from './paths.js';

export type ProfileValue = string | boolean | number | null;

/** Settings check: every attributeMap path must name one simple, mappable attribute. */
export function validateAttributeMap(settings: ConnectionSettings): string[] {
  return Object.entries(settings.attributeMap).flatMap(([field, path]) => pathProblems(`attributeMap.${field}`, path));
}

/**
 * Each profile field's value in the user document: for a filtered path the first
 * matching element's, for a multi-valued path without a filter the primary
 * element's (else the first), null when absent. A path that does not compile
 * (settings predating a check) yields null rather than failing the write.
 */
export function resolveProfile(settings: ConnectionSettings, doc: Doc): Record<string, ProfileValue> {
  const profile: Record<string, ProfileValue> = {};
  for (const [field, path] of Object.entries(settings.attributeMap)) {
    const p = compilePath(path);
    profile[field] = typeof p === 'string' ? null : (valuesAt(doc, p)[0] ?? null);
  }
  return profile;
}
