/**
 * Who may use the console, and for what. The admin signs in with the admin key
 * and gets a session (everything); an organisation's IT admin opens a setup link
 * and gets a session for that organisation only: its SCIM connection (create,
 * configure, see the token once), its users and its log, nothing of another
 * organisation and no admin key. Session tokens and link secrets are 256 random
 * bits, stored as SHA-256 hashes; the secret is in the link's URL fragment, which
 * browsers send to no server. Every use of a link, and everything done through
 * it, goes to the organisation's audit trail.
 */
import type { Kysely } from 'kysely';
import type { DB, SetupLinksTable } from '../store/types.js';
import * as store from '../store/console-access.js';
import { monotonicUuidv7 } from '../events/outbox.js';
import { fail } from '../scim/errors.js';
import type { AdminTokens } from './admin-keys.js';
import type { ConnectionDirectory } from './connections.js';
import type { Clock } from './context.js';
import { newSecret, sha256Hex } from './secrets.js';

export type ConsoleScope = { kind: 'admin' } | { kind: 'organization'; organizationId: string; setupLinkId: string };

export interface ConsoleSession {
  scope: ConsoleScope;
  expiresAt: string;
}

export interface SetupLinkInfo {
  id: string;
  organizationId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
  uses: number;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

export const DEFAULT_SESSION_HOURS = 12;
const MIN_LINK_SECONDS = 5 * 60;
const MAX_LINK_SECONDS = 30 * 86_400;
export const DEFAULT_SETUP_LINK_EXPIRY = '7d';


/** `7d`, `24h`, `90m`, `3600s` (or plain seconds) in seconds, between 5 minutes and 30 days. */
export function parseExpiry(text: string): number {
  // The unit's spaces inside its optional group: two bare \s* around an empty unit would split a run of spaces every way.
  const m = /^\s*(\d{1,7})(?:\s*([smhd]))?\s*$/i.exec(text);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[(m?.[2] ?? '').toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = m ? Number(m[1]) * unit : NaN;
  if (!Number.isFinite(seconds) || seconds < MIN_LINK_SECONDS || seconds > MAX_LINK_SECONDS) {
    throw fail('ROLLCALL_ADMIN_BAD_INPUT', `'expiresIn' must be a duration from 5m to 30d, like 7d, 24h or 90m; got '${text.slice(0, 20)}'`);
  }
  return seconds;
}

function linkInfo(row: SetupLinksTable, now: string): SetupLinkInfo {
  return {
    id: row.id,
    organizationId: row.organization_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    status: row.revoked_at ? 'revoked' : row.expires_at <= now ? 'expired' : 'active',
    uses: Number(row.uses),
    lastUsedAt: row.last_used_at,
  };
}

export class ConsoleAccess {
  private readonly nextId = monotonicUuidv7();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly admin: AdminTokens,
    private readonly connections: ConnectionDirectory,
    private readonly clock: Clock,
    /** Where the console is served (setup link URLs). */
    private readonly consoleUrl: () => string,
    private readonly sessionHours = DEFAULT_SESSION_HOURS,
  ) {}

  private async newSession(organizationId: string | null, setupLinkId: string | null, until: number): Promise<{ token: string; expiresAt: string }> {
    const now = this.clock();
    const token = newSecret('rcs_');
    const expiresAt = new Date(Math.min(until, now.getTime() + this.sessionHours * 3_600_000)).toISOString();
    await store.insertSession(this.db, { hash: sha256Hex(token), organization_id: organizationId, setup_link_id: setupLinkId, created_at: now.toISOString(), expires_at: expiresAt });
    return { token, expiresAt };
  }

  /** A session for the holder of the admin key. */
  async signIn(adminKey: string): Promise<{ token: string; expiresAt: string }> {
    if (!(await this.admin.verify(adminKey))) throw fail('ROLLCALL_ADMIN_KEY_INVALID', 'The admin key is not valid.');
    return this.newSession(null, null, Number.MAX_SAFE_INTEGER);
  }

  /** A session limited to the link's organisation, ending when the link expires at the latest. */
  async openSetupLink(linkSecret: string): Promise<{ token: string; expiresAt: string; organizationId: string }> {
    const now = this.clock().toISOString();
    const row = await store.setupLinkByHash(this.db, sha256Hex(linkSecret));
    if (!row) throw fail('ROLLCALL_SETUP_LINK_INVALID', 'This setup link is not valid. Ask for a new one.');
    const info = linkInfo(row, now);
    if (info.status === 'revoked') throw fail('ROLLCALL_SETUP_LINK_REVOKED', 'This setup link was revoked. Ask for a new one.');
    if (info.status === 'expired') throw fail('ROLLCALL_SETUP_LINK_EXPIRED', `This setup link expired at ${info.expiresAt}. Ask for a new one.`);
    await store.countSetupLinkUse(this.db, row.id, now);
    await this.audit(row.organization_id, `setup-link:${row.id}`, 'setup_link.opened', {});
    const session = await this.newSession(row.organization_id, row.id, Date.parse(row.expires_at));
    return { ...session, organizationId: row.organization_id };
  }

  /** The session a cookie's token opens now; undefined when it is unknown or expired. */
  async session(token: string): Promise<ConsoleSession | undefined> {
    const row = await store.liveSession(this.db, sha256Hex(token), this.clock().toISOString());
    if (!row) return undefined;
    const scope: ConsoleScope = row.organization_id ? { kind: 'organization', organizationId: row.organization_id, setupLinkId: row.setup_link_id ?? '' } : { kind: 'admin' };
    return { scope, expiresAt: row.expires_at };
  }

  async signOut(token: string): Promise<void> {
    await store.deleteSession(this.db, sha256Hex(token));
  }

  /** Removes expired sessions (the purge calls it). */
  pruneSessions(asOf: Date): Promise<number> {
    return store.deleteExpiredSessions(this.db, asOf.toISOString());
  }

  /** A new link for `organizationId`; its `url` holds the secret and is shown only here. */
  async createSetupLink(organizationId: string, expiresIn: string = DEFAULT_SETUP_LINK_EXPIRY, actor = 'admin'): Promise<SetupLinkInfo & { url: string }> {
    const seconds = parseExpiry(expiresIn);
    if (!(await this.connections.getOrganization(organizationId))) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${organizationId}'`);
    const now = this.clock();
    const linkSecret = newSecret('rcl_');
    const row: SetupLinksTable = {
      id: this.nextId(now.getTime()),
      organization_id: organizationId,
      hash: sha256Hex(linkSecret),
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + seconds * 1000).toISOString(),
      revoked_at: null,
      uses: 0,
      last_used_at: null,
    };
    await store.insertSetupLink(this.db, row);
    await this.audit(organizationId, actor, 'setup_link.created', { setupLinkId: row.id, expiresAt: row.expires_at });
    return { ...linkInfo(row, row.created_at), url: `${this.consoleUrl()}/setup#${linkSecret}` };
  }

