/**
 * ROLLCALL_RATE_LIMIT: SCIM requests per connection per minute, counted in the
 * database so that several instances together let no more through. Over the
 * limit: SCIM 429 with Retry-After until the minute ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { RateLimiter } from '../../src/directory/rate-limit.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let database: TestDatabase | undefined;
let opened: { rc: Rollcall; app: FastifyInstance }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.app.close();
    await o.rc.close();
  }
  await database?.drop();
  database = undefined;
});

const clock = { now: new Date('2026-05-04T12:00:15Z') };

/** `n` instances (own pools, own limiter state) on one fresh database. */
async function instances(n: number, rateLimitPerMinute: number) {
  database = await freshDatabase('rollcall-rate-');
  for (let i = 0; i < n; i++) {
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', clock: () => clock.now, rateLimitPerMinute });
    rc.setLogger({ error: () => {}, warn: () => {}, info: () => {} });
    const app = await buildServer(rc, { logger: false });
    opened.push({ rc, app });
  }
  const conn = await opened[0].rc.connections.create({ name: 'Rate' });
  const other = await opened[0].rc.connections.create({ name: 'Other' });
  const get = (i: number, c = conn) =>
    opened[i % n].app.inject({ method: 'GET', url: `/scim/v2/${c.id}/Users?count=1`, headers: { authorization: `Bearer ${c.token}` } });
  return { conn, other, get };
}

describe('rate limit per connection', () => {
  it('answers 429 with Retry-After once a connection has used its minute, and lets it go on in the next', async () => {
    clock.now = new Date('2026-05-04T12:00:15Z');
    const { other, get } = await instances(1, 20);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await get(0)).statusCode);
    expect(statuses).toEqual([...Array(20).fill(200), ...Array(5).fill(429)]);
    const refused = await get(0);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('45');
    const body = refused.json();
    expect(body.schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    expect(body.status).toBe('429');
    expect(body.detail).toMatch(/20 requests a minute.*45 s/);
    // Another connection has its own budget.
    expect((await get(0, other)).statusCode).toBe(200);
    clock.now = new Date('2026-05-04T12:01:00Z');
    expect((await get(0)).statusCode).toBe(200);
  });

  it('two instances on one database let exactly the limit through together', async () => {
    clock.now = new Date('2026-05-04T12:00:15Z');
    const { get } = await instances(2, 50);
    const replies = await Promise.all(Array.from({ length: 120 }, (_, i) => get(i)));
    const count = (s: number) => replies.filter((r) => r.statusCode === s).length;
    expect(count(200)).toBe(50);
    expect(count(429)).toBe(70);
    // Each instance served part of it: the budget is shared, not per instance.
    const rows = await opened[0].rc.database.db.selectFrom('rate_windows').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0].claimed).toBe(50);
  });

  it('each instance claims blocks of about 1% of the limit and spends them locally', async () => {
    clock.now = new Date('2026-05-04T12:00:15Z');
    const { get } = await instances(2, 1000);
    // 1,000 a minute: claims of 10; the first request on each instance claims a block.
    expect((await get(0)).statusCode).toBe(200);
    expect((await get(1)).statusCode).toBe(200);
    const claimed = async () => (await opened[0].rc.database.db.selectFrom('rate_windows').select('claimed').executeTakeFirstOrThrow()).claimed;
    expect(await claimed()).toBe(20);
    for (let i = 0; i < 18; i++) expect((await get(i)).statusCode).toBe(200);
    expect(await claimed()).toBe(20);
    expect((await get(0)).statusCode).toBe(200);
    expect(await claimed()).toBe(30);
  });

  it('no limit (0, the default) stores nothing and refuses nothing', async () => {
    clock.now = new Date('2026-05-04T12:00:15Z');
    const { get } = await instances(1, 0);
    for (let i = 0; i < 30; i++) expect((await get(0)).statusCode).toBe(200);
    expect(await opened[0].rc.database.db.selectFrom('rate_windows').selectAll().execute()).toEqual([]);
  });

  it('forgets the stored windows of minutes that are over', async () => {
    clock.now = new Date('2026-05-04T12:00:15Z');
    const { get } = await instances(1, 5);
    await get(0);
    clock.now = new Date('2026-05-04T12:05:15Z');
    await get(0);
    const { db } = opened[0].rc.database;
    await expect.poll(async () => (await db.selectFrom('rate_windows').select('window_start').execute()).length).toBe(1);
    const [row] = await db.selectFrom('rate_windows').select('window_start').execute();
    expect(row.window_start).toBe(Math.floor(clock.now.getTime() / 60_000));
  });

  it('lets requests through and reports the error when the database cannot take a claim', async () => {
    database = await freshDatabase('rollcall-rate-');
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test' });
    const errors: unknown[] = [];
    const limiter = new RateLimiter(rc.database.db, rc.database.dialect, 1, () => new Date(), (e) => errors.push(e));
    await rc.close();
    expect(await limiter.admit('any')).toEqual({ allowed: true });
    expect(errors.length).toBeGreaterThan(0);
  });

  it('instances with different limits (a change rolling out) never let more through than the higher one', async () => {
    database = await freshDatabase('rollcall-rate-');
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test' });
    opened.push({ rc, app: await buildServer(rc, { logger: false }) });
    const at = () => new Date('2026-05-04T12:00:15Z');
    const fail = (e: unknown) => {
      throw e;
    };
    const high = new RateLimiter(rc.database.db, rc.database.dialect, 100, at, fail);
    const low = new RateLimiter(rc.database.db, rc.database.dialect, 40, at, fail);
    let passed = 0;
    for (let i = 0; i < 100; i++) if ((await high.admit('c')).allowed) passed++;
    expect(passed).toBe(100);
    // The lower limit is already used up; it must not lower the shared count either.
    expect((await low.admit('c')).allowed).toBe(false);
    for (let i = 0; i < 50; i++) if ((await high.admit('c')).allowed) passed++;
    expect(passed).toBe(100);
    const row = await rc.database.db.selectFrom('rate_windows').selectAll().executeTakeFirstOrThrow();
    expect(row.claimed).toBe(100);
  });

  it('a clock that steps back keeps counting against the newer minute', async () => {
    database = await freshDatabase('rollcall-rate-');
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test' });
    opened.push({ rc, app: await buildServer(rc, { logger: false }) });
    const t = { now: new Date('2026-05-04T12:01:10Z') };
    const limiter = new RateLimiter(rc.database.db, rc.database.dialect, 2, () => t.now, () => {});
    expect((await limiter.admit('c')).allowed).toBe(true);
    expect((await limiter.admit('c')).allowed).toBe(true);
    t.now = new Date('2026-05-04T12:00:50Z');
    const refused = await limiter.admit('c');
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 70 });
  });

  it.each([2.5, -1, Number.NaN, 1e9])('refuses rateLimitPerMinute %s at creation', async (bad) => {
    database = await freshDatabase('rollcall-rate-');
    await expect(createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', rateLimitPerMinute: bad })).rejects.toThrow(/rateLimitPerMinute must be a whole number/);
  });
});
