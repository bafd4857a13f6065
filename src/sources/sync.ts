/**
 * One sync run of a pulled connection: the source's listings turned into the
 * directory operations a SCIM client would have called (create, replace, PATCH
 * active=false, DELETE), so every policy, event and webhook applies unchanged.
 *
 * What a run changes, in order, and what a failure leaves:
 *
 *  1. users, page by page: each page is written once it has been read (created,
 *     or replaced when what the source says differs from what was last written;
 *     an unchanged user is not written at all, so it emits nothing). A failure
 *     on page 3 leaves pages 1 and 2 written and nothing of page 3 or later.
 *  2. users the source reports as deleted: deleted here (retention applies).
 *  3. groups, each once its member listing is complete: created or replaced
 *     with exactly the members the source lists (users of this run's listing).
 *  4. only when every listing of the run completed: users missing from the user
 *     listing are deactivated, groups missing from the group listing deleted.
 *     A failed or partial run never deactivates or deletes by absence.
 *
 * Objects a policy refuses (a domain outside verifiedDomains, a collective
 * mailbox, …) are reported as the run's errors; the run goes on.
 */
import { createHash } from 'node:crypto';
import { fail, hasCode, isRollcallError } from '../scim/errors.js';
import { parseFilter } from '../scim/filter/parse.js';
import { CORE_GROUP } from '../scim/schemas.js';
import type { UserDirectory } from '../directory/users.js';
import type { GroupDirectory } from '../directory/groups.js';
import type { RequestContext } from '../directory/context.js';
import type { ProvisioningLog } from '../directory/provisioning-log.js';
import { ERRORS_KEPT, type RunCounts, type RunError, type SourceDirectory, emptyCounts } from '../directory/sources.js';
import type { DirectorySource, SourceGroup, SourceUser } from './source.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** PATCH active=false: a suspension, and absence. */
const DEACTIVATE = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
/** Map rows read per page when looking for absent objects. */
const ABSENT_PAGE = 500;

export interface SyncTuning {
  /** Users written at once (the write batcher commits them together; default 16). */
  writeConcurrency?: number;
  /** Groups whose members are listed at once (default 4). */
  memberConcurrency?: number;
}

export interface SyncParts {
  users: UserDirectory;
  groups: GroupDirectory;
  sources: SourceDirectory;
  /** The provisioning log: each write of a run is an entry, as a SCIM request is. */
  log?: Pick<ProvisioningLog, 'enabled' | 'newId' | 'onRequest'>;
}

/**
 * Runs `fn` over `items`, at most `n` at a time. After a failure no new item starts;
 * the ones in flight finish before the first error is thrown, so nothing of the
 * run is still writing once it is recorded as failed.
 */