  async setupLinks(organizationId: string): Promise<SetupLinkInfo[]> {
    const now = this.clock().toISOString();
    return (await store.setupLinksOf(this.db, organizationId)).map((r) => linkInfo(r, now));
  }

  /** Revokes a link and ends the sessions it opened. */
  async revokeSetupLink(organizationId: string, id: string, actor = 'admin'): Promise<SetupLinkInfo> {
    const now = this.clock().toISOString();
    const row = await store.revokeSetupLink(this.db, organizationId, id, now);
    if (!row) throw fail('ROLLCALL_ADMIN_NOT_FOUND', `no setup link with id '${id}' in organisation '${organizationId}'`);
    await store.deleteSessionsOfLink(this.db, id);
    await this.audit(organizationId, actor, 'setup_link.revoked', { setupLinkId: id });
    return linkInfo(row, now);
  }

  async audit(organizationId: string, actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    const at = this.clock();
    await store.insertAudit(this.db, { id: this.nextId(at.getTime()), organization_id: organizationId, at: at.toISOString(), actor, action, detail: JSON.stringify(detail) });
  }

  async auditTrail(organizationId: string, o: { limit?: number; before?: string } = {}): Promise<{ entries: AuditEntry[]; next: string | null }> {
    const limit = Math.min(o.limit ?? 50, 200);
    const rows = await store.auditOf(this.db, organizationId, limit + 1, o.before);
    const entries = rows.slice(0, limit).map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, detail: JSON.parse(r.detail) as Record<string, unknown> }));
    return { entries, next: rows.length > limit ? entries[entries.length - 1].id : null };
  }
}
