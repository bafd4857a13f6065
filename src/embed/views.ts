/**
 * What a host application sees of users, groups and events: typed forms of the
 * plain JSON the directory and the event outbox produce (the same shapes as the
 * webhook bodies and the feed).
 */
import type { AttributeChange, EventType, RollcallEvent } from '../events/types.js';
import type { EventHandler, SubscribeOptions } from '../events/bus.js';

export type { UserView, GroupView } from '../directory/views.js';
import type { UserView, GroupView } from '../directory/views.js';

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
  /** The role came from the connection's roleMapping and changed with the user's groups (or the mapping). */
  'user.role_changed': UserView & { previousRole: string | null };
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
