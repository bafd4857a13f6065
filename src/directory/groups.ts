/**
 * Groups: the domain operations behind /Groups. Membership is a set of rows;
 * PATCH turns member operations into inserts and deletes of just those rows, so a
 * group of 100,000 members is never reloaded or rewritten to add one.
 */
import { DEFAULT_LIMITS, type ScimLimits } from '../scim/limits.js';
import type { OpenedDatabase } from '../store/opened-database.js';
import type { Scan } from '../store/list-query.js';
import { uuidv7 } from '../events/outbox.js';
import type { Kysely } from 'kysely';
import { fail } from '../scim/errors.js';
import { type Doc, normalizeResource } from '../scim/resource.js';
import { applyPatch, type MemberOp } from '../scim/patch.js';
import { CORE_GROUP, groupResourceType } from '../scim/schemas.js';
import type { DB } from '../store/types.js';
import type { Emit, WriteBatcher } from '../store/batch.js';
import type { NewEvent } from '../events/types.js';
import { attributeChanges, event, groupView, membershipEvent } from './emitted-events.js';
import type { SqlDialect } from '../store/dialect.js';
import { isUniqueViolation } from '../store/errors.js';
import * as groupsStore from '../store/groups.js';
import * as memberships from '../store/memberships.js';
import { refreshRoles } from './roles.js';
import { existingUserIds, memberRefs } from '../store/users.js';
import type { GroupRow } from '../store/groups.js';
import type { MemberView } from '../store/memberships.js';

export type { MemberView } from '../store/memberships.js';
import { type Clock, type RequestContext, settingsOf } from './context.js';
import { checkIfMatch, etag } from './versions.js';
import { type ListParams, toListQuery } from './users.js';

export interface GroupRecord {
  row: GroupRow;
  doc: Doc;
}

type Trx = Kysely<DB>;

function columnsOf(doc: Doc, externalId: string | undefined) {
  const displayName = doc.displayName as string;
  return {
    display_name: displayName,
    display_name_lc: displayName.toLowerCase(),
    external_id: externalId ?? null,
    doc: JSON.stringify(doc),
  };
}

