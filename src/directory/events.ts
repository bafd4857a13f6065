/**
 * The events the directory emits, built from what a write already has in hand
 * (no extra reads): a user or group as the host application sees it, and for
 * updates the attributes that changed with their values before and after.
 */
import type { Doc } from '../scim/resource.js';
import type { AttributeChange, EventType, NewEvent } from '../events/types.js';
import type { UserRow } from '../store/users.js';
import type { GroupRow } from '../store/groups.js';
import type { RequestContext } from './context.js';

/** A user for the host app: identity, state, the SCIM attributes, and what the policies resolved. */
export function userView(ctx: RequestContext, row: UserRow, doc: Doc): Record<string, unknown> {
  const app = JSON.parse(row.app || '{}') as Record<string, unknown>;
  return {
    id: row.id,
    externalId: row.external_id,
    userName: row.user_name,
    displayName: row.display_name,
    active: row.active === 1,
    state: row.state,
    email: primaryEmail(doc),
    workspace: app.workspace ?? ctx.workspace ?? 'default',
    role: app.role ?? null,
    language: app.language ?? null,
    primaryLanguage: app.primaryLanguage ?? null,
    profile: app.profile ?? {},
    flags: app.flags ?? [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deactivatedAt: row.deactivated_at,
    deletedAt: row.deleted_at,
    version: row.version,
    scim: doc,
  };
}

function primaryEmail(doc: Doc): string | null {
  const emails = Array.isArray(doc.emails) ? (doc.emails as Doc[]) : [];
  const pick = emails.find((e) => e?.primary === true && typeof e.value === 'string') ?? emails.find((e) => typeof e?.value === 'string');
  return (pick?.value as string | undefined) ?? (typeof doc.userName === 'string' && doc.userName.includes('@') ? doc.userName : null);
}

export function groupView(row: GroupRow): Record<string, unknown> {
  return {
    id: row.id,
    externalId: row.external_id,
    displayName: row.display_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** A member as named in membership events (the user rows are read for these anyway). */
export interface MemberRef {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
}

export function event(
  ctx: RequestContext,
  type: EventType,
  resource: { type: 'User' | 'Group' | 'Connection'; id: string },
  data: Record<string, unknown>,
  occurredAt: string,
): NewEvent {
  return {
    type,
    organizationId: ctx.organizationId ?? null,
    connectionId: ctx.connectionId,
    resourceType: resource.type,
    resourceId: resource.id,
    occurredAt,
    data,
  };
}

export function membershipEvent(
  ctx: RequestContext,
  type: 'group.member_added' | 'group.member_removed',
  group: { id: string; displayName: string },
  member: MemberRef,
  occurredAt: string,
): NewEvent {
  // Ordered with the group's other events: a remove never overtakes the add before it.
  return event(ctx, type, { type: 'Group', id: group.id }, { group, user: member }, occurredAt);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The attributes that differ between two stored documents, as SCIM paths:
 * sub-attributes of complex attributes (`name.givenName`) and of extensions
 * (`urn:…:enterprise:2.0:User:department`) one by one, multi-valued attributes
 * (`emails`) as a whole. Absent values are null.
 */
export function changesBetween(before: Doc, after: Doc, extra: Record<string, [unknown, unknown]> = {}): AttributeChange[] {
  const out: AttributeChange[] = [];
  for (const [path, [b, a]] of Object.entries(extra)) if (!same(b ?? null, a ?? null)) out.push({ path, before: b ?? null, after: a ?? null });
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const b = before[key];
    const a = after[key];
    if (same(b, a)) continue;
    const isObject = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
    if ((isObject(b) || b === undefined) && (isObject(a) || a === undefined) && (isObject(b) || isObject(a))) {
      // Complex attribute or schema extension: report its sub-attributes.
      const sep = key.startsWith('urn:') ? ':' : '.';
      const bo = (b ?? {}) as Doc;
      const ao = (a ?? {}) as Doc;
      for (const sub of new Set([...Object.keys(bo), ...Object.keys(ao)])) {
        if (!same(bo[sub], ao[sub])) out.push({ path: `${key}${sep}${sub}`, before: bo[sub] ?? null, after: ao[sub] ?? null });
      }
      continue;
    }
    out.push({ path: key, before: b ?? null, after: a ?? null });
  }
  return out;
}
