/**
 * The events feed: events in commit order after a cursor. The cursor is opaque
 * to clients (base64url) but is nothing more than a stored number, so it survives
 * restarts and works on any instance:
 *
 *   all events:               "v1:all:<pos>"               (global position)
 *   one organisation's events: "v1:org:<organisation id>:<sequence>"
 *
 * Both numbers are handed out in commit order (see outbox.ts), so reading
 * `> cursor` never skips an event that committed after a later-numbered one.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import { fail } from '../scim/errors.js';
import { EVENT_READ_COLUMNS, eventFromRow } from './outbox.js';
import type { RollcallEvent } from './types.js';

export const DEFAULT_FEED_LIMIT = 100;
export const MAX_FEED_LIMIT = 1000;

export interface FeedOptions {
  /** A cursor from a previous page's `next`; absent: from the first event. */
  after?: string;
  /** 1 to 1000 (default 100). */
  limit?: number;
  /** Only this organisation's events, ordered by its sequence. */
  organizationId?: string;
}

export interface FeedPage {
  events: RollcallEvent[];
  /** Pass as `after` for the next page; equals the given cursor when nothing is new. */
  next: string;
}

type Cursor = { kind: 'all'; pos: number } | { kind: 'org'; organizationId: string; sequence: number };

export function encodeCursor(c: Cursor): string {
  const text = c.kind === 'all' ? `v1:all:${c.pos}` : `v1:org:${c.organizationId}:${c.sequence}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  const bad = () => fail('ROLLCALL_INVALID_CURSOR', `'after' is not a cursor returned by this feed: '${s.length > 80 ? s.slice(0, 80) + '…' : s}'`);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(s)) throw bad();
  const text = Buffer.from(s, 'base64url').toString('utf8');
  let m = /^v1:all:(\d{1,15})$/.exec(text);
  if (m) return { kind: 'all', pos: Number(m[1]) };
  m = /^v1:org:(.+):(\d{1,15})$/.exec(text);
  if (m) return { kind: 'org', organizationId: m[1], sequence: Number(m[2]) };
  throw bad();
}

export async function readFeed(db: Kysely<DB>, opts: FeedOptions = {}): Promise<FeedPage> {
  const limit = opts.limit ?? DEFAULT_FEED_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_LIMIT) {
    throw fail('ROLLCALL_INVALID_LIMIT', `'limit' must be a whole number from 1 to ${MAX_FEED_LIMIT}, got '${opts.limit}'`);
  }
  const org = opts.organizationId;
  let cursor: Cursor = org ? { kind: 'org', organizationId: org, sequence: 0 } : { kind: 'all', pos: 0 };
  if (opts.after !== undefined && opts.after !== '') {
    cursor = decodeCursor(opts.after);
    if (org ? cursor.kind !== 'org' || cursor.organizationId !== org : cursor.kind !== 'all') {
      throw fail(
        'ROLLCALL_INVALID_CURSOR',
        org
          ? `'after' is not a cursor of organisation '${org}''s feed (cursors of the unfiltered feed and of other organisations do not apply)`
          : `'after' is a cursor of one organisation's feed: pass the same organizationId`,
      );
    }
  }
  // Rows carry the connection's tenant key; its id comes from tenants (store/tenant.ts).
  const events = db.selectFrom('events').innerJoin('tenants', 'tenants.tenant', 'events.tenant').select(EVENT_READ_COLUMNS);
  if (cursor.kind === 'org') {
    const rows = await events
      .where('events.organization_id', '=', cursor.organizationId)
      .where('events.sequence', '>', cursor.sequence)
      .orderBy('events.sequence')
      .limit(limit)
      .execute();
    if (!rows.length) return { events: [], next: opts.after || encodeCursor(cursor) };
    return { events: rows.map(eventFromRow), next: encodeCursor({ ...cursor, sequence: Number(rows[rows.length - 1].sequence) }) };
  }
  const rows = await events.where('events.pos', '>', cursor.pos).orderBy('events.pos').limit(limit).execute();
  if (!rows.length) return { events: [], next: opts.after || encodeCursor(cursor) };
  return { events: rows.map(eventFromRow), next: encodeCursor({ kind: 'all', pos: Number(rows[rows.length - 1].pos) }) };
}
