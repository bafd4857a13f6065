/**
 * Users: the domain operations behind /Users. Parses through scim/, applies the
 * rules, writes through store/ with optimistic concurrency.
 */
import { DEFAULT_LIMITS, type ScimLimits } from '../scim/limits.js';
import type { OpenedDatabase } from '../store/opened-database.js';
import type { Scan } from '../store/list-query.js';
import { uuidv7 } from '../events/outbox.js';
import type { Kysely } from 'kysely';
import { fail, retryAfter } from '../scim/errors.js';
import { type Doc, normalizeResource } from '../scim/resource.js';
import { applyPatch } from '../scim/patch.js';
import { CORE_USER, ENTERPRISE_USER, ROLLCALL_USER, userResourceType } from '../scim/schemas.js';
import type { Filter, AttrPath } from '../scim/filter/ast.js';
import type { DB } from '../store/types.js';
import type { Emit, WriteBatcher } from '../store/batch.js';
import type { NewEvent } from '../events/types.js';
import { attributeChanges, event, membershipEvent, readApp, storedApp, userView } from './emitted-events.js';
import type { SqlDialect } from '../store/dialect.js';
import { isUniqueViolation, uniqueViolationOf } from '../store/errors.js';
import * as usersStore from '../store/users.js';
import type { UserRow } from '../store/users.js';
import * as memberships from '../store/memberships.js';
import * as connectionsStore from '../store/connections.js';
import { type Clock, type RequestContext, daysBefore, settingsOf } from './context.js';
import { applyUserPolicies } from './policies/index.js';
import { applyGroupRules } from './group-rules.js';
import { refreshRoles } from './roles.js';
import { emailRows, userColumns } from './user-rows.js';
import { checkIfMatch, etag } from './versions.js';

export interface UserRecord {
  row: UserRow;
  doc: Doc;
  /** The user's groups, when the read that produced the record loaded them. */
  groups?: GroupRef[];
}

export interface ListParams {
  filter?: Filter;
  sortBy?: AttrPath;
  descending?: boolean;
  startIndex: number;
  count: number;
}

const MAX_RETRIES = 20;

/** SCIM's 1-based startIndex/count as the store's offset/limit. */
export function toListQuery(p: ListParams): usersStore.ListQuery {
  return { filter: p.filter, sortBy: p.sortBy, descending: p.descending, offset: p.startIndex - 1, limit: p.count };
}

export interface GroupRef {
  value: string;
  display: string;
}

export class UserDirectory {
  private readonly selectWithGroups;

  constructor(
    private readonly db: Kysely<DB>,
    /** Every write transaction goes through the batcher (group commit). */
    private readonly writes: WriteBatcher<NewEvent>,
    /** Reads outside write transactions: GET, lists, filters. */
    private readonly readDb: Kysely<DB>,
    private readonly dialect: SqlDialect,
    private readonly clock: Clock,
    /** Cost bounds of one request (scim/limits.ts). */
    private readonly limits: ScimLimits = DEFAULT_LIMITS,
    /** Reads that may scan, off the event loop (OpenedDatabase.scan); unset, on readDb. */
    private readonly scans?: OpenedDatabase['scan'],
  ) {
    this.selectWithGroups = usersStore.userWithGroupsQuery(dialect);
  }

  /** A user and its groups in one statement, document left as stored text (the GET fast path). */
  async getForRead(ctx: RequestContext, id: string): Promise<{ row: UserRow; groups: GroupRef[] }> {
    const { rows } = await this.selectWithGroups(this.readDb, id, ctx.connectionId);
    const found = rows[0] as (UserRow & { groups_json: string | null }) | undefined;
    if (!found) throw fail('ROLLCALL_USER_NOT_FOUND', `User '${id}' not found.`);
    const { groups_json, ...row } = found;
    return { row, groups: groups_json ? (JSON.parse(groups_json) as GroupRef[]) : [] };
  }

