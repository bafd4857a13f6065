/**
 * What a host application sees of users, groups and events: typed forms of the
 * plain JSON the directory and the event outbox produce (the same shapes as the
 * webhook bodies and the feed).
 */
import type { AttributeChange, EventType, RollcallEvent } from '../events/types.js';
import type { EventHandler, SubscribeOptions } from '../events/bus.js';

/** A user as the host app sees it: identity, state, what the policies resolved, and the SCIM attributes. */
export interface UserView {
  id: string;
  externalId: string | null;
  userName: string;
  displayName: string | null;
  active: boolean;
  /** active | deactivated | deleted */
  state: string;
  /** The primary (else first) e-mail, else the userName when it is an address. */
  email: string | null;
  workspace: string;
  role: string | null;
  /** BCP 47 tag, e.g. de-DE. */
  language: string | null;
  /** Its primary language, e.g. de. */
  primaryLanguage: string | null;
  /** Host-app profile fields resolved through the connection's attributeMap. */
  profile: Record<string, unknown>;
  /** e.g. `unmapped-gender:<value>` */
  flags: string[];
  createdAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
  deletedAt: string | null;
  version: number;
  /** The stored SCIM attributes (no id, meta or groups). */
  scim: Record<string, unknown>;
}

export interface GroupView {
  id: string;
  externalId: string | null;
  displayName: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** A user as named in membership events. */
export interface MemberRef {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
}

export interface MembershipEventData {
  group: { id: string; displayName: string };
  user: MemberRef;
}

export interface TokenRotatedEventData {
  connection: { id: string; name: string; workspace: string };
  tokenId: string;
  /** Until when the previous token stays valid. */
  previousValidUntil: string;
}

/** The `data` of each event type. */
export interface EventDataMap {
  'user.created': UserView;
  'user.updated': UserView & { changes: AttributeChange[] };
  'user.deactivated': UserView;
  'user.reactivated': UserView;
  'user.deleted': UserView;
  'user.restored': UserView;
  'user.purged': UserView;
  'group.created': GroupView;
  'group.updated': GroupView & { changes: AttributeChange[] };
  'group.deleted': GroupView;
  'group.member_added': MembershipEventData;
  'group.member_removed': MembershipEventData;
  'connection.token_rotated': TokenRotatedEventData;
}

/**
 * An event of type `T` with its typed `data`. For several types a union, which
 * `switch (event.type)` narrows.
 */
export type RollcallEventOf<T extends EventType = EventType> = {
  [K in T]: Omit<RollcallEvent, 'type' | 'data'> & { type: K; data: EventDataMap[K] };
}[T];

/** True when `event` is one of `types`, narrowing its `data`. */
export function isEventOf<T extends EventType>(event: RollcallEvent, ...types: T[]): event is RollcallEvent & RollcallEventOf<T> {
  return (types as string[]).includes(event.type);
}

/**
 * `rollcall.events.subscribe` with typed events: `handler` receives only `types`
 * (all when empty), each with its typed `data`. Returns the unsubscribe function.
 */
export function onEvents<T extends EventType>(
  rollcall: { readonly events: { subscribe(handler: EventHandler, opts?: SubscribeOptions): () => void } },
  types: readonly T[],
  handler: (event: RollcallEventOf<T>) => void | Promise<void>,
): () => void {
  return rollcall.events.subscribe((e) => handler(e as unknown as RollcallEventOf<T>), { types });
}
