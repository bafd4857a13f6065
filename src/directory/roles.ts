/**
 * Roles from IdP groups (setting `roleMapping`): ordered rules, the first whose
 * group the user belongs to gives the role, else `defaultRole`. Without rules a
 * user keeps the role it was created with (defaultRole), as before. The role lives
 * in what the host app reads (users.app); a change through membership (or a new
 * mapping) is the event `user.role_changed`.
 */
import type { Kysely } from 'kysely';
import { chunked } from '../store/chunks.js';
import type { Doc } from '../scim/resource.js';
import type { DB } from '../store/types.js';
import type { Emit } from '../store/batch.js';
import * as memberships from '../store/memberships.js';
import * as usersStore from '../store/users.js';
import type { NewEvent } from '../events/types.js';
import type { ConnectionSettings } from './settings.js';
import { type RequestContext, settingsOf } from './context.js';
import { event, readApp, storedApp, userView } from './emitted-events.js';

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

export interface RefreshOptions {
  /** Lock the users first (PostgreSQL), where the caller has not: their memberships are then read as they stay until commit. */
  lock?: boolean;
  /** Also without rules (a mapping was just cleared): everyone gets defaultRole. */
  force?: boolean;
}

/**
 * Brings the role of these users in line with their groups, inside the caller's
 * write transaction (after it changed memberships). Nothing to do without rules.
 * A chunk of users at a time with a turn of the event loop between (a group of
 * 50,000 renamed), reading each user's document only when its role changes.
 */
export async function refreshRoles(trx: Kysely<DB>, ctx: RequestContext, userIds: readonly string[], now: string, emit: Emit<NewEvent>, opts: RefreshOptions = {}): Promise<void> {
  const settings = settingsOf(ctx);
  if ((!settings.roleMapping.length && !opts.force) || !userIds.length) return;
  for await (const part of chunked([...new Set(userIds)].sort())) {
    if (opts.lock) await memberships.lockUsers(trx, part);
    const groups = await memberships.groupKeysOfUsers(trx, part);
    const changed: { id: string; app: string; previousRole: string | null }[] = [];
    for (const u of await usersStore.liveUserApps(trx, ctx.connectionId, part)) {
      const app = readApp(u.app);
      const role = roleFor(settings, groups.get(u.id) ?? []);
      if (app.role !== role) changed.push({ id: u.id, app: storedApp({ ...app, role }), previousRole: app.role });
    }
    if (!changed.length) continue;
    const rows = new Map((await usersStore.liveUsersByIds(trx, ctx.connectionId, changed.map((c) => c.id))).map((r) => [r.id, r]));
    for (const c of changed) {
      const row = rows.get(c.id);
      if (!row) continue;
      await usersStore.setUserApp(trx, ctx.connectionId, c.id, c.app);
      const view = userView(ctx, { ...row, app: c.app }, JSON.parse(row.doc) as Doc);
      emit(event(ctx, 'user.role_changed', { type: 'User', id: c.id }, { ...view, previousRole: c.previousRole }, now));
    }
  }
}