  /**
   * The mapping key decides the external_key column and the duplicate and restore
   * lookups; a request that read the settings before a change of the key is
   * answered 503 (retry) rather than written the old way.
   */
  private async checkMappingKey(trx: Kysely<DB>, ctx: RequestContext): Promise<void> {
    const stored = await connectionsStore.storedMappingKey(trx, ctx.connectionId, this.dialect.lockRows);
    if (stored !== settingsOf(ctx).mappingKey) {
      throw fail('ROLLCALL_MAPPING_KEY_CHANGED', `This connection's mappingKey changed to ${stored} while the request was handled; nothing was changed. Retry the request.`, retryAfter(1));
    }
  }

  /** The 409 for a unique index the database enforced (a race another write won). */
  private uniqueness(e: unknown, cols: { user_name: string; external_id: string | null }) {
    if (uniqueViolationOf(e) === 'external_key') {
      return fail('ROLLCALL_EXTERNAL_ID_TAKEN', `externalId '${cols.external_id}' already belongs to another user in this connection.`);
    }
    return fail('ROLLCALL_USERNAME_TAKEN', `userName '${cols.user_name}' is already taken in this connection.`);
  }

  /**
   * The connection's policies on a candidate document: refusals (domains, role
   * mailboxes, language) throw before anything is written; the result is the
   * normalised document and what the host application reads (role, language,
   * resolved profile, flags).
   */
  private policies(ctx: RequestContext, doc: Doc, previous?: UserRow): { doc: Doc; app: string } {
    const { doc: checked, app } = applyUserPolicies(settingsOf(ctx), doc, previous ? (JSON.parse(previous.doc) as Doc) : undefined);
    // defaultRole is what a new user gets; an existing user keeps the role it has.
    const role = previous ? readApp(previous.app).role : undefined;
    return { doc: checked, app: storedApp({ ...app, role: role ?? app.role, workspace: ctx.workspace ?? 'default' }) };
  }