export class GroupDirectory {
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
  ) {}

  /** Members one create, replace or PATCH may name (ROLLCALL_MAX_MEMBERS_PER_REQUEST): larger groups are written in pieces. */
  get membersPerRequest(): number {
    return this.limits.membersPerRequest;
  }

  private uniqueness(name: string) {
    return fail('ROLLCALL_GROUP_NAME_TAKEN', `A group named '${name}' already exists in this connection.`);
  }

  /** Refuses member ids that are not live users of this connection, naming them. */
  private async checkMembers(trx: Trx, ctx: RequestContext, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const unique = [...new Set(ids)];
    // Locked (PostgreSQL, in id order, after the group): a user being deleted or
    // purged right now is either seen as gone, or waits until it has joined.
    const found = await existingUserIds(trx, ctx.connectionId, unique, this.dialect.lockRows);
    const missing = unique.filter((id) => !found.has(id));
    if (!missing.length) return;
    const groups = await groupsStore.existingGroupIds(trx, ctx.connectionId, missing);
    if (groups.size) {
      throw fail('ROLLCALL_NESTED_GROUP', `Groups cannot be members of groups (nested groups are not supported): ${[...groups].slice(0, 5).join(', ')}.`);
    }
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
    throw fail('ROLLCALL_MEMBER_NOT_FOUND', `No user with id ${shown} exists in this connection; members must be existing users.`);
  }

  /** With exclusive groups a user belongs to one group at most: joining a second is a conflict. */
  /** Runs after checkMembers, which has locked the users. */
  private async checkExclusive(trx: Trx, groupId: string, ids: string[]): Promise<void> {
    const taken = await memberships.otherGroupsOf(trx, ids, groupId);
    if (!taken.length) return;
    const t = taken[0];
    throw fail(
      'ROLLCALL_EXCLUSIVE_GROUP',
      `User ${t.member_id} already belongs to group '${t.display_name}' (${t.group_id}); this connection allows one group per user. Remove the user from that group first.`,
    );
  }

  /** Applies member operations in order as row inserts/deletes; returns how many memberships changed. */
  private async applyMemberOps(
    trx: Trx,
    ctx: RequestContext,
    group: { id: string; displayName: string },
    ops: MemberOp[],
    now: string,
    emit: Emit<NewEvent>,
  ): Promise<number> {
    const groupId = group.id;
    const touched: string[] = [];
    // In the order they happened, so a remove-then-add reads as such in the events.
    const events: ['group.member_added' | 'group.member_removed', string[]][] = [];
    const removed = (ids: string[]) => (events.push(['group.member_removed', ids]), ids);
    const added = (ids: string[]) => (events.push(['group.member_added', ids]), ids);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const next = ops[i + 1];
      if (op.op === 'removeAll' && next?.op === 'add') {
        // A whole-list replace (Okta sends one with every group push): only the
        // difference changes, so unchanged members keep their rows and versions.
        const existing = await memberships.memberIds(trx, groupId);
        const wanted = new Set(next.members.map((m) => m.value));
        const gone = [...existing].filter((id) => !wanted.has(id));
        if (gone.length) touched.push(...removed(await memberships.removeMembers(trx, groupId, gone)));
        ops = [...ops];
        ops[i + 1] = { op: 'add', members: next.members.filter((m) => !existing.has(m.value)) };
        continue;
      }
      if (op.op === 'removeAll') touched.push(...removed(await memberships.removeAllMembers(trx, groupId)));
      else if (op.op === 'remove') touched.push(...removed(await memberships.removeMembers(trx, groupId, op.ids)));
      else {
        for (const m of op.members) {
          if (m.type && m.type.toLowerCase() === 'group') {
            throw fail('ROLLCALL_NESTED_GROUP', `Groups cannot be members of groups (nested groups are not supported): ${m.value}.`);
          }
        }
        const ids = op.members.map((m: { value: string }) => m.value);
        await this.checkMembers(trx, ctx, ids);
        if (settingsOf(ctx).exclusiveGroups) await this.checkExclusive(trx, groupId, ids);
        touched.push(...added(await memberships.addMembers(trx, ctx.connectionId, groupId, ids, now)));
      }
    }
    if (!touched.length) return 0;
    const unique = [...new Set(touched)];
    // Removed members were not locked yet: in id order, like every lock on users.
    if (this.dialect.lockRows) await memberships.lockUsers(trx, unique);
    await memberships.touchUsers(trx, unique, now);
    const refs = await memberRefs(trx, unique);
    for (const [type, ids] of events) {
      for (const id of ids) {
        const member = refs.get(id) ?? { id, userName: '', externalId: null, displayName: null };
        emit(membershipEvent(ctx, type, group, member, now));
      }
    }
    await refreshRoles(trx, ctx, unique, now, emit);
    return touched.length;
  }

  /** Adds a user to the group with this name, creating the group if needed (CSV import). */
  async addByName(ctx: RequestContext, name: string, userId: string): Promise<void> {
    const now = this.clock().toISOString();
    await this.writes.run(async (trx, emit) => {
      const { group, created } = await groupsStore.groupByName(trx, ctx.connectionId, name, now, this.dialect.lockRows);
      const ref = { id: group.id, displayName: group.display_name };
      if (created) emit(event(ctx, 'group.created', { type: 'Group', id: group.id }, groupView(group), now));
      if (await this.applyMemberOps(trx, ctx, ref, [{ op: 'add', members: [{ value: userId }] }], now, emit)) {
        await groupsStore.touchGroup(trx, group.id, now);
      }
    });
  }

  async create(ctx: RequestContext, body: unknown): Promise<GroupRecord> {
    const { doc, externalId, members = [] } = normalizeResource(groupResourceType, body, this.limits);
    const now = this.clock().toISOString();
    const row: GroupRow = {
      id: uuidv7(),
      ...columnsOf(doc, externalId),
      version: 1,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.writes.run(async (trx, emit) => {
        await groupsStore.insertGroup(trx, ctx.connectionId, row);
        emit(event(ctx, 'group.created', { type: 'Group', id: row.id }, groupView(row), now));
        if (members.length) await this.applyMemberOps(trx, ctx, { id: row.id, displayName: row.display_name }, [{ op: 'add', members }], now, emit);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw this.uniqueness(row.display_name);
      throw e;
    }
    return { row, doc };
  }

  async get(ctx: RequestContext, id: string, db: Kysely<DB> = this.db): Promise<GroupRecord> {
    const row = await groupsStore.getGroup(db, ctx.connectionId, id);
    if (!row) throw fail('ROLLCALL_GROUP_NOT_FOUND', `Group '${id}' not found.`);
    return { row, doc: JSON.parse(row.doc) as Doc };
  }

  /**
   * The group as a write transaction starts changing it. Locked where writers run
   * side by side (PostgreSQL), so concurrent PATCHes to one group apply one after
   * the other — each adds its members — instead of all but one failing the
   * version check.
   */
  private async getForWrite(trx: Trx, ctx: RequestContext, id: string): Promise<GroupRecord> {
    const row = await groupsStore.getGroup(trx, ctx.connectionId, id, this.dialect.lockRows);
    if (!row) throw fail('ROLLCALL_GROUP_NOT_FOUND', `Group '${id}' not found.`);
    return { row, doc: JSON.parse(row.doc) as Doc };
  }

  /** A group for a GET (read snapshot, outside any write). */
  getForRead(ctx: RequestContext, id: string): Promise<GroupRecord> {
    return this.get(ctx, id, this.readDb);
  }

  /** PUT: the given members become the whole membership, applied as a difference. */
  async replace(ctx: RequestContext, id: string, body: unknown, ifMatch?: string): Promise<GroupRecord> {
    const { doc, externalId, members = [] } = normalizeResource(groupResourceType, body, this.limits);
    const now = this.clock().toISOString();
    try {
      return await this.writes.run(async (trx, emit) => {
        const current = await this.getForWrite(trx, ctx, id);
        checkIfMatch(ifMatch, current.row.version);
        const values = { ...columnsOf(doc, externalId), version: current.row.version + 1, updated_at: now };
        this.emitUpdate(ctx, current, { ...current.row, ...values }, doc, now, emit);
        const ok = await groupsStore.updateGroup(trx, ctx.connectionId, id, current.row.version, values);
        if (!ok) throw fail('ROLLCALL_CONCURRENT_CHANGE', `Group '${id}' changed concurrently; retry the request.`);
        if (values.display_name !== current.row.display_name) await memberships.touchMembersOf(trx, id, now, this.dialect.lockRows);
        const existing = await memberships.memberIds(trx, id);
        // Rules name groups: a new name or externalId can change the roles of members who stay.
        if (renamedForRoles(current.row, values)) await refreshRoles(trx, ctx, [...existing], now, emit, { lock: this.dialect.lockRows });
        const wanted = new Set(members.map((m) => m.value));
        const toRemove = [...existing].filter((m) => !wanted.has(m));
        const toAdd = members.filter((m) => !existing.has(m.value));
        const ops: MemberOp[] = [];
        if (toRemove.length) ops.push({ op: 'remove', ids: toRemove });
        if (toAdd.length) ops.push({ op: 'add', members: toAdd });
        await this.applyMemberOps(trx, ctx, { id, displayName: values.display_name }, ops, now, emit);
        return { row: { ...current.row, ...values }, doc };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw this.uniqueness(doc.displayName as string);
      throw e;
    }
  }

  async patch(ctx: RequestContext, id: string, body: unknown, ifMatch?: string): Promise<GroupRecord> {
    const now = this.clock().toISOString();
    try {
      return await this.writes.run(async (trx, emit) => {
        const current = await this.getForWrite(trx, ctx, id);
        checkIfMatch(ifMatch, current.row.version);
        const result = applyPatch(groupResourceType, { doc: current.doc, externalId: current.row.external_id ?? undefined }, body, this.limits);
        const name = typeof result.doc.displayName === 'string' ? result.doc.displayName : current.row.display_name;
        const memberChanges = await this.applyMemberOps(trx, ctx, { id, displayName: name }, result.memberOps, now, emit);
        if (result.changes.length === 0 && memberChanges === 0) return current;
        const values = { ...columnsOf(result.doc, result.externalId), version: current.row.version + 1, updated_at: now };
        const ok = await groupsStore.updateGroup(trx, ctx.connectionId, id, current.row.version, values);
        if (!ok) throw fail('ROLLCALL_CONCURRENT_CHANGE', `Group '${id}' changed concurrently; retry the request.`);
        if (values.display_name !== current.row.display_name) await memberships.touchMembersOf(trx, id, now, this.dialect.lockRows);
        if (renamedForRoles(current.row, values)) await refreshRoles(trx, ctx, [...(await memberships.memberIds(trx, id))], now, emit, { lock: this.dialect.lockRows });
        this.emitUpdate(ctx, current, { ...current.row, ...values }, result.doc, now, emit);
        return { row: { ...current.row, ...values }, doc: result.doc };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw fail('ROLLCALL_GROUP_NAME_TAKEN', `Another group in this connection already has that displayName.`);
      throw e;
    }
  }

  async delete(ctx: RequestContext, id: string, ifMatch?: string): Promise<void> {
    await this.writes.run(async (trx, emit) => {
      const current = await this.getForWrite(trx, ctx, id);
      checkIfMatch(ifMatch, current.row.version);
      const now = this.clock().toISOString();
      const members = settingsOf(ctx).roleMapping.length ? [...(await memberships.memberIds(trx, id))] : [];
      const ok = await groupsStore.deleteGroup(trx, ctx.connectionId, id, current.row.version, now, this.dialect.lockRows);
      if (!ok) throw fail('ROLLCALL_CONCURRENT_CHANGE', `Group '${id}' changed before it could be deleted.`);
      // Its memberships go with it: group.deleted stands for them (no member_removed per member).
      emit(event(ctx, 'group.deleted', { type: 'Group', id }, groupView(current.row), now));
      await refreshRoles(trx, ctx, members, now, emit);
    });
  }

  /** group.updated when the group's own attributes changed (members have their own events). */
  private emitUpdate(ctx: RequestContext, current: GroupRecord, row: GroupRow, doc: Doc, now: string, emit: Emit<NewEvent>): void {
    const changes = attributeChanges(groupResourceType, { doc: current.doc, externalId: current.row.external_id }, { doc, externalId: row.external_id });
    if (changes.length) emit(event(ctx, 'group.updated', { type: 'Group', id: row.id }, { ...groupView(row), changes }, now));
  }

  /** Scans for this request's connection: one at a time per connection (see store/sqlite-scan-pool.ts). */
  private scanFor(ctx: RequestContext): Scan | undefined {
    const scans = this.scans;
    return scans ? (query) => scans(query, ctx.connectionId) : undefined;
  }

  async list(ctx: RequestContext, p: ListParams): Promise<{ total: number; records: GroupRecord[] }> {
    const { total, rows } = await groupsStore.listGroups(this.readDb, this.dialect, ctx.connectionId, toListQuery(p), this.scanFor(ctx));
    return { total, records: rows.map((row) => ({ row, doc: JSON.parse(row.doc) as Doc })) };
  }

  /** Up to `limit` groups after `afterId` in id order with all their members, as SCIM JSON text. */
  async scimPageAfter(ctx: RequestContext, afterId: string, limit: number): Promise<{ lastId?: string; lines: string[] }> {
    const rows = await groupsStore.groupsAfter(this.readDb, ctx.connectionId, afterId, limit);
    const members = rows.length ? await memberships.membersOf(this.readDb, rows.map((r) => r.id)) : new Map();
    return {
      lastId: rows.length ? rows[rows.length - 1].id : undefined,
      lines: rows.map((row) => JSON.stringify(groupToScim(ctx, { row, doc: JSON.parse(row.doc) as Doc }, members.get(row.id) ?? []))),
    };
  }

  membersOf(groupIds: string[]) {
    return memberships.membersOf(this.readDb, groupIds);
  }
}

export function groupToScim(ctx: RequestContext, rec: GroupRecord, members?: MemberView[]): Record<string, unknown> {
  const { row, doc } = rec;
  const out: Record<string, unknown> = { schemas: [CORE_GROUP], id: row.id };
  if (row.external_id !== null) out.externalId = row.external_id;
  Object.assign(out, doc);
  if (members) {
    out.members = members.map((m) => ({
      value: m.value,
      $ref: `${ctx.baseUrl}/Users/${m.value}`,
      display: m.display ?? undefined,
      type: 'User',
    }));
  }
  out.meta = {
    resourceType: 'Group',
    created: row.created_at,
    lastModified: row.updated_at,
    location: `${ctx.baseUrl}/Groups/${row.id}`,
    version: etag(row.version),
  };
  return out;
}

/** The group's name or externalId changed (what roleMapping rules match on). */
function renamedForRoles(before: GroupRow, after: { display_name: string; external_id: string | null }): boolean {
  return before.display_name !== after.display_name || before.external_id !== after.external_id;
}
