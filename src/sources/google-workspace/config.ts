/**
 * A Google Workspace connection's settings and the service account key it was
 * given: checked on upload, so a run never starts with something Google refuses
 * for a reason we could have named.
 */
/** Attributes a custom field may not overwrite (identity, lifecycle, structure). */
const RESERVED_TARGETS = new Set(['id', 'externalId', 'userName', 'active', 'schemas', 'meta', 'emails', 'groups', 'name', 'displayName']);
import { z } from 'zod';
import { fail } from '../../scim/errors.js';

export const GOOGLE_WORKSPACE = 'google-workspace';

/** The read-only scopes the service account is granted by domain-wide delegation. */
export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
] as const;

/** The fields of a service account key file Rollcall uses. */
export interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  client_id: string;
  private_key: string;
  private_key_id?: string;
}

const email = z.string().trim().toLowerCase().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'is not an e-mail address');

export const googleConfigSchema = z
  .object({
    /** The Workspace administrator the service account acts as (domain-wide delegation). */
    adminEmail: email,
    /** The customer's primary domain (also the connection's default verifiedDomains). */
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'is not a domain name like example.com'),
    /** Only users in these organisational units (and their children); empty: every user. */
    orgUnits: z.array(z.string().trim().regex(/^\/[^']*$/, "is not an organisational unit path like /Sales (no ')")).max(50).default([]),
    /** Only these groups (by e-mail address); empty: every group. */
    groups: z.array(email).max(500).default([]),
    /** Google custom schema fields (`Schema.field`) → SCIM attribute (`title`, `urn:…:User:costCenter`), which attributeMap can then read. */
    customAttributes: z
      .record(
        z.string().regex(/^[^.]+\.[^.]+$/, 'must be Schema.field'),
        // A SCIM attribute name (optionally under an extension URN): never a key that reaches
        // Object.prototype, and never an attribute the sync itself owns.
        z
          .string()
          .regex(/^(urn:[A-Za-z0-9.:_-]+:)?[A-Za-z][A-Za-z0-9]*$/, 'must be a SCIM attribute name, optionally after an extension URN')
          .refine((t) => !RESERVED_TARGETS.has(t), 'is set by the sync itself'),
      )
      .default({}),
  })
  .strict();

export type GoogleConfig = z.infer<typeof googleConfigSchema>;

/** The settings as stored: what was given, plus the service account's address and client id (not secret; the console shows them for the delegation step). */
export type StoredGoogleConfig = GoogleConfig & { clientEmail: string; clientId: string };

export function parseGoogleConfig(input: unknown): GoogleConfig {
  const parsed = googleConfigSchema.safeParse(input);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.') || 'source'}: ${i.message}`).join('; ');
    throw fail('ROLLCALL_SOURCE_INVALID_CONFIG', `invalid Google Workspace settings: ${what}`);
  }
  return parsed.data;
}

/** The key file's text as a service account key, or ROLLCALL_SOURCE_KEY_INVALID naming what is wrong. */
export function parseServiceAccountKey(text: string): ServiceAccountKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail('ROLLCALL_SOURCE_KEY_INVALID', 'the service account key is not JSON (download it as JSON from the Google Cloud console: IAM & Admin → Service accounts → Keys)');
  }
  const k = json as Partial<Record<keyof ServiceAccountKey, unknown>>;
  if (typeof json !== 'object' || json === null || k.type !== 'service_account') {
    throw fail('ROLLCALL_SOURCE_KEY_INVALID', 'the key file is not a service account key (its "type" must be "service_account")');
  }
  for (const field of ['client_email', 'client_id', 'private_key'] as const) {
    if (typeof k[field] !== 'string' || !(k[field] as string).trim()) throw fail('ROLLCALL_SOURCE_KEY_INVALID', `the service account key has no "${field}"`);
  }
  if (!(k.private_key as string).includes('PRIVATE KEY-----')) throw fail('ROLLCALL_SOURCE_KEY_INVALID', 'the service account key\'s "private_key" is not a PEM private key');
  return {
    type: 'service_account',
    client_email: k.client_email as string,
    client_id: k.client_id as string,
    private_key: k.private_key as string,
    ...(typeof k.private_key_id === 'string' ? { private_key_id: k.private_key_id } : {}),
  };
}
