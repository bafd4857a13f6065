/**
 * preferredLanguage: ISO 639-1 language with an optional ISO 3166-1 alpha-2 or
 * UN M.49 region, stored as `de` / `de-DE` / `es-419`. SaaS products key their
 * translations on that shape, so anything else is refused rather than stored.
 */
import { fail } from '../../scim/errors.js';
import type { Doc } from '../../scim/resource.js';
import type { ConnectionSettings } from '../settings.js';

export interface Language {
  /** Normalised tag: `de`, `de-DE`, `es-419`. */
  tag: string;
  /** Primary language subtag: `de`. */
  primary: string;
}

const ACCEPTED =
  "Use a two-letter ISO 639-1 language code, optionally followed by a region: 'de', 'de-DE', 'en_US' or 'es-419'.";

// Node 20 ships full ICU, so CLDR's names double as the code lists. fallback
// 'none' makes unknown codes come back undefined instead of echoed.
const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** Withdrawn ISO 639-1 codes CLDR still names: stored as their replacement so products see one code per language. */
const LANGUAGE_ALIASES: Record<string, string> = { iw: 'he', in: 'id', ji: 'yi', jw: 'jv', mo: 'ro' };

/** `UK` is the usual mistake for `GB`; CLDR names it, ISO 3166-1 only reserves it. */
const REGION_ALIASES: Record<string, string> = { UK: 'GB' };

/**
 * Codes CLDR names that are not countries: withdrawn ISO 3166-1 codes (whose
 * successor is ambiguous, e.g. SU, YU), groupings (EU, UN, EZ), CLDR's
 * "Outlying Oceania", pseudo-locales and "Unknown Region".
 */
const NOT_A_REGION: ReadonlySet<string> = new Set([
  'AN', 'BU', 'CS', 'DD', 'DY', 'FX', 'HV', 'NH', 'RH', 'SU', 'TP', 'VD', 'YD', 'YU', 'ZR',
  'EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ',
]);

function known(names: Intl.DisplayNames, code: string): boolean {
  try {
    return names.of(code) !== undefined;
  } catch {
    return false; // RangeError for syntactically invalid codes
  }
}

/** The normalised language, or the reason it is not acceptable. */
function parseLanguage(value: unknown): Language | { problem: string } {
  if (typeof value !== 'string') return { problem: `it must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  const text = value.trim();
  if (text === '') return { problem: 'it is empty' };
  const parts = text.split(/[-_]/);
  if (parts.length > 2) return { problem: 'only a language and an optional region are accepted (no script or variant subtags)' };
  const [lang, region] = parts;
  if (/^[A-Za-z]{3}$/.test(lang)) return { problem: `'${lang}' is a three-letter code; only two-letter ISO 639-1 codes are accepted` };
  if (!/^[A-Za-z]{2}$/.test(lang)) return { problem: `'${lang}' is not a two-letter ISO 639-1 language code` };
  let primary = lang.toLowerCase();
  if (!known(languageNames, primary)) return { problem: `'${lang}' is not an ISO 639-1 language code` };
  primary = LANGUAGE_ALIASES[primary] ?? primary;
  if (region === undefined) return { tag: primary, primary };

  let r: string;
  if (/^[A-Za-z]{2}$/.test(region)) {
    r = region.toUpperCase();
    r = REGION_ALIASES[r] ?? r;
    if (NOT_A_REGION.has(r) || !known(regionNames, r)) return { problem: `'${region}' is not an ISO 3166-1 alpha-2 country code` };
  } else if (/^[0-9]{3}$/.test(region)) {
    // Area codes only (419 Latin America, 150 Europe …): CLDR maps numeric
    // country codes to alpha-2 with guesses (172 → RU), so those are refused.
    r = region;
    if (!known(regionNames, r)) return { problem: `'${region}' is not a UN M.49 area code; for a country use its ISO 3166-1 alpha-2 code` };
  } else if (/^[A-Za-z]{3}$/.test(region)) {
    return { problem: `'${region}' is a three-letter country code; use the two-letter ISO 3166-1 alpha-2 code` };
  } else {
    return { problem: `'${region}' is not a region: use an ISO 3166-1 alpha-2 country code or a UN M.49 area code` };
  }
  return { tag: `${primary}-${r}`, primary };
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/** Normalises a language tag (`EN_us` → `en-US`); throws invalidValue naming the value and what is accepted. */
export function normalizeLanguage(value: unknown): Language {
  const r = parseLanguage(value);
  if ('problem' in r) throw fail('ROLLCALL_INVALID_LANGUAGE', `${quote(value)} is not a supported language tag: ${r.problem}. ${ACCEPTED}`);
  return r;
}

/**
 * Rewrites `doc.preferredLanguage` (in place) to its normalised tag and returns
 * the effective language: the user's, else the connection's default, else null.
 * A value that is no supported tag stays as sent and comes back as `unsupported`
 * (refused instead with the setting strictLanguage).
 * An empty or blank preferredLanguage means "not set" (IdPs send "" for unset
 * attributes) and is removed so the default applies.
 */
export function applyLanguage(settings: ConnectionSettings, doc: Doc): { tag: string | null; primary: string | null; unsupported?: string } {
  const value = doc.preferredLanguage;
  if (value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '')) {
    const r = parseLanguage(value);
    if (!('problem' in r)) {
      doc.preferredLanguage = r.tag;
      return { tag: r.tag, primary: r.primary };
    }
    // IdP data is often only imperfect (`English`, `en-GB-oxendict`, a GUID): the
    // SCIM resource keeps what was sent, the host app gets the default and a flag.
    // strictLanguage restores the refusal; a value that is not even a string is
    // a schema error either way.
    if (settings.strictLanguage || typeof value !== 'string') throw fail('ROLLCALL_INVALID_LANGUAGE', `preferredLanguage ${quote(value)} is not supported: ${r.problem}. ${ACCEPTED} (strictLanguage is on)`);
    return { ...defaultLanguageOf(settings), unsupported: value.slice(0, 100) };
  }
  delete doc.preferredLanguage;
  return defaultLanguageOf(settings);
}

function defaultLanguageOf(settings: ConnectionSettings): { tag: string | null; primary: string | null } {
  if (settings.defaultLanguage !== null) {
    // Validated when the settings were saved; a stored value that no longer
    // parses must not make every user write fail, so it counts as "no default".
    const d = parseLanguage(settings.defaultLanguage);
    if (!('problem' in d)) return { tag: d.tag, primary: d.primary };
  }
  return { tag: null, primary: null };
}

/** Settings check for `defaultLanguage` (null = no default). */
export function validateDefaultLanguage(settings: ConnectionSettings): string[] {
  if (settings.defaultLanguage === null) return [];
  const r = parseLanguage(settings.defaultLanguage);
  if (!('problem' in r)) return [];
  return [`defaultLanguage: ${quote(settings.defaultLanguage)} is not supported: ${r.problem}. ${ACCEPTED} Use null for no default.`];
}
