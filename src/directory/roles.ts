/**
 * Roles from IdP groups (setting `roleMapping`): ordered rules, the first whose
 * group the user belongs to gives the role, else `defaultRole`. Without rules a
 * user keeps the role it was created with (defaultRole), as before. The role lives
 * in what the host app reads (users.app); a change through membership (or a new
 * mapping) is the event `user.role_changed`.
 */
import type { Kysely } from 'kysely';
import type { Doc } from '../scim/resource.js';
import type { DB } from '../store/types.js';
import type { Emit } from '../store/batch.js';
import * as memberships from '../store/memberships.js';
import * as usersStore from '../store/users.js';
import type { NewEvent } from '../events/types.js';
import type { ConnectionSettings } from './settings.js';
import { type RequestContext, settingsOf } from './context.js';
import { event, userView } from './emitted-events.js';

export interface GroupKey {
  displayName: string;
  externalId: string | null;
}

/** The role rules give a member of `groups`: a rule names a group by displayName (any case) or externalId. */
export function roleFor(settings: Pick<ConnectionSettings, 'roleMapping' | 'defaultRole'>, groups: readonly GroupKey[]): string {
  for (const rule of settings.roleMapping) {
    const name = rule.group.toLowerCase();
    if (groups.some((g) => g.displayName.toLowerCase() === name || g.externalId === rule.group)) return rule.role;
  }
  return settings.defaultRole;
}

/**
 * Brings the role of these users in line with their groups, inside the caller's
 * write transaction (after it changed memberships). Nothing to do without rules.
 */
export async function refreshRoles(trx: Kysely<DB>, ctx: RequestContext, userIds: readonly string[], now: string, emit: Emit<NewEvent>): Promise<void> {
  const settings = settingsOf(ctx);
  if (!settings.roleMapping.length || !userIds.length) return;
  const groups = await memberships.groupKeysOfUsers(trx, [...userIds]);
  for (const row of await usersStore.liveUsersByIds(trx, ctx.connectionId, [...userIds])) {
    const app = JSON.parse(row.app || '{}') as { role?: string | null };
    const role = roleFor(settings, groups.get(row.id) ?? []);
    if (app.role === role) continue;
    const next = JSON.stringify({ ...app, role });
    await usersStore.setUserApp(trx, ctx.connectionId, row.id, next);
    const view = userView(ctx, { ...row, app: next }, JSON.parse(row.doc) as Doc);
    emit(event(ctx, 'user.role_changed', { type: 'User', id: row.id }, { ...view, previousRole: app.role ?? null }, now));
  }
}
