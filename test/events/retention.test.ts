/**
 * Event retention: the hourly purge prunes events older than
 * eventRetentionDays, except those a webhook endpoint has not taken yet (beyond
 * its cursor) or still has pending; finished deliveries past the window go too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import type { RequestContext } from '../../src/directory/context.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

let database: TestDatabase | undefined;
let rc: Rollcall | undefined;
afterEach(async () => {
  await rc?.close();
  await database?.drop();
  rc = undefined;
});

const clock = { now: new Date('2026-01-01T00:00:00Z') };

async function open(eventRetentionDays?: number) {
  database = await freshDatabase('rollcall-retention-');
  rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.test', clock: () => clock.now, eventRetentionDays });
  return rc;
}

async function connection(r: Rollcall, name: string): Promise<RequestContext & { organizationId: string }> {
  const c = await r.connections.create({ name });
  return { connectionId: c.id, baseUrl: c.scimUrl, organizationId: c.organizationId!, settings: c.settings };
}

const count = async (r: Rollcall, org: string) => Number((await r.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('organization_id', '=', org).executeTakeFirstOrThrow()).n);

describe('event retention', () => {
  it('prunes old events no endpoint needs, keeps the ones a webhook has not taken yet', async () => {
    clock.now = new Date('2026-01-01T00:00:00Z');
    const r = await open(30);
    const quiet = await connection(r, 'No webhooks');
    const hooked = await connection(r, 'With a webhook');
    await r.webhooks.add(hooked.organizationId, { url: 'https://receiver.test/hook' });
    for (let i = 0; i < 5; i++) {
      await r.users.create(quiet, { userName: `q${i}@x.test` });
      await r.users.create(hooked, { userName: `h${i}@x.test` });
    }
    expect(await count(r, quiet.organizationId)).toBe(5);
    expect(await count(r, hooked.organizationId)).toBe(5);

    // Within the window nothing goes.
    clock.now = new Date('2026-01-20T00:00:00Z');
    expect((await r.purge()).events).toEqual({ events: 0, deliveries: 0 });

    // Past it: the quiet organisation's events go; the webhook has not taken its events yet.
    clock.now = new Date('2026-02-15T00:00:00Z');
    expect((await r.purge()).events?.events).toBe(5);
    expect(await count(r, quiet.organizationId)).toBe(0);
    expect(await count(r, hooked.organizationId)).toBe(5);

    // Once the endpoint's cursor has passed them (its worker took them), they go too.
    await r.database.db.updateTable('webhooks').set({ cursor: 5 }).where('organization_id', '=', hooked.organizationId).execute();
    expect((await r.purge()).events?.events).toBe(5);
    expect(await count(r, hooked.organizationId)).toBe(0);
    // The feed still works from an old cursor: it resumes at what is kept.
    expect((await r.events.feed()).events).toEqual([]);
  });

  it('prunes only a prefix of each organisation\'s sequence: an event kept for a pending delivery keeps the ones after it', async () => {
    clock.now = new Date('2026-01-01T00:00:00Z');
    const r = await open(30);
    const ctx = await connection(r, 'Pending');
    const other = await connection(r, 'Other');
    const hook = await r.webhooks.add(ctx.organizationId, { url: 'https://receiver.test/hook' });
    for (let i = 0; i < 5; i++) {
      await r.users.create(ctx, { userName: `p${i}@x.test` });
      await r.users.create(other, { userName: `o${i}@x.test` });
    }
    const events = await r.database.db.selectFrom('events').selectAll().where('organization_id', '=', ctx.organizationId).orderBy('sequence').execute();
    // The endpoint was given all five; the third is still pending, the rest delivered.
    await r.database.db.updateTable('webhooks').set({ cursor: 5 }).where('id', '=', hook.id).execute();
    await r.database.db
      .insertInto('webhook_deliveries')
      .values(
        events.map((e) => ({
          webhook_id: hook.id,
          sequence: Number(e.sequence),
          event_pos: Number(e.pos),
          event_id: e.id,
          event_type: e.type,
          resource_key: `User:${e.resource_id}`,
          status: Number(e.sequence) === 3 ? 'pending' : 'delivered',
          attempts: 1,
          next_attempt_at: clock.now.toISOString(),
          due_since: clock.now.toISOString(),
          created_at: clock.now.toISOString(),
        })),
      )
      .execute();
    clock.now = new Date('2026-02-15T00:00:00Z');
    await r.purge();
    const kept = await r.database.db.selectFrom('events').select('sequence').where('organization_id', '=', ctx.organizationId).orderBy('sequence').execute();
    expect(kept.map((k) => Number(k.sequence))).toEqual([3, 4, 5]);
    // The other organisation is not held back by this one's endpoint.
    expect(await count(r, other.organizationId)).toBe(0);
  });

  it('eventRetentionDays 0 keeps every event', async () => {
    clock.now = new Date('2026-01-01T00:00:00Z');
    const r = await open(0);
    const ctx = await connection(r, 'Forever');
    await r.users.create(ctx, { userName: 'kept@x.test' });
    clock.now = new Date('2027-01-01T00:00:00Z');
    expect((await r.purge()).events).toBeUndefined();
    expect(await count(r, ctx.organizationId)).toBe(1);
  });
});
