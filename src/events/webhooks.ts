/**
 * Webhook endpoints (per organisation, each with its own secret) and the record
 * of their deliveries. Registering an endpoint costs the write path nothing: an
 * endpoint keeps a cursor (the organisation sequence it has been given work up
 * to), and the delivery worker turns the events after it into delivery rows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, WebhookDeliveriesTable, WebhooksTable } from '../store/types.js';
import { isUniqueViolation } from '../store/errors.js';
import { fail } from '../scim/errors.js';
import { SecretBox, isSealed } from '../store/secret-box.js';
import { EVENT_TYPES, type EventType } from './types.js';
import { counterKey } from './outbox.js';
import { type LookupAll, checkWebhookTarget } from './egress-policy.js';
import type { DeliveryOptions } from './delivery-options.js';

export interface Webhook {
  id: string;
  organizationId: string;
  url: string;
  /** Event types delivered; empty: all. */
  events: EventType[];
  createdAt: string;
}

/** As returned when created: the only time the secret is shown. */
export interface NewWebhook extends Webhook {
  secret: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  webhookId: string;
  eventId: string;
  eventType: string;
  /** The event's sequence in its organisation. */
  sequence: number;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  /** HTTP status of the last attempt (null: no response — refused, timed out, …). */
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export interface AddWebhookOptions {
  url: string;
  events?: readonly string[];
}

export const MAX_URL_LENGTH = 2048;

export function newWebhookSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64url');
}

/**
 * A webhook URL must be absolute http(s), without a fragment. Returns it
 * normalised (IPv4 in any spelling as a dotted quad). Where it may point is the
 * egress policy's to say (`checkWebhookTarget`, run by Webhooks.add).
 */
