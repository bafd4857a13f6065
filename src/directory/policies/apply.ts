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
  /** Things an operator should look at, e.g. `unmapped-gender:<value>`, `unsupported-language:<value>`. */
  flags: string[];
}

/**
 * Refusals first (collective, then domains) so a refused user changes nothing;
 * then normalisation (language, gender) on a clone, and the profile read from
 * the normalised document. The input document is never modified.
 */
export function applyUserPolicies(settings: ConnectionSettings, doc: Doc, previous?: Doc): { doc: Doc; app: AppView } {
  // Address refusals judge new addresses only: a user whose addresses predate a
  // stricter setting must still be deactivated, renamed or given another address.
  const judged = previous ? onlyNewAddresses(previous, doc) : doc;
  checkCollective(settings, judged);
  checkDomains(settings, judged);
  const out = structuredClone(doc);
  const language = applyLanguage(settings, out);
  const gender = applyGender(settings, out);
  const flags: string[] = [];
  if (gender.unmappedGender !== undefined) flags.push(`unmapped-gender:${gender.unmappedGender}`);
  if (language.unsupported !== undefined) flags.push(`unsupported-language:${language.unsupported}`);
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

/** A document carrying just the addresses of `doc` that `previous` did not have. */
function onlyNewAddresses(previous: Doc, doc: Doc): Doc {
  const known = new Set(addressesOf(previous).map((a) => a.address.toLowerCase()));
  const fresh = (v: unknown) => typeof v === 'string' && !known.has(v.trim().toLowerCase());
  const out: Doc = {};
  if (fresh(doc.userName)) out.userName = doc.userName;
  if (Array.isArray(doc.emails)) out.emails = doc.emails.filter((e) => fresh((e as Doc | null)?.value));
  return out;
}

/** All policy checks for `mergeSettings(current, patch, settingsChecks)`. */
export const settingsChecks: ((settings: ConnectionSettings) => string[])[] = [
  validateCollectiveLocalParts,
  validateDefaultLanguage,
  validateGenderValues,
  validateAttributeMap,
  validateGroupRules,
];
