/**
 * The events the directory emits, built from what a write already has in hand
 * (no extra reads): a user or group as the host application sees it, and for
 * updates the attributes that changed with their values before and after.
 */
import type { Doc } from '../scim/resource.js';
import { diff } from '../scim/patch.js';
import type { ResourceTypeDef } from '../scim/schemas.js';
import type { AttributeChange, EventType, NewEvent } from '../events/types.js';
import type { UserRow } from '../store/users.js';
import type { GroupRow } from '../store/groups.js';
import type { GroupView, UserView } from './views.js';
import type { RequestContext } from './context.js';

/** A user for the host app: identity, state, the SCIM attributes, and what the policies resolved. */
/** What the policies resolved for the host application, stored with the user (users.app). */
interface ResolvedApp {
  workspace?: string;
  role?: string | null;
  language?: string | null;
  primaryLanguage?: string | null;
  profile?: Record<string, unknown>;
  flags?: string[];
}

/**
 * users.app as stored: what is null or empty is left out (userView reads it back
 * as null, {} or []), which keeps about 60 bytes off every user row.
 */
export function storedApp(app: object): string {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(app)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v) ? !v.length : typeof v === 'object' && !Object.keys(v).length) continue;
    kept[k] = v;
  }
  return JSON.stringify(kept);
}

/** users.app as read: what storedApp left out comes back as null, {} or []. */
export function readApp(stored: string): Required<Omit<ResolvedApp, 'workspace'>> & Pick<ResolvedApp, 'workspace'> {
  const app = JSON.parse(stored || '{}') as ResolvedApp;
  return { ...app, role: app.role ?? null, language: app.language ?? null, primaryLanguage: app.primaryLanguage ?? null, profile: app.profile ?? {}, flags: app.flags ?? [] };
}

export function userView(ctx: RequestContext, row: UserRow, doc: Doc): UserView {
  const app = readApp(row.app);
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

export function groupView(row: GroupRow): GroupView {
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
  data: object,
  occurredAt: string,
): NewEvent {
  return {
    type,
    organizationId: ctx.organizationId ?? null,
    connectionId: ctx.connectionId,
    resourceType: resource.type,
    resourceId: resource.id,
    occurredAt,
    data: data as Record<string, unknown>,
    ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
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
  return { ...event(ctx, type, { type: 'Group', id: group.id }, { group, user: member }, occurredAt), memberId: member.id };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isObject = (v: unknown): v is Doc => !!v && typeof v === 'object' && !Array.isArray(v);

/** A resource version as the diff compares it: the document and the externalId beside it. */
export interface Version {
  doc: Doc;
  externalId: string | null;
}

/**
 * The attributes that differ between two versions, as SCIM paths: scim's `diff`
 * (top-level attributes, extension attributes one by one, externalId), with the
 * sub-attributes of complex core attributes (`name.givenName`) reported one by
 * one, as host apps read them. externalId comes first; absent values are null.
 */
export function attributeChanges(rt: ResourceTypeDef, before: Version, after: Version): AttributeChange[] {
  const changes = diff(rt, { doc: before.doc, externalId: before.externalId ?? undefined }, { doc: after.doc, externalId: after.externalId ?? undefined });
  const out: AttributeChange[] = [];
  for (const { path, before: b, after: a } of changes) {
    // A complex core attribute: an object on one side at least, absent or an object on the other.
    const complex = !path.startsWith('urn:') && (isObject(b) || isObject(a)) && (isObject(b) || b === undefined) && (isObject(a) || a === undefined);
    if (!complex) {
      const change = { path, before: b ?? null, after: a ?? null };
      if (path === 'externalId') out.unshift(change);
      else out.push(change);
      continue;
    }
    const bo = b ?? {};
    const ao = a ?? {};
    for (const sub of new Set([...Object.keys(bo), ...Object.keys(ao)])) {
      if (!same(bo[sub], ao[sub])) out.push({ path: `${path}.${sub}`, before: bo[sub] ?? null, after: ao[sub] ?? null });
    }
  }
  return out;
}