  /**
   * POST /Users. The mapping key (externalId or userName, per connection) decides:
   * a live user with that key is a conflict (409, never a second account); a user
   * deleted with that key within the retention window is restored — same row,
   * same id — and answered 201 like a creation.
   */
  async create(ctx: RequestContext, body: unknown): Promise<UserRecord & { restored: boolean }> {
    const settings = settingsOf(ctx);
    const input = normalizeResource(userResourceType, body, this.limits);
    const externalId = input.externalId;
    if (input.doc.active === undefined) input.doc.active = true;
    const { doc, app } = this.policies(ctx, input.doc);
    const nowDate = this.clock();
    const now = nowDate.toISOString();
    const cols = userColumns(doc, externalId, settings.mappingKey);
    const windowStart = daysBefore(nowDate, settings.retentionDays);
    const keyValue = settings.mappingKey === 'externalId' ? externalId : cols.user_name;
    try {
      return await this.writes.run(async (trx, emit) => {
        await this.checkMappingKey(trx, ctx);
        if (settings.mappingKey === 'externalId' && externalId !== undefined) {
          const live = await usersStore.findLiveByExternalId(trx, ctx.connectionId, externalId);
          if (live) throw fail('ROLLCALL_EXTERNAL_ID_TAKEN', `externalId '${externalId}' already belongs to user ${live.id} ('${live.user_name}') in this connection.`);
        }
        const restorable = keyValue !== undefined ? await usersStore.findRestorable(trx, ctx.connectionId, settings.mappingKey, keyValue, windowStart, this.dialect.lockRows) : undefined;
        let row: UserRow;
        if (restorable) {
          const values: Partial<UserRow> = {
            ...cols,
            state: cols.active ? 'active' : 'deactivated',
            version: restorable.version + 1,
            updated_at: now,
            deleted_at: null,
            deactivated_at: cols.active ? null : now,
            app,
          };
          if (!(await usersStore.restoreUser(trx, ctx.connectionId, restorable.id, values, emailRows(doc)))) {
            throw fail('ROLLCALL_USER_BEING_RESTORED', `The user with this ${settings.mappingKey} is being restored or purged concurrently; retry the request.`);
          }
          row = { ...restorable, ...values } as UserRow;
        } else {
          row = {
            id: uuidv7(),
            ...cols,
            state: cols.active ? 'active' : 'deactivated',
            version: 1,
            created_at: now,
            updated_at: now,
            deactivated_at: cols.active ? null : now,
            deleted_at: null,
            app,
          };
          await usersStore.insertUser(trx, ctx.connectionId, row, emailRows(doc));
        }
        if (this.writes.emitting) emit(event(ctx, restorable ? 'user.restored' : 'user.created', { type: 'User', id: row.id }, userView(ctx, row, doc), now));
        await applyGroupRules(trx, this.dialect, ctx, row, doc, now, emit);
        // A new or restored user belongs to no group yet, unless a rule just added it.
        const groups = settings.groupRules.length ? undefined : [];
        return { row, doc, restored: !!restorable, groups };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw this.uniqueness(e, cols);
      throw e;
    }
  }

  async get(ctx: RequestContext, id: string): Promise<UserRecord> {
    const row = await usersStore.getUser(this.db, ctx.connectionId, id);
    if (!row) throw fail('ROLLCALL_USER_NOT_FOUND', `User '${id}' not found.`);
    return { row, doc: JSON.parse(row.doc) as Doc };
  }

  /** Writes a new document over `current`, conditional on its version. False when someone else won the race. */
  private async write(ctx: RequestContext, current: UserRow, input: Doc, externalId: string | undefined): Promise<UserRecord | undefined> {
    const settings = settingsOf(ctx);
    const { doc, app } = this.policies(ctx, input, current);
    const now = this.clock().toISOString();
    const cols = userColumns(doc, externalId, settings.mappingKey);
    if (settings.lockMappingKey) {
      // A changed key is what creates duplicate accounts; re-sending the same value is no change.
      const [before, after] =
        settings.mappingKey === 'externalId' ? [current.external_id, cols.external_id] : [current.user_name_lc, cols.user_name_lc];
      if (before !== null && before !== after) {
        throw fail('ROLLCALL_MAPPING_KEY_LOCKED', `${settings.mappingKey} is this connection's mapping key and is locked: it cannot change from '${before}' to '${after ?? ''}'.`);
      }
    }
    const keyTaken = settings.mappingKey === 'externalId' && cols.external_id !== null && cols.external_id !== current.external_id;
    const wasActive = current.active === 1;
    const values: Partial<UserRow> = {
      ...cols,
      version: current.version + 1,
      updated_at: now,
      app,
    };
    if (wasActive !== (cols.active === 1)) {
      values.state = cols.active ? 'active' : 'deactivated';
      values.deactivated_at = cols.active ? null : now;
    }
    let ok: boolean;
    try {
      // Groups show members by name, so a new name is a change of the user's groups too.
      const renamed = (cols.display_name ?? cols.user_name) !== (current.display_name ?? current.user_name);
      ok = await this.writes.run(async (trx, emit) => {
        await this.checkMappingKey(trx, ctx);
        // Checked inside the write transaction: two users racing to the same key cannot both get it.
        if (keyTaken) {
          const other = await usersStore.findLiveByExternalId(trx, ctx.connectionId, cols.external_id!);
          if (other && other.id !== current.id) throw fail('ROLLCALL_EXTERNAL_ID_TAKEN', `externalId '${cols.external_id}' already belongs to user ${other.id} in this connection.`);
        }
        // Groups before users (see lockGroupsOf): a rename moves the versions of the user's groups.
        if (renamed && this.dialect.lockRows) await memberships.lockGroupsOf(trx, [current.id]);
        const done = await usersStore.updateUser(trx, ctx.connectionId, current.id, current.version, values, emailRows(doc));
        if (!done) return false;
        if (renamed) await memberships.touchGroupsOf(trx, current.id, now);
        const row = { ...current, ...values } as UserRow;
        this.emitUpdate(ctx, current, row, doc, now, emit);
        await applyGroupRules(trx, this.dialect, ctx, row, doc, now, emit);
        // The role this write copied was read before its transaction: a recomputation
        // in between must not be undone (the row is locked by the update now).
        await refreshRoles(trx, ctx, [current.id], now, emit);
        return true;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw this.uniqueness(e, cols);
      throw e;
    }
    if (!ok) return undefined;
    return { row: { ...current, ...values } as UserRow, doc };
  }

  /**
   * The events of one update: a change of `active` is user.deactivated or
   * user.reactivated; any other changed attribute makes a user.updated with the
   * changes. A write that changes nothing the host app sees emits nothing.
   */
  private emitUpdate(ctx: RequestContext, current: UserRow, row: UserRow, doc: Doc, now: string, emit: Emit<NewEvent>): void {
    if (!this.writes.emitting) return;
    const view = userView(ctx, row, doc);
    const ref = { type: 'User' as const, id: row.id };
    if (current.active !== row.active) emit(event(ctx, row.active ? 'user.reactivated' : 'user.deactivated', ref, view, now));
    const before = { doc: JSON.parse(current.doc) as Doc, externalId: current.external_id };
    const changes = attributeChanges(userResourceType, before, { doc, externalId: row.external_id }).filter((c) => c.path !== 'active');
    if (changes.length) emit(event(ctx, 'user.updated', ref, { ...view, changes }, now));
  }

  async replace(ctx: RequestContext, id: string, body: unknown, ifMatch?: string): Promise<UserRecord> {
    const { doc, externalId } = normalizeResource(userResourceType, body, this.limits);
    if (doc.active === undefined) doc.active = true;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.get(ctx, id);
      checkIfMatch(ifMatch, current.row.version);
      const written = await this.write(ctx, current.row, doc, externalId);
      if (written) return written;
    }
    throw fail('ROLLCALL_CONCURRENT_CHANGE', `User '${id}' is being changed concurrently; retry the request.`);
  }

  /** Applies a PATCH; returns the record and whether anything changed. */
  async patch(ctx: RequestContext, id: string, body: unknown, ifMatch?: string): Promise<UserRecord> {
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.get(ctx, id);
      checkIfMatch(ifMatch, current.row.version);
      const result = applyPatch(userResourceType, { doc: current.doc, externalId: current.row.external_id ?? undefined }, body, this.limits);
      if (result.changes.length === 0) return current;
      const written = await this.write(ctx, current.row, result.doc, result.externalId);
      if (written) return written;
    }
    throw fail('ROLLCALL_CONCURRENT_CHANGE', `User '${id}' is being changed concurrently; retry the request.`);
  }

  async delete(ctx: RequestContext, id: string, ifMatch?: string): Promise<void> {
    const current = await this.get(ctx, id);
    checkIfMatch(ifMatch, current.row.version);
    const now = this.clock().toISOString();
    const ok = await this.writes.run(async (trx, emit) => {
      if (this.dialect.lockRows) await memberships.lockGroupsOf(trx, [id]);
      const left = await usersStore.softDeleteUser(trx, ctx.connectionId, id, ifMatch ? current.row.version : undefined, now);
      if (!left) return false;
      // The events describe the user as deleted, not as read before the transaction.
      const row = left.row;
      const member = { id, userName: row.user_name, externalId: row.external_id, displayName: row.display_name };
      for (const g of left.groups) emit(membershipEvent(ctx, 'group.member_removed', { id: g.id, displayName: g.display_name }, member, now));
      emit(event(ctx, 'user.deleted', { type: 'User', id }, userView(ctx, row, JSON.parse(row.doc) as Doc), now));
      return true;
    });
    if (!ok) {
      if (ifMatch) throw fail('ROLLCALL_CONCURRENT_CHANGE', `User '${id}' changed before it could be deleted.`);
      throw fail('ROLLCALL_USER_NOT_FOUND', `User '${id}' not found.`);
    }
  }

  /** Scans for this request's connection: one at a time per connection (see store/sqlite-scan-pool.ts). */
  private scanFor(ctx: RequestContext): Scan | undefined {
    const scans = this.scans;
    return scans ? (query) => scans(query, ctx.connectionId) : undefined;
  }

  async list(ctx: RequestContext, p: ListParams): Promise<{ total: number; records: UserRecord[] }> {
    const { total, rows } = await usersStore.listUsers(this.readDb, this.dialect, ctx.connectionId, toListQuery(p), this.scanFor(ctx));
    return {
      total,
      records: rows.map(({ groups_json, ...row }) => lazyRecord(row, groups_json ? (JSON.parse(groups_json) as GroupRef[]) : [])),
    };
  }

  /** Up to `limit` live users after `afterId` in id order, as SCIM JSON text (a full export, page by page). */
  async scimPageAfter(ctx: RequestContext, afterId: string, limit: number): Promise<{ lastId?: string; lines: string[] }> {
    const rows = await usersStore.usersAfter(this.readDb, this.dialect, ctx.connectionId, afterId, limit);
    return {
      lastId: rows.length ? rows[rows.length - 1].id : undefined,
      lines: rows.map(({ groups_json, ...row }) => userToScimJson(ctx, row, groups_json ? (JSON.parse(groups_json) as GroupRef[]) : [])),
    };
  }

  groupsOf(userIds: string[]) {
    return memberships.groupsOfUsers(this.readDb, userIds);
  }
}

/** A record whose document is parsed only if someone reads it (lists are answered from the stored text). */
function lazyRecord(row: UserRow, groups: GroupRef[]): UserRecord {
  let doc: Doc | undefined;
  return {
    row,
    groups,
    get doc() {
      return (doc ??= JSON.parse(row.doc) as Doc);
    },
  };
}

function groupsToScim(ctx: RequestContext, groups: GroupRef[]) {
  return groups.map((g) => ({ value: g.value, $ref: `${ctx.baseUrl}/Groups/${g.value}`, display: g.display, type: 'direct' }));
}

function metaOf(ctx: RequestContext, row: UserRow) {
  return {
    resourceType: 'User',
    created: row.created_at,
    lastModified: row.updated_at,
    location: `${ctx.baseUrl}/Users/${row.id}`,
    version: etag(row.version),
  };
}

const ENTERPRISE_KEY = `"${ENTERPRISE_USER}":{`;
const ROLLCALL_KEY = `"${ROLLCALL_USER}":{`;

/**
 * The same JSON as `userToScim` without parsing the stored document: the stored
 * text is spliced in. Used for full-resource reads, the most frequent request.
 */
export function userToScimJson(ctx: RequestContext, row: UserRow, groups: GroupRef[]): string {
  // Keys in the stored document are canonical, so the URN followed by `":{` can only be the extension key.
  const uris = [CORE_USER];
  if (row.doc.includes(ENTERPRISE_KEY)) uris.push(ENTERPRISE_USER);
  if (row.doc.includes(ROLLCALL_KEY)) uris.push(ROLLCALL_USER);
  const schemas = JSON.stringify(uris);
  let out = `{"schemas":${schemas},"id":${JSON.stringify(row.id)}`;
  if (row.external_id !== null) out += `,"externalId":${JSON.stringify(row.external_id)}`;
  const inner = row.doc.slice(1, -1);
  if (inner) out += ',' + inner;
  if (groups.length) out += `,"groups":${JSON.stringify(groupsToScim(ctx, groups))}`;
  return out + `,"meta":${JSON.stringify(metaOf(ctx, row))}}`;
}

/** The SCIM representation of a stored user (before any attributes projection). */
export function userToScim(ctx: RequestContext, rec: UserRecord, groups?: GroupRef[]): Record<string, unknown> {
  const { row, doc } = rec;
  const schemas = [CORE_USER];
  if (doc[ENTERPRISE_USER]) schemas.push(ENTERPRISE_USER);
  if (doc[ROLLCALL_USER]) schemas.push(ROLLCALL_USER);
  const out: Record<string, unknown> = { schemas, id: row.id };
  if (row.external_id !== null) out.externalId = row.external_id;
  Object.assign(out, doc);
  if (groups && groups.length) out.groups = groupsToScim(ctx, groups);
  out.meta = metaOf(ctx, row);
  return out;
}
