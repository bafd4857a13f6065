/**
 * What the admin API (and the console on it) shows of a connection's directory:
 * users and groups in newest-first pages with a search and a state filter, one
 * user with its groups in any state, and a user's history — its events and the
 * membership events naming it, each linked to the logged SCIM request that caused it.
 *
 * History comes from the events (ROLLCALL_EVENTS=on, the default) and reaches back
 * as far as they are kept (ROLLCALL_EVENT_RETENTION_DAYS).
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import { type BrowsedUserRow, type Keyset, type UserState, browseGroups, browseUsers, userById, userEventRows } from '../store/browse.js';
import { groupsOfUsers } from '../store/memberships.js';
import { decodeEventData } from '../events/event-data.js';
import type { Doc } from '../scim/resource.js';
import { fail } from '../scim/errors.js';
import type { ConnectionDirectory } from './connections.js';
import { requestContext } from './context.js';
import { groupView, userView } from './emitted-events.js';
import type { GroupView, UserView } from './views.js';

export const MAX_BROWSE_PAGE = 200;
/** History entries returned at most (the oldest first). */
export const MAX_HISTORY = 1000;

export interface BrowseOptions {
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
  search?: string;
  state?: UserState;
}

export interface BrowsedUser extends UserView {
  connectionId: string;
  groups: { id: string; displayName: string }[];
}

export interface BrowsedGroup extends GroupView {
  memberCount: number;
}

export type HistoryType = 'created' | 'updated' | 'deactivated' | 'reactivated' | 'deleted' | 'restored' | 'purged' | 'joined_group' | 'left_group' | 'role_changed';

export interface HistoryEntry {
  at: string;
  type: HistoryType;
  /** For `updated`: which attributes changed, old → new; for `role_changed`: the role. */
  changes?: { path: string; before: unknown; after: unknown }[];
  /** For `joined_group` and `left_group`. */
  group?: { id: string; displayName: string };
  /** The provisioning log id of the SCIM request that caused it (GET /api/v1/connections/{id}/requests/{requestId}). */
  requestId?: string;
}

const HISTORY_TYPES: Record<string, HistoryType> = {
  'user.created': 'created',
  'user.updated': 'updated',
  'user.deactivated': 'deactivated',
  'user.reactivated': 'reactivated',
  'user.deleted': 'deleted',
  'user.restored': 'restored',
  'user.purged': 'purged',
  'group.member_added': 'joined_group',
  'group.member_removed': 'left_group',
  'user.role_changed': 'role_changed',
};

/** Attribute paths whose values never leave the server (none is stored today; this keeps it so). */
const SECRET_PATH = /(password|secret|token|credential)/i;

function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.createdAt, k.id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Keyset | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { createdAt: v[0], id: v[1] };
  } catch {
    // answered below
  }
  throw fail('ROLLCALL_INVALID_CURSOR', `'cursor' is not the 'next' of an earlier page`);
}

export class DirectoryBrowser {
  constructor(
    private readonly readDb: Kysely<DB>,
    private readonly connections: ConnectionDirectory,
  ) {}

  private async context(connectionId: string) {
    const c = await this.connections.show(connectionId);
    if (!c) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `no connection with id '${connectionId}'`);
    return requestContext(c.id, c, c.scimUrl);
  }

  private async withGroups(ctx: ReturnType<typeof requestContext>, rows: BrowsedUserRow[]): Promise<BrowsedUser[]> {
    const groups = rows.length ? await groupsOfUsers(this.readDb, rows.map((r) => r.id)) : new Map<string, { value: string; display: string }[]>();
    return rows.map((row) => ({
      ...userView(ctx, row, JSON.parse(row.doc) as Doc),
      connectionId: row.connection_id,
      groups: (groups.get(row.id) ?? []).map((g) => ({ id: g.value, displayName: g.display })),
    }));
  }

  /** A connection's users, newest first. */
  async users(connectionId: string, o: BrowseOptions = {}): Promise<{ users: BrowsedUser[]; next: string | null }> {
    const ctx = await this.context(connectionId);
    const limit = Math.min(o.limit ?? 50, MAX_BROWSE_PAGE);
    const rows = await browseUsers(this.readDb, connectionId, { limit: limit + 1, after: decodeCursor(o.cursor), search: o.search, state: o.state });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { users: await this.withGroups(ctx, page), next: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null };
  }

  /** One user in any state until it is purged, with its groups; undefined when there is none. */
  async user(id: string): Promise<BrowsedUser | undefined> {
    const row = await userById(this.readDb, id);
    if (!row) return undefined;
    const [user] = await this.withGroups(await this.context(row.connection_id), [row]);
    return user;
  }

  /**
   * What happened to a user, oldest first (also after it was purged, while its
   * events are kept). Undefined when neither the user nor any event of it exists.
   */
  async history(id: string): Promise<HistoryEntry[] | undefined> {
    const rows = await userEventRows(this.readDb, id, MAX_HISTORY);
    if (!rows.length && !(await userById(this.readDb, id))) return undefined;
    const out: HistoryEntry[] = [];
    for (const r of rows) {
      const type = HISTORY_TYPES[r.type];
      if (!type) continue;
      const entry: HistoryEntry = { at: r.occurred_at, type };
      const data = decodeEventData(r.data);
      if (type === 'updated' && Array.isArray(data.changes)) {
        entry.changes = (data.changes as { path: string; before: unknown; after: unknown }[]).map((c) =>
          SECRET_PATH.test(c.path) ? { path: c.path, before: '[redacted]', after: '[redacted]' } : { path: c.path, before: c.before ?? null, after: c.after ?? null },
        );
      }
      if (type === 'role_changed') entry.changes = [{ path: 'role', before: data.previousRole ?? null, after: data.role ?? null }];
      if (type === 'joined_group' || type === 'left_group') {
        const g = data.group as { id?: string; displayName?: string } | undefined;
        entry.group = { id: g?.id ?? '', displayName: g?.displayName ?? '' };
      }
      if (r.request_id) entry.requestId = r.request_id;
      out.push(entry);
    }
    return out;
  }

  /** A connection's groups, newest first, with how many members each has. */
  async groups(connectionId: string, o: BrowseOptions = {}): Promise<{ groups: BrowsedGroup[]; next: string | null }> {
    await this.context(connectionId);
    const limit = Math.min(o.limit ?? 50, MAX_BROWSE_PAGE);
    const rows = await browseGroups(this.readDb, connectionId, { limit: limit + 1, after: decodeCursor(o.cursor), search: o.search });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      groups: page.map((row) => ({ ...groupView(row), memberCount: Number(row.member_count) })),
      next: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    };
  }
}
