/**
 * What the host application is told about a change. Directory writes emit
 * `NewEvent`s inside their transaction (WriteBatcher's `emit`); the outbox stores
 * them in that same transaction, numbered per organisation.
 */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'user.restored',
  'user.purged',
  'user.role_changed',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.member_added',
  'group.member_removed',
  'connection.token_rotated',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface AttributeChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** An event as a write emits it, before the outbox gives it an id and a sequence. */
export interface NewEvent {
  type: EventType;
  /** Null only for connections created before organisations existed. */
  organizationId: string | null;
  connectionId: string;
  /** What the event is about; deliveries keep order per (resourceType, resourceId). */
  resourceType: 'User' | 'Group' | 'Connection';
  resourceId: string;
  occurredAt: string;
  /** The resource as the host app sees it; for user.updated also `changes`. */
  data: Record<string, unknown>;
  /** The SCIM request that caused it (its provisioning log id), when one did. */
  requestId?: string;
  /** For membership events: the member's id. */
  memberId?: string;
}

/** The stored, published form (webhook body, feed entry, in-process subscribers). */
export interface RollcallEvent {
  id: string;
  type: EventType;
  occurredAt: string;
  organizationId: string | null;
  connectionId: string;
  sequence: number;
  data: Record<string, unknown>;
}
