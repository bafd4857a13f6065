/**
 * Rollcall extension values: gender through the connection's value map (IdPs
 * send whatever the customer's HR system stores: m/w/x, M/F, 1/2 …), academic
 * degree as sent.
 */
import type { Doc } from '../../scim/resource.js';
import { ROLLCALL_USER } from '../../scim/schemas.js';
import type { ConnectionSettings } from '../settings.js';

function mapKey(s: string): string {
  return s.trim().toLowerCase();
}

/**
 * Lookup table for `genderValues`: map keys AND map targets, so a value that is
 * already translated (`female` with `{"w": "female"}`) is recognised, not flagged.
 */
function genderTable(settings: ConnectionSettings): Map<string, string> {
  const table = new Map<string, string>();
  for (const target of Object.values(settings.genderValues)) table.set(mapKey(target), target);
  // Keys win over targets when they collide: the key is an explicit instruction.
  for (const [key, target] of Object.entries(settings.genderValues)) table.set(mapKey(key), target);
  return table;
}

/**
 * Translates `doc[ROLLCALL_USER].gender` in place and tidies `academicDegree`
 * (trimmed, removed when empty). A gender the map does not know is kept as
 * sent and returned as `unmappedGender` so the record can be flagged; with no
 * map configured nothing is translated and nothing is flagged.
 */
export function applyGender(settings: ConnectionSettings, doc: Doc): { unmappedGender?: string } {
  const ext = doc[ROLLCALL_USER];
  if (typeof ext !== 'object' || ext === null || Array.isArray(ext)) return {};
  const rc = ext as Doc;
  const result: { unmappedGender?: string } = {};

  if (typeof rc.gender === 'string') {
    if (rc.gender.trim() === '') {
      delete rc.gender;
    } else if (Object.keys(settings.genderValues).length > 0) {
      const mapped = genderTable(settings).get(mapKey(rc.gender));
      if (mapped !== undefined) rc.gender = mapped;
      else result.unmappedGender = rc.gender;
    }
  }

  if (typeof rc.academicDegree === 'string') {
    const degree = rc.academicDegree.trim();
    if (degree === '') delete rc.academicDegree;
    else rc.academicDegree = degree;
  }

  // The canonical document never holds an empty extension object.
  if (Object.keys(rc).length === 0) delete doc[ROLLCALL_USER];
  return result;
}

/** Settings check: two genderValues keys that are the same once trimmed and lower-cased are ambiguous. */
export function validateGenderValues(settings: ConnectionSettings): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const key of Object.keys(settings.genderValues)) {
    const k = mapKey(key);
    if (k === '') {
      problems.push(`genderValues: the key ${JSON.stringify(key)} is blank`);
      continue;
    }
    const earlier = seen.get(k);
    if (earlier !== undefined) {
      problems.push(`genderValues: keys ${JSON.stringify(earlier)} and ${JSON.stringify(key)} are the same value (keys are compared trimmed and case-insensitively)`);
    } else {
      seen.set(k, key);
    }
  }
  return problems;
}
