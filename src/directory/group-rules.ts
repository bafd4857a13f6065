/**
 * Group rules applied on a user write: the connection's rules (policies/groups.ts)
 * name groups, and the user joins each of them inside the write's transaction.
 */
import type { Kysely } from 'kysely';
import type { Doc } from '../scim/resource.js';
import type { DB } from '../store/types.js';
import type { Emit } from '../store/batch.js';
import type { SqlDialect } from '../store/dialect.js';
import type { UserRow } from '../store/users.js';
import * as groupsStore from '../store/groups.js';
import * as memberships from '../store/memberships.js';
import type { NewEvent } from '../events/types.js';
import { event, groupView, membershipEvent } from './emitted-events.js';
import { type RequestContext, settingsOf } from './context.js';
import { groupsFromRules } from './policies/index.js';
import { refreshRoles } from './roles.js';

/**
 * Group rules only add: after a create or update, the user joins every group a
 * rule names (created when missing). With exclusive groups a rule never moves a
 * user who is already in another group.
 */
export async function applyGroupRules(
  trx: Kysely<DB>,
  dialect: SqlDialect,
  ctx: RequestContext,
  user: UserRow,
  doc: Doc,
  now: string,
  emit: Emit<NewEvent>,
): Promise<void> {
  const userId = user.id;
  const settings = settingsOf(ctx);
  const names = groupsFromRules(settings, doc);
  let joined = false;
  for (const name of names) {
    // Locked where writers run side by side: a concurrent DELETE of the group waits, or has already gone and the rule creates it anew.
    const { group, created } = await groupsStore.groupByName(trx, ctx.connectionId, name, now, dialect.lockRows);
    if (created) emit(event(ctx, 'group.created', { type: 'Group', id: group.id }, groupView(group), now));
    if (settings.exclusiveGroups) {
      if (dialect.lockRows) await memberships.lockUsers(trx, [userId]);
      if ((await memberships.otherGroupsOf(trx, [userId], group.id)).length) continue;
    }
    const added = await memberships.addMembers(trx, ctx.connectionId, group.id, [userId], now);
    if (added.length) {
      await groupsStore.touchGroup(trx, group.id, now);
      const member = { id: userId, userName: user.user_name, externalId: user.external_id, displayName: user.display_name };
      emit(membershipEvent(ctx, 'group.member_added', { id: group.id, displayName: group.display_name }, member, now));
      joined = true;
    }
  }
  if (joined) await refreshRoles(trx, ctx, [userId], now, emit);
}
