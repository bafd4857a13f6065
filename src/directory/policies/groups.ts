/** groupRules: groups a user is added to because of an attribute value. */
import type { Doc } from '../../scim/resource.js';
import type { ConnectionSettings } from '../settings.js';
import { compilePath, pathProblems, valuesAt } from './paths.js';

/** Settings check: each rule's attribute must name one simple attribute (same rules as attributeMap). */
export function validateGroupRules(settings: ConnectionSettings): string[] {
  return settings.groupRules.flatMap((rule, i) => pathProblems(`groupRules[${i}].when.attribute`, rule.when.attribute));
}

function norm(v: string | number | boolean): string {
  return String(v).trim().toLowerCase();
}

/**
 * Names of the groups whose rule matches the user, in rule order, without
 * duplicates (compared case-insensitively, as group names are unique that way).
 * A rule matches when ANY value the path names is in `when.in`: for
 * `roles.value` or `emails[type eq "work"].value` a user can hold several.
 */
export function groupsFromRules(settings: ConnectionSettings, doc: Doc): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const rule of settings.groupRules) {
    const p = compilePath(rule.when.attribute);
    if (typeof p === 'string') continue;
    const wanted = new Set(rule.when.in.map(norm));
    if (!valuesAt(doc, p).some((v) => wanted.has(norm(v)))) continue;
    const name = rule.addTo.trim();
    const key = name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}
