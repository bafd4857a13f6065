/**
 * Provisioning policies: pure functions over canonical user documents that the
 * directory layer runs before every user write, and the settings checks that
 * keep the policies' configuration valid.
 */
export { type Address, addressesOf } from './addresses.js';
export { checkDomains } from './domains.js';
export { BUILT_IN_COLLECTIVE_LOCAL_PARTS, checkCollective, roleKey, validateCollectiveLocalParts } from './collective.js';
export { type Language, applyLanguage, normalizeLanguage, validateDefaultLanguage } from './language.js';
export { applyGender, validateGenderValues } from './gender.js';
export { type CompiledPath, compilePath, valuesAt } from './paths.js';
export { type ProfileValue, resolveProfile, validateAttributeMap } from './profile.js';
export { groupsFromRules, validateGroupRules } from './groups.js';
export { type AppView, applyUserPolicies, settingsChecks } from './apply.js';
