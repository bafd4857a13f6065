/**
 * Google's Directory API user and group → SCIM resources (the table in
 * docs/google-workspace.md). Pure: the same Google object always gives the same
 * resource, key order included, so a digest of it tells a change from none.
 */
import type { admin_directory_v1 } from '@googleapis/admin';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from '../../scim/schemas.js';
import type { SourceGroup, SourceUser } from '../source.js';
import type { GoogleConfig } from './config.js';

type GoogleUser = admin_directory_v1.Schema$User;
type GoogleGroup = admin_directory_v1.Schema$Group;

interface Typed {
  type?: string | null;
  primary?: boolean | null;
}

/** Google's phone types → SCIM's canonical ones. */
const PHONE_TYPES: Record<string, string> = { work: 'work', home: 'home', mobile: 'mobile', work_mobile: 'mobile', home_fax: 'fax', work_fax: 'fax', other_fax: 'fax', pager: 'pager' };
const EMAIL_TYPES: Record<string, string> = { work: 'work', home: 'home', other: 'other', custom: 'other' };

/** Google returns these as arrays; a malformed field (an object, null) counts as none. */
function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function primaryOf<T extends Typed>(items: T[]): T | undefined {
  return items.find((i) => i.primary) ?? items[0];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);

/** Sets `key` only when there is a value, so absent fields stay absent. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined && value !== null && !(Array.isArray(value) && !value.length)) target[key] = value;
}

/**
 * A custom schema value as one SCIM value (a multi-valued field's first value):
 * numbers as text, since the attributes an attribute map reads are strings.
 */
function customValue(v: unknown): string | boolean | undefined {
  const first = Array.isArray(v) ? (v[0] as { value?: unknown } | undefined)?.value : v;
  if (typeof first === 'number') return String(first);
  return typeof first === 'string' || typeof first === 'boolean' ? first : undefined;
}

/** `urn:…:User:costCenter` → [urn, costCenter]; `title` → [undefined, title]. */
function splitTarget(target: string): [string | undefined, string] {
  const i = target.lastIndexOf(':');
  return i < 0 ? [undefined, target] : [target.slice(0, i), target.slice(i + 1)];
}

export function googleUserToScim(u: GoogleUser, config: Pick<GoogleConfig, 'customAttributes'>): SourceUser {
  const primaryEmail = u.primaryEmail ?? '';
  const out: Record<string, unknown> = { schemas: [CORE_USER], externalId: u.id ?? '', userName: primaryEmail };
  const name: Record<string, unknown> = {};
  put(name, 'formatted', text(u.name?.fullName));
  put(name, 'familyName', text(u.name?.familyName));
  put(name, 'givenName', text(u.name?.givenName));
  if (Object.keys(name).length) out.name = name;
  put(out, 'displayName', text(u.name?.displayName) ?? text(u.name?.fullName));
  const org = primaryOf(list<admin_directory_v1.Schema$UserOrganization>(u.organizations));
  put(out, 'title', text(org?.title));
  const preferred = list<admin_directory_v1.Schema$UserLanguage>(u.languages);
  put(out, 'preferredLanguage', text((preferred.find((l) => l.preference === 'preferred') ?? preferred[0])?.languageCode));
  out.active = !u.suspended && !u.archived;
  // The primary address, then the others Google types as work/home/other; untyped
  // entries are aliases (including the domain's test alias), not the user's addresses.
  const emails: Record<string, unknown>[] = [{ value: primaryEmail, type: 'work', primary: true }];
  for (const e of list<{ address?: string; type?: string }>(u.emails)) {
    const type = e.type ? EMAIL_TYPES[e.type] : undefined;
    if (type && e.address && e.address.toLowerCase() !== primaryEmail.toLowerCase()) emails.push({ value: e.address, type });
  }
  out.emails = emails;
  const phones = list<admin_directory_v1.Schema$UserPhone>(u.phones)
    .filter((p) => text(p.value))
    .map((p) => ({ value: p.value, type: PHONE_TYPES[p.type ?? ''] ?? 'other', ...(p.primary ? { primary: true } : {}) }));
  put(out, 'phoneNumbers', phones);
  const enterprise: Record<string, unknown> = {};
  put(enterprise, 'employeeNumber', text(list<{ type?: string; value?: string }>(u.externalIds).find((x) => x.type === 'organization')?.value));
  put(enterprise, 'costCenter', text(org?.costCenter));
  put(enterprise, 'organization', text(org?.name));
  put(enterprise, 'department', text(org?.department));
  const extensions: Record<string, Record<string, unknown>> = {};
  if (Object.keys(enterprise).length) extensions[ENTERPRISE_USER] = enterprise;
  const custom = (u.customSchemas ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [field, target] of Object.entries(config.customAttributes).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [schema, key] = field.split('.');
    const value = customValue(custom[schema]?.[key]);
    if (value === undefined) continue;
    const [urn, attr] = splitTarget(target);
    if (urn) (extensions[urn] ??= {})[attr] = value;
    else out[attr] = value;
  }
  for (const urn of Object.keys(extensions).sort()) {
    (out.schemas as string[]).push(urn);
    out[urn] = extensions[urn];
  }
  return { id: u.id ?? '', name: primaryEmail, resource: out };
}

export function googleGroupToScim(g: GoogleGroup): SourceGroup {
  const displayName = text(g.name) ?? g.email ?? g.id ?? '';
  return { id: g.id ?? '', name: g.email ?? displayName, resource: { schemas: [CORE_GROUP], displayName, externalId: g.id ?? '' } };
}