export function checkWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || !url.trim()) throw fail('ROLLCALL_INVALID_WEBHOOK_URL', "'url' is required: an absolute http(s) URL");
  const text = url.trim();
  if (text.length > MAX_URL_LENGTH) throw fail('ROLLCALL_INVALID_WEBHOOK_URL', `'url' is longer than ${MAX_URL_LENGTH} characters`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw fail('ROLLCALL_INVALID_WEBHOOK_URL', `'url' is not an absolute URL: '${text}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fail('ROLLCALL_INVALID_WEBHOOK_URL', `'url' must be http or https, not '${u.protocol.replace(/:$/, '')}'`);
  if (u.hash) throw fail('ROLLCALL_INVALID_WEBHOOK_URL', "'url' must not have a #fragment");
  return u.toString();
}

export function checkEventTypes(types: unknown): EventType[] {
  if (types === undefined || types === null) return [];
  if (!Array.isArray(types)) throw fail('ROLLCALL_INVALID_EVENT_TYPES', "'events' must be an array of event types");
  // An empty list would read as "every type" while saying "none": omit 'events' for every type.
  if (!types.length) throw fail('ROLLCALL_INVALID_EVENT_TYPES', "'events' is empty; omit it to receive every event type");
  const out: EventType[] = [];
  for (const t of types) {
    if (typeof t !== 'string' || !(EVENT_TYPES as readonly string[]).includes(t)) {
      throw fail('ROLLCALL_INVALID_EVENT_TYPES', `unknown event type '${String(t)}'; known types: ${EVENT_TYPES.join(', ')}`);
    }
    if (!out.includes(t as EventType)) out.push(t as EventType);
  }
  return out;
}

/** What a sealed secret is bound to: its row. */
export function secretContext(webhookId: string): string {
  return `webhooks.secret:${webhookId}`;
}

/**
 * Seals the secrets stored before there was a key (ROLLCALL_SECRET_KEY); each row
 * only if it still holds what was read, so concurrent instances agree. Returns how many.
 */
export async function sealStoredSecrets(db: Kysely<DB>, box: SecretBox): Promise<number> {
  if (!box.sealing) return 0;
  const rows = await db.selectFrom('webhooks').select(['id', 'secret']).where('secret', 'not like', 'enc:%').execute();
  let sealed = 0;
  for (const r of rows) {
    if (isSealed(r.secret)) continue;
    const u = await db.updateTable('webhooks').set({ secret: box.seal(r.secret, secretContext(r.id)) }).where('id', '=', r.id).where('secret', '=', r.secret).executeTakeFirst();
    sealed += Number(u.numUpdatedRows);
  }
  return sealed;
}

/** How endpoints are checked and their secrets stored (RollcallOptions.webhooks). */
export type WebhookOptions = Pick<DeliveryOptions, 'allowPrivate' | 'secretKey'> & {
  /** How host names are resolved when an endpoint is added (default dns.lookup). */
  lookup?: LookupAll;
};

function webhookOf(row: Pick<WebhooksTable, 'id' | 'organization_id' | 'url' | 'events' | 'created_at'>): Webhook {
  return { id: row.id, organizationId: row.organization_id, url: row.url, events: JSON.parse(row.events) as EventType[], createdAt: row.created_at };
}

export function deliveryOf(row: WebhookDeliveriesTable): Delivery {
  return {
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    sequence: Number(row.sequence),
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastAttemptAt: row.last_attempt_at,
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

const WEBHOOK_COLUMNS = ['id', 'organization_id', 'url', 'events', 'created_at'] as const;

export class Webhooks {
  /** Called after a change that gives the delivery worker work (a redelivery). */
  onWork: () => void = () => {};

  private readonly box: SecretBox;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: () => Date,
    private readonly opts: WebhookOptions = {},
  ) {
    this.box = new SecretBox(opts.secretKey);
  }

  private async requireOrganization(organizationId: string): Promise<void> {
    const org = await this.db.selectFrom('organizations').select('id').where('id', '=', organizationId).executeTakeFirst();
    if (!org) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${organizationId}'`);
  }

  /**
   * Registers an endpoint; it receives the organisation's events committed from
   * now on. The admin API and the CLI both come here, so both are held to the
   * egress policy; the secret is sealed at rest when there is a key.
   */
  async add(organizationId: string, opts: AddWebhookOptions): Promise<NewWebhook> {
    const url = checkWebhookUrl(opts.url);
    const events = checkEventTypes(opts.events);
    await checkWebhookTarget(url, { allowPrivate: this.opts.allowPrivate === true, lookup: this.opts.lookup });
    await this.requireOrganization(organizationId);
    // Everything numbered up to the counter's committed value has committed (numbers
    // are handed out in commit order): starting after it skips nothing new.
    const counter = await this.db.selectFrom('event_counters').select('value').where('key', '=', counterKey(organizationId)).executeTakeFirst();
    const id = randomUUID();
    const secret = newWebhookSecret();
    const row: WebhooksTable = {
      id,
      organization_id: organizationId,
      url,
      events: JSON.stringify(events),
      secret: this.box.seal(secret, secretContext(id)),
      cursor: counter ? Number(counter.value) : 0,
      created_at: this.clock().toISOString(),
    };
    await this.db.insertInto('webhooks').values(row).execute();
    return { ...webhookOf(row), secret };
  }

  async list(organizationId: string): Promise<Webhook[]> {
    await this.requireOrganization(organizationId);
    const rows = await this.db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute();
    return rows.map(webhookOf);
  }

  async get(id: string): Promise<Webhook | undefined> {
    const row = await this.db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && webhookOf(row);
  }

  /** Removes an endpoint and its delivery record (in `organizationId` only, when given). False when there is none. */
  async remove(id: string, organizationId?: string): Promise<boolean> {
    const removed = await this.db.transaction().execute(async (trx) => {
      let q = trx.deleteFrom('webhooks').where('id', '=', id);
      if (organizationId !== undefined) q = q.where('organization_id', '=', organizationId);
      const r = await q.executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) return false;
      await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
      return true;
    });
    return removed;
  }

  /** The endpoint's deliveries, newest event first. */
  async deliveries(webhookId: string, opts: { status?: DeliveryStatus; limit?: number } = {}): Promise<Delivery[]> {
    if (!(await this.get(webhookId))) throw fail('ROLLCALL_WEBHOOK_NOT_FOUND', `no webhook with id '${webhookId}'`);
    const limit = opts.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw fail('ROLLCALL_INVALID_LIMIT', "'limit' must be a whole number from 1 to 1000");
    let q = this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
    if (opts.status) q = q.where('status', '=', opts.status);
    const rows = await q.orderBy('sequence', 'desc').limit(limit).execute();
    return rows.map(deliveryOf);
  }

  /**
   * Delivers an event to the endpoint again (or for the first time), as soon as
   * the worker gets to it, with a fresh retry window. A delivery in flight at this
   * moment finishes, but its outcome is not recorded: the redelivery follows.
   */
  async redeliver(webhookId: string, eventId: string): Promise<Delivery> {
    const hook = await this.db.selectFrom('webhooks').select(['id', 'organization_id']).where('id', '=', webhookId).executeTakeFirst();
    if (!hook) throw fail('ROLLCALL_WEBHOOK_NOT_FOUND', `no webhook with id '${webhookId}'`);
    const ev = await this.db
      .selectFrom('events')
      .select(['pos', 'id', 'type', 'sequence', 'organization_id', 'resource_type', 'resource_id'])
      .where('id', '=', eventId)
      .executeTakeFirst();
    if (!ev || ev.organization_id !== hook.organization_id) {
      throw fail('ROLLCALL_EVENT_NOT_FOUND', `no event with id '${eventId}' in the organisation of webhook '${webhookId}'`);
    }
    const now = this.clock().toISOString();
    const reset = { status: 'pending', next_attempt_at: now, due_since: now, claim_token: null } as const;
    const insert = () =>
      this.db
        .insertInto('webhook_deliveries')
        .values({
          webhook_id: webhookId,
          sequence: Number(ev.sequence),
          event_pos: Number(ev.pos),
          event_id: ev.id,
          event_type: ev.type,
          resource_key: `${ev.resource_type}:${ev.resource_id}`,
          attempts: 0,
          locked_until: null,
          last_attempt_at: null,
          last_status_code: null,
          last_error: null,
          delivered_at: null,
          created_at: now,
          ...reset,
        })
        .onConflict((oc) => oc.columns(['webhook_id', 'sequence']).doUpdateSet(reset))
        .execute();
    try {
      await insert();
    } catch (e) {
      // the webhook was removed meanwhile (foreign key) or a concurrent insert won: say so plainly
      if (!isUniqueViolation(e) && !(await this.get(webhookId))) throw fail('ROLLCALL_WEBHOOK_NOT_FOUND', `no webhook with id '${webhookId}'`);
      if (!isUniqueViolation(e)) throw e;
      await insert();
    }
    this.onWork();
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('sequence', '=', Number(ev.sequence)).executeTakeFirstOrThrow();
    return deliveryOf(row);
  }
}