export async function eachLimited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(n, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * What was written, as a digest: the resource and the connection's settings, so
 * that new settings (an attribute map, a language default) reach every user on
 * the next run, as they would with an IdP's next push.
 */
const digestOf = (ctx: RequestContext, resource: unknown) => createHash('sha256').update(JSON.stringify([ctx.settings ?? null, resource])).digest('base64url');

/** Why an object could not be written: a refusal to report, or a failure that stops the run. */
function refusal(e: unknown): { code: string; message: string } | undefined {
  return isRollcallError(e) && e.status < 500 ? { code: e.code, message: e.message } : undefined;
}

/** `items` in slices of at most `n`. */
function slices<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * Memory: a run holds the source ids it saw (users and groups) and, for users that
 * exist here, our id: O(users) strings, some 100 bytes a user (about 100 MB for a
 * million users). A page of users and one group's member ids at a time besides;
 * errors only the first ERRORS_KEPT (the count has them all).
 */
export class SyncRun {
  readonly counts: RunCounts = emptyCounts();
  /** The first ERRORS_KEPT errors; `counts.errors` counts every one. */
  readonly errors: RunError[] = [];
  private readonly seenUsers = new Set<string>();
  /** The source's user id → our user id, for users of this run's listing that exist here. */
  private readonly localUsers = new Map<string, string>();
  private readonly seenGroups = new Set<string>();

  constructor(
    private readonly parts: SyncParts,
    private readonly ctx: RequestContext,
    private readonly source: DirectorySource,
    private readonly runId: string,
    /** Renews the run's lease; throws when another holder has taken it. */
    private readonly renew: () => Promise<void>,
    private readonly tuning: SyncTuning = {},
  ) {}

  private get connectionId() {
    return this.ctx.connectionId;
  }

  private report(kind: 'user' | 'group', sourceId: string, name: string, r: { code: string; message: string }) {
    this.counts.errors++;
    if (this.errors.length < ERRORS_KEPT) this.errors.push({ kind, sourceId, name, ...r });
  }

  /** Counts, lease and progress after a unit of work. */
  private async checkpoint(): Promise<void> {
    this.counts.requests = this.source.requests;
    await this.renew();
    await this.parts.sources.progress(this.runId, this.counts, this.errors);
  }

  async run(): Promise<void> {
    for await (const page of this.source.users()) {
      const known = await this.parts.sources.objects(this.connectionId, 'user', page.map((u) => u.id));
      const mapRows: Parameters<SourceDirectory['saveObjects']>[2] = [];
      // The page's map rows are written together, also those written before a failure in
      // the page; a crash before that is healed by adoption on the next run (see adoptable).
      try {
        await eachLimited(page, this.tuning.writeConcurrency ?? 16, (u) => this.applyUser(u, known.get(u.id), mapRows));
      } catch (e) {
        await this.parts.sources.saveObjects(this.connectionId, 'user', mapRows).catch(() => undefined);
        throw e;
      }
      await this.parts.sources.saveObjects(this.connectionId, 'user', mapRows);
      await this.checkpoint();
    }
    // Before groups read localUsers: a user the listing missed may be there after all.
    await this.confirmUnlisted();
    for await (const ids of this.source.deletedUsers()) {
      await this.deleteUsers(ids);
      await this.checkpoint();
    }
    for await (const page of this.source.groups()) {
      const known = await this.parts.sources.objects(this.connectionId, 'group', page.map((g) => g.id));
      // A page of groups can take long (members are paged too): the lease is renewed per group.
      await eachLimited(page, this.tuning.memberConcurrency ?? 4, async (g) => {
        await this.applyGroup(g, known.get(g.id));
        await this.renew();
      });
      await this.checkpoint();
    }
    // Every listing completed: absence now means gone.
    await this.deactivateAbsentUsers();
    await this.deleteAbsentGroups();
    await this.checkpoint();
  }

  /**
   * One write, in the provisioning log as a SCIM request would be (method, a path
   * naming the source's object, the body, the status or refusal), its events
   * naming the log entry as a SCIM request's do. The run's id is its request id.
   */
  private async logged<T>(
    method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    resourceType: 'User' | 'Group',
    sourceId: string,
    body: unknown,
    okStatus: number,
    write: (ctx: RequestContext) => Promise<T>,
    localId?: string,
  ): Promise<T> {
    const log = this.parts.log;
    if (!log?.enabled) return write(this.ctx);
    const logId = log.newId();
    const started = performance.now();
    const entry = {
      method,
      route: `/sources/${this.source.kind}/${resourceType}s/:sourceId`,
      path: `/sources/${this.source.kind}/${resourceType}s/${sourceId}`,
      connectionId: this.connectionId,
      body,
      resourceType,
      userAgent: `Rollcall ${this.source.kind} sync`,
      requestId: this.runId,
      logId,
    };
    try {
      const result = await write({ ...this.ctx, requestId: logId });
      const id = typeof result === 'string' ? result : localId;
      log.onRequest({ ...entry, status: okStatus, durationMs: performance.now() - started, resourceId: id });
      return result;
    } catch (e) {
      const status = isRollcallError(e) ? e.status : 500;
      const error = isRollcallError(e) ? { code: e.code, scimType: e.scimType, detail: e.message } : undefined;
      log.onRequest({ ...entry, status, durationMs: performance.now() - started, resourceId: localId, error });
      throw e;
    }
  }

  /** A live local object whose externalId is the source's id: one written by a run that stopped before recording it. */
  private async adoptable(kind: 'user' | 'group', sourceId: string): Promise<string | undefined> {
    const p = { filter: parseFilter(`externalId eq ${JSON.stringify(sourceId)}`), startIndex: 1, count: 1 };
    const { records } = kind === 'user' ? await this.parts.users.list(this.ctx, p) : await this.parts.groups.list(this.ctx, p);
    return records[0]?.row.id;
  }

  private async applyUser(
    u: SourceUser,
    known: { local_id: string; digest: string | null; state: string } | undefined,
    mapRows: Parameters<SourceDirectory['saveObjects']>[2],
  ): Promise<void> {
    this.counts.usersSeen++;
    this.seenUsers.add(u.id);
    const digest = digestOf(this.ctx, u.resource);
    if (known && known.state === 'present' && known.digest === digest) {
      this.counts.usersUnchanged++;
      this.localUsers.set(u.id, known.local_id);
      return;
    }
    try {
      let localId = known?.local_id;
      let written = false;
      if (localId) written = await this.replaceUser(localId, u);
      if (!written) {
        try {
          localId = await this.logged('POST', 'User', u.id, u.resource, 201, async (ctx) => (await this.parts.users.create(ctx, u.resource)).row.id);
          this.counts.usersCreated++;
        } catch (e) {
          if (!hasCode(e, 'ROLLCALL_USERNAME_TAKEN', 'ROLLCALL_EXTERNAL_ID_TAKEN')) throw e;
          localId = await this.adoptable('user', u.id);
          if (!localId || !(await this.replaceUser(localId, u))) throw e;
        }
      }
      this.localUsers.set(u.id, localId!);
      mapRows.push({ sourceId: u.id, localId: localId!, digest, state: 'present' });
    } catch (e) {
      const r = refusal(e);
      if (!r) throw e;
      this.report('user', u.id, u.name, r);
    }
  }

  /**
   * Replaces a user we have; false when it is gone here (deleted: a create restores it).
   * A refused replace (a policy refuses the new document) is thrown to be reported,
   * but a suspension at the source still applies: the user is deactivated with
   * PATCH active=false, as an IdP that cannot push the new document would.
   */
  private async replaceUser(localId: string, u: SourceUser): Promise<boolean> {
    const resource = u.resource;
    let wasActive: boolean;
    try {
      wasActive = Boolean((await this.parts.users.get(this.ctx, localId)).row.active);
      await this.logged('PUT', 'User', u.id, resource, 200, (ctx) => this.parts.users.replace(ctx, localId, resource), localId);
    } catch (e) {
      if (hasCode(e, 'ROLLCALL_USER_NOT_FOUND')) return false;
      if (refusal(e) && resource.active === false && wasActive!) await this.deactivateRefused(localId, u);
      throw e;
    }
    // Suspended at the source: counted as a deactivation, not as any update.
    if (wasActive && resource.active === false) this.counts.usersDeactivated++;
    else this.counts.usersUpdated++;
    return true;
  }

  /** The suspension of a user whose new document was refused; its own refusal is reported too. */
  private async deactivateRefused(localId: string, u: SourceUser): Promise<void> {
    try {
      await this.deactivate(localId, u.id);
    } catch (e) {
      const r = refusal(e);
      if (!r) throw e;
      this.report('user', u.id, u.name, r);
    }
  }

  /** PATCH active=false, logged as a SCIM client's would be, counted as a deactivation. */
  private async deactivate(localId: string, sourceId: string): Promise<void> {
    await this.logged('PATCH', 'User', sourceId, DEACTIVATE, 200, (ctx) => this.parts.users.patch(ctx, localId, DEACTIVATE), localId);
    this.counts.usersDeactivated++;
  }

  /**
   * Users we have that the complete user listing did not name, asked for one by
   * one by the source's immutable id: the listing is ordered by something that can
   * change while it pages (Google's by primary address), so a user renamed past the
   * listing's position is missed by it, not gone. One found is written as listed
   * (and counts as seen); the others are deactivated at the end of the run, if the
   * run completes. One request per such user, only the run they first go missing.
   */
  private async confirmUnlisted(): Promise<void> {
    for await (const gone of this.absent('user', this.seenUsers)) {
      const mapRows: Parameters<SourceDirectory['saveObjects']>[2] = [];
      try {
        await eachLimited(gone, this.tuning.memberConcurrency ?? 4, async (k) => {
          const u = await this.source.user(k.source_id);
          if (u && !this.seenUsers.has(u.id)) await this.applyUser(u, k, mapRows);
        });
      } finally {
        await this.parts.sources.saveObjects(this.connectionId, 'user', mapRows);
      }
      await this.checkpoint();
    }
  }

  private async deleteUsers(sourceIds: string[]): Promise<void> {
    const known = await this.parts.sources.objects(this.connectionId, 'user', sourceIds);
    await eachLimited([...known.values()].filter((k) => k.state !== 'deleted'), this.tuning.writeConcurrency ?? 16, async (k) => {
      try {
        await this.logged('DELETE', 'User', k.source_id, undefined, 204, (ctx) => this.parts.users.delete(ctx, k.local_id), k.local_id);
        this.counts.usersDeleted++;
      } catch (e) {
        if (!hasCode(e, 'ROLLCALL_USER_NOT_FOUND')) throw e;
      }
      await this.parts.sources.saveObject(this.connectionId, 'user', k.source_id, k.local_id, null, 'deleted');
    });
  }

  private async applyGroup(g: SourceGroup, known: { local_id: string; digest: string | null; state: string } | undefined): Promise<void> {
    this.counts.groupsSeen++;
    this.seenGroups.add(g.id);
    const memberIds = await this.source.memberIds(g.id);
    const members = [...new Set(memberIds.map((id) => this.localUsers.get(id)).filter((id): id is string => id !== undefined))].sort();
    const resource = { schemas: [CORE_GROUP], ...g.resource, members: members.map((value) => ({ value })) };
    const digest = digestOf(this.ctx, resource);
    if (known && known.state === 'present' && known.digest === digest) return;
    try {
      let localId = known?.state === 'present' ? known.local_id : undefined;
      if (localId && !(await this.replaceGroup(localId, g, members))) localId = undefined;
      if (!localId) {
        try {
          localId = await this.createGroup(g, members);
          this.counts.groupsCreated++;
        } catch (e) {
          if (!hasCode(e, 'ROLLCALL_GROUP_NAME_TAKEN')) throw e;
          localId = await this.adoptable('group', g.id);
          if (!localId || !(await this.replaceGroup(localId, g, members))) throw e;
        }
      }
      await this.parts.sources.saveObject(this.connectionId, 'group', g.id, localId, digest, 'present');
    } catch (e) {
      const r = refusal(e);
      if (!r) throw e;
      this.report('group', g.id, g.name, r);
    }
  }

  /** Members one write may name (a SCIM client is held to the same bound). */
  private get memberChunk(): number {
    return Math.max(1, this.parts.groups.membersPerRequest);
  }

  private groupBody(g: SourceGroup, members: string[]) {
    return { schemas: [CORE_GROUP], ...g.resource, members: members.map((value) => ({ value })) };
  }

  /** One PATCH of a group's members (or attributes), logged as a SCIM client's would be. */
  private async patchGroup(localId: string, g: SourceGroup, operations: Record<string, unknown>[]): Promise<void> {
    const body = { schemas: [PATCH_OP], Operations: operations };
    await this.logged('PATCH', 'Group', g.id, body, 200, (ctx) => this.parts.groups.patch(ctx, localId, body), localId);
  }

  private async addMembers(localId: string, g: SourceGroup, ids: string[]): Promise<void> {
    for (const part of slices(ids, this.memberChunk)) await this.memberPiece(localId, g, 'add', part);
  }

  /** One piece of a large group's members; the lease is renewed after each (a group of 100,000 is 100 pieces). */
  private async memberPiece(localId: string, g: SourceGroup, op: 'add' | 'remove', ids: string[]): Promise<void> {
    await this.patchGroup(localId, g, [{ op, path: 'members', value: ids.map((value) => ({ value })) }]);
    await this.renew();
  }

  /**
   * A new group: created with its members, or — more than one request may name —
   * with the first chunk of them and the rest added by PATCH, a chunk at a time.
   */
  private async createGroup(g: SourceGroup, members: string[]): Promise<string> {
    const first = members.slice(0, this.memberChunk);
    const resource = this.groupBody(g, first);
    const localId = await this.logged('POST', 'Group', g.id, resource, 201, async (ctx) => (await this.parts.groups.create(ctx, resource)).row.id);
    await this.addMembers(localId, g, members.slice(first.length));
    return localId;
  }

  /**
   * The group's attributes and exactly these members: one PUT when one request may
   * name them all; else PATCHes of the attributes, then of the members to remove
   * and to add, each within the limit (only the difference is written, so the
   * events are the same as a PUT's). False when the group is gone here.
   */
  private async replaceGroup(localId: string, g: SourceGroup, members: string[]): Promise<boolean> {
    try {
      if (members.length <= this.memberChunk) {
        const resource = this.groupBody(g, members);
        await this.logged('PUT', 'Group', g.id, resource, 200, (ctx) => this.parts.groups.replace(ctx, localId, resource), localId);
      } else {
        await this.patchGroup(localId, g, [{ op: 'replace', value: { displayName: g.resource.displayName, externalId: g.resource.externalId } }]);
        const current = new Set(((await this.parts.groups.membersOf([localId])).get(localId) ?? []).map((m) => m.value));
        const wanted = new Set(members);
        const gone = [...current].filter((id) => !wanted.has(id));
        for (const part of slices(gone, this.memberChunk)) await this.memberPiece(localId, g, 'remove', part);
        await this.addMembers(localId, g, members.filter((id) => !current.has(id)));
      }
      this.counts.groupsUpdated++;
      return true;
    } catch (e) {
      if (hasCode(e, 'ROLLCALL_GROUP_NOT_FOUND')) return false;
      throw e;
    }
  }

  /** Present objects of `kind` this run's complete listing did not name, page by page. */
  private async *absent(kind: 'user' | 'group', seen: Set<string>) {
    let after = '';
    for (;;) {
      const rows = await this.parts.sources.objectsInState(this.connectionId, kind, 'present', after, ABSENT_PAGE);
      if (!rows.length) return;
      after = rows[rows.length - 1].source_id;
      const gone = rows.filter((r) => !seen.has(r.source_id));
      if (gone.length) yield gone;
    }
  }

  /** A page of map rows at a time, each followed by a checkpoint (the lease is renewed per page here too). */
  private async deactivateAbsentUsers(): Promise<void> {
    for await (const gone of this.absent('user', this.seenUsers)) {
      await eachLimited(gone, this.tuning.writeConcurrency ?? 16, async (k) => {
        let state: 'absent' | 'deleted' = 'absent';
        try {
          const before = await this.parts.users.get(this.ctx, k.local_id);
          if (before.row.active) await this.deactivate(k.local_id, k.source_id);
        } catch (e) {
          if (!hasCode(e, 'ROLLCALL_USER_NOT_FOUND')) throw e;
          state = 'deleted';
        }
        // No digest: when the user is listed again it is written (and reactivated).
        await this.parts.sources.saveObject(this.connectionId, 'user', k.source_id, k.local_id, null, state);
      });
      await this.checkpoint();
    }
  }

  private async deleteAbsentGroups(): Promise<void> {
    for await (const gone of this.absent('group', this.seenGroups)) {
      for (const k of gone) {
        try {
          await this.logged('DELETE', 'Group', k.source_id, undefined, 204, (ctx) => this.parts.groups.delete(ctx, k.local_id), k.local_id);
          this.counts.groupsDeleted++;
        } catch (e) {
          if (!hasCode(e, 'ROLLCALL_GROUP_NOT_FOUND')) throw e;
        }
        await this.parts.sources.saveObject(this.connectionId, 'group', k.source_id, k.local_id, null, 'deleted');
      }
      await this.checkpoint();
    }
  }
}
