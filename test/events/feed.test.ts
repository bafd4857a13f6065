/**
 * The events feed: pages through everything in commit order with no gaps or
 * duplicates; the cursor is derived from stored data, so it still works after the
 * database is closed and reopened; per-organisation feeds; bad parameters are 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import type { RollcallEvent } from '../../src/events/types.js';
import { emitEvents, newEvent } from './helpers.js';

let database: TestDatabase;
let rc: Rollcall;
let app: FastifyInstance;
const ADMIN = 'test-admin-token-feed';

async function open() {
  rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://feed.example', adminToken: ADMIN });
  app = await buildServer(rc);
  await app.ready();
}
async function closeAll() {
  await app.close();
  await rc.close();
}

beforeAll(async () => {
  database = await freshDatabase('rollcall-feed-');
  await open();
});
afterAll(async () => {
  await closeAll();
  await database.drop();
});

async function getFeed(query: string) {
  const res = await app.inject({ method: 'GET', url: `/api/v1/events${query}`, headers: { authorization: `Bearer ${ADMIN}` } });
  return { status: res.statusCode, body: res.json() as any };
}

const TOTAL = 10_000;
let savedCursor = '';

describe('events feed', () => {
  it('pages through 10,000 events in order, with no gaps or duplicates', async () => {
    // 200 writes of 50 events each, submitted together: the batcher groups them.
    const writes = Array.from({ length: 200 }, (_, w) =>
      emitEvents(
        rc,
        Array.from({ length: 50 }, (_, i) => newEvent(w % 2 ? 'org-odd' : 'org-even', { data: { w, i } })),
      ),
    );
    await Promise.all(writes);

    const seen: RollcallEvent[] = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const { status, body } = await getFeed(`?limit=1000${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
      expect(status).toBe(200);
      pages++;
      if (!body.events.length) {
        expect(body.next).toBe(cursor); // nothing new: the same cursor, so polling loops work
        break;
      }
      seen.push(...body.events);
      cursor = body.next;
    }
    expect(pages).toBe(11);
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen.map((e) => e.id)).size).toBe(TOTAL);
    // Each write's events are contiguous and in emitted order; per organisation, sequences run 1..5000.
    for (const org of ['org-odd', 'org-even']) {
      const seqs = seen.filter((e) => e.organizationId === org).map((e) => e.sequence);
      expect(seqs).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    }
    for (let k = 0; k < TOTAL; k += 50) {
      const w = (seen[k].data as { w: number }).w;
      expect(seen.slice(k, k + 50).map((e) => (e.data as { w: number; i: number }).w)).toEqual(Array(50).fill(w));
      expect(seen.slice(k, k + 50).map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    savedCursor = cursor;
  });

  it('keeps working after the database is closed and reopened', async () => {
    await closeAll();
    await open();
    const empty = await getFeed(`?after=${encodeURIComponent(savedCursor)}`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ events: [], next: savedCursor });
    await emitEvents(rc, [newEvent('org-even', { data: { after: 'restart' } }), newEvent('org-odd')]);
    const page = await getFeed(`?after=${encodeURIComponent(savedCursor)}`);
    expect(page.body.events.map((e: RollcallEvent) => [e.organizationId, e.sequence])).toEqual([
      ['org-even', 5001],
      ['org-odd', 5001],
    ]);
    expect(page.body.next).not.toBe(savedCursor);
    // Through the library too.
    const lib = await rc.events.feed({ after: savedCursor, limit: 1 });
    expect(lib.events.map((e) => e.data)).toEqual([{ after: 'restart' }]);
    const rest = await rc.events.feed({ after: lib.next });
    expect(rest.events).toHaveLength(1);
    expect(rest.next).toBe(page.body.next);
  });

  it('filters by organisation, ordered by its sequence, with a cursor of its own', async () => {
    const first = await getFeed('?organizationId=org-odd&limit=3');
    expect(first.status).toBe(200);
    expect(first.body.events.map((e: RollcallEvent) => e.sequence)).toEqual([1, 2, 3]);
    expect(first.body.events.every((e: RollcallEvent) => e.organizationId === 'org-odd')).toBe(true);
    const second = await getFeed(`?organizationId=org-odd&limit=2&after=${first.body.next}`);
    expect(second.body.events.map((e: RollcallEvent) => e.sequence)).toEqual([4, 5]);
    // A cursor of one feed is refused by another.
    const mixed = await getFeed(`?after=${first.body.next}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.code).toBe('ROLLCALL_INVALID_CURSOR');
    const otherOrg = await getFeed(`?organizationId=org-even&after=${first.body.next}`);
    expect(otherOrg.status).toBe(400);
    // An organisation that does not exist (a misspelt id) is a 404, not an empty feed.
    const unknown = await getFeed('?organizationId=nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ROLLCALL_ADMIN_NOT_FOUND');
  });

  it('defaults to 100 events and refuses bad parameters with a clear JSON error', async () => {
    const def = await getFeed('');
    expect(def.body.events).toHaveLength(100);
    for (const [query, code] of [
      ['?limit=0', 'ROLLCALL_ADMIN_BAD_INPUT'],
      ['?limit=1001', 'ROLLCALL_ADMIN_BAD_INPUT'],
      ['?limit=ten', 'ROLLCALL_ADMIN_BAD_INPUT'],
      ['?limit=1&limit=2', 'ROLLCALL_ADMIN_BAD_INPUT'],
      ['?after=not-a-cursor!', 'ROLLCALL_INVALID_CURSOR'],
      [`?after=${Buffer.from('v2:all:1').toString('base64url')}`, 'ROLLCALL_INVALID_CURSOR'],
      ['?colour=blue', 'ROLLCALL_ADMIN_BAD_INPUT'],
    ] as const) {
      const r = await getFeed(query);
      expect(r.status, query).toBe(400);
      expect(r.body.error.status).toBe(400);
      expect(r.body.error.code, query).toBe(code);
      expect(typeof r.body.error.message).toBe('string');
    }
  });
});
