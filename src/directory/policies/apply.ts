/** Everything the directory layer runs before a user write, in one call. */
import type { Doc } from '../../scim/resource.js';
import type { ConnectionSettings } from '../settings.js';
import { addressesOf } from './addresses.js';
import { checkCollective, validateCollectiveLocalParts } from './collective.js';
import { checkDomains } from './domains.js';
import { applyGender, validateGenderValues } from './gender.js';
import { validateGroupRules } from './groups.js';
import { applyLanguage, validateDefaultLanguage } from './language.js';
import { type ProfileValue, resolveProfile, validateAttributeMap } from './profile.js';

/** What the product (the "app") receives alongside the SCIM document. */
export interface AppView {
  role: string;
  language: string | null;
  primaryLanguage: string | null;
  profile: Record<string, ProfileValue>;
  /** Things an operator should look at, e.g. `unmapped-gender:<value>`. */
  flags: string[];
}

/**
 * Refusals first (collective, then domains) so a refused user changes nothing;
 * then normalisation (language, gender) on a clone, and the profile read from
 * the normalised document. The input document is never modified.
 */
export function applyUserPolicies(settings: ConnectionSettings, doc: Doc, previous?: Doc): { doc: Doc; app: AppView } {
  // Address refusals judge new addresses only: a user whose addresses predate a
  // stricter setting must still be deactivated or renamed, never stuck.
  if (!previous || addressKey(previous) !== addressKey(doc)) {
    checkCollective(settings, doc);
    checkDomains(settings, doc);
  }
  const out = structuredClone(doc);
  const language = applyLanguage(settings, out);
  const gender = applyGender(settings, out);
  const flags: string[] = [];
  if (gender.unmappedGender !== undefined) flags.push(`unmapped-gender:${gender.unmappedGender}`);
  return {
    doc: out,
    app: {
      role: settings.defaultRole,
      language: language.tag,
      primaryLanguage: language.primary,
      profile: resolveProfile(settings, out),
      flags,
    },
  };
}

function addressKey(doc: Doc): string {
  return addressesOf(doc)
    .map((a) => a.address.trim().toLowerCase())
    .sort()
    .join('\n');
}

/** All policy checks for `mergeSettings(current, patch, settingsChecks)`. */
export const settingsChecks: ((settings: ConnectionSettings) => string[])[] = [
  validateCollectiveLocalParts,
  validateDefaultLanguage,
  validateGenderValues,
  validateAttributeMap,
  validateGroupRules,
];
