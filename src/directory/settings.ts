/**
 * Per-connection provisioning settings: the promises a SaaS vendor makes to its
 * customers (verified domains, no role mailboxes, language, value maps, mapping
 * key, groups, retention). Validated strictly: an unknown key or a wrong type is
 * refused with a message naming it, never silently ignored.
 */
import { z } from 'zod';
import { RollcallError } from '../scim/errors.js';

const groupRule = z
  .object({
    when: z
      .object({
        attribute: z.string().min(1, 'groupRules[].when.attribute must name a SCIM attribute path'),
        in: z.array(z.string()).min(1, 'groupRules[].when.in must list at least one value'),
      })
      .strict(),
    addTo: z.string().trim().min(1, 'groupRules[].addTo must name a group'),
  })
  .strict();

const roleRule = z
  .object({
    group: z.string().trim().min(1, "roleMapping[].group must name a group (its displayName or externalId)"),
    role: z.string().trim().min(1, 'roleMapping[].role must name a role'),
  })
  .strict();

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'is not a domain name like example.com');

export const settingsSchema = z
  .object({
    domains: z.array(domain).default([]),
    rejectCollectiveAddresses: z.boolean().default(true),
    collectiveLocalParts: z.array(z.string().trim().toLowerCase().min(1)).default([]),
    defaultLanguage: z.string().nullable().default(null),
    /** Refuse a preferredLanguage that is no supported tag (default: keep it, give the host app defaultLanguage and a flag). */
    strictLanguage: z.boolean().default(false),
    defaultRole: z.string().trim().min(1).default('member'),
    /** Ordered: the first rule whose group the user is in gives the role, else defaultRole. Empty: roles are not derived from groups. */
    roleMapping: z.array(roleRule).max(100).default([]),
    genderValues: z.record(z.string(), z.string().min(1)).default({}),
    attributeMap: z.record(z.string().min(1), z.string().min(1)).default({}),
    mappingKey: z.enum(['externalId', 'userName']).default('userName'),
    lockMappingKey: z.boolean().default(false),
    exclusiveGroups: z.boolean().default(false),
    groupRules: z.array(groupRule).default([]),
    retentionDays: z.number().int().min(0).max(3650).default(30),
    purgeDeactivated: z.boolean().default(true),
  })
  .strict();

export type ConnectionSettings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: ConnectionSettings = settingsSchema.parse({});

/** A settings document that does not validate: the message lists every problem. */
export class SettingsError extends RollcallError {
  constructor(message: string) {
    super('ROLLCALL_INVALID_SETTINGS', message);
    this.name = 'SettingsError';
  }
}

/** One line per problem: `domains[1]: is not a domain name like example.com`. */
function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') : 'settings';
      if (i.code === 'unrecognized_keys') return `${where}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Validates `patch` merged over `current` (top-level keys replace, as documented
 * for `connection configure`). Extra checks that need the SCIM schema (attribute
 * paths, language tags) are passed in by the caller, keeping this module free of
 * the protocol layer.
 */
export function mergeSettings(current: unknown, patch: unknown, extraChecks: ((s: ConnectionSettings) => string[])[] = []): ConnectionSettings {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new SettingsError('settings must be a JSON object');
  }
  const base = typeof current === 'object' && current !== null ? current : {};
  const parsed = settingsSchema.safeParse({ ...base, ...patch });
  if (!parsed.success) throw new SettingsError(describe(parsed.error));
  const problems = extraChecks.flatMap((check) => check(parsed.data));
  if (problems.length) throw new SettingsError(problems.join('; '));
  return parsed.data;
}

/** Settings as stored (JSON text) → validated object; stored settings were validated on save. */
export function readSettings(json: string | null | undefined): ConnectionSettings {
  if (!json) return DEFAULT_SETTINGS;
  const parsed = settingsSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : DEFAULT_SETTINGS;
}
