/**
 * Connection tokens: issuing, rotating and checking the bearer tokens an IdP sends.
 * Tokens are shown once and stored only as a SHA-256 hash; they are 256-bit random
 * values, so a slow password hash would add latency without adding safety.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { newSecret, sha256Hex } from './secrets.js';
import type { Kysely } from 'kysely';
import type { DB, ConnectionTokensTable } from '../store/types.js';
import * as connectionsStore from '../store/connections.js';
import type { ConnectionAccess } from '../store/connections.js';
import type { WriteBatcher } from '../store/batch.js';
import type { NewEvent } from '../events/types.js';
import { type Clock, requestContext } from './context.js';
import { event } from './emitted-events.js';
import { type ConnectionSettings, readSettings } from './settings.js';
import { READ_SNAPSHOT_MS } from '../store/opened-database.js';

/** The connection a valid token opened, as the SCIM layer needs it. */
export interface ConnectionGrant {
  organizationId: string | null;
  plan: string | null;
  scimAllowed: boolean;
  /** An administrator disabled the connection: authenticated, but refused. */
  disabled: boolean;
  workspace: string;
  settings: ConnectionSettings;
}

export interface IssuedToken {
  token: string;
  tokenId: string;
}

/** What a token rotation needs to know of its connection (for the event it emits). */
export interface RotatedConnection {
  id: string;
  name: string;
  workspace: string;
  organizationId: string | null;
  scimUrl: string;
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

/** A new token and the row that stores its hash for `connectionId`. */
export function issueToken(connectionId: string, now: string): IssuedToken & { row: ConnectionTokensTable } {
  const token = newSecret('rcl_');
  const tokenId = randomUUID();
  return { token, tokenId, row: { id: tokenId, connection_id: connectionId, hash: hashToken(token), created_at: now, expires_at: null } };
}

export class ConnectionTokens {
  /**
   * Token checks that succeeded, each for READ_SNAPSHOT_MS at most (and never past the
   * token's own end): another process's change shows within that bound, as it does
   * for reads, and this process's changes clear it at once (forget).
   */
  private verified = new Map<string, { grant: ConnectionGrant; until: number; checkedAt: number }>();
  /** Bumped by forget(): a check that was running meanwhile must not be remembered. */
  private generation = 0;
  /** Parsed settings by their JSON text: parsing once per change, not per request. */
  private readonly parsed = new Map<string, ConnectionSettings>();

  constructor(
    /** Reads outside transactions (every request's token check). */
    private readonly readDb: Kysely<DB>,
    /** Write transactions with the event outbox (token rotations are events). */
    private readonly writes: WriteBatcher<NewEvent>,
    private readonly clock: Clock,
    /** Plans whose organisations may use the SCIM API. */
    private readonly scimPlans: readonly string[],
  ) {}

  /**
   * Issues a new token. The previous ones keep working for `graceSeconds`
   * (0: they stop now), so an admin can update the IdP without a gap.
   */
  async rotate(c: RotatedConnection, graceSeconds: number): Promise<IssuedToken & { previousValidUntil: string }> {
    const now = this.clock();
    const until = new Date(now.getTime() + Math.max(0, graceSeconds) * 1000).toISOString();
    const { token, tokenId, row } = issueToken(c.id, now.toISOString());
    await this.writes.run(async (trx, emit) => {
      await connectionsStore.rotateToken(trx, c.id, until, row);
      // Never the token itself: only that it changed, and until when the old one works.
      const ctx = requestContext(c.id, c, c.scimUrl);
      const data = { connection: { id: c.id, name: c.name, workspace: c.workspace }, tokenId, previousValidUntil: until };
      emit(event(ctx, 'connection.token_rotated', { type: 'Connection', id: c.id }, data, now.toISOString()));
    });
    this.forget();
    return { token, tokenId, previousValidUntil: until };
  }

  /** This process changed a token, plan or settings: answers remembered before are stale. */
  forget(): void {
    this.verified = new Map();
    this.generation++;
  }

  private grantOf(access: ConnectionAccess): ConnectionGrant {
    let settings = this.parsed.get(access.settings);
    if (!settings) {
      settings = readSettings(access.settings);
      if (this.parsed.size > 1000) this.parsed.clear();
      this.parsed.set(access.settings, settings);
    }
    return {
      organizationId: access.organization_id,
      plan: access.plan,
      scimAllowed: access.plan === null || this.scimPlans.includes(access.plan),
      disabled: access.status === 'disabled',
      workspace: access.workspace,
      settings,
    };
  }

  /**
   * The connection opened by `token`, or undefined when the token is not a live
   * token of connection `id`. Compares hashes in constant time. Read through the
   * read snapshot; a success is remembered for READ_SNAPSHOT_MS (the time another
   * process's commits take to show in reads anyway), never past the token's own end,
   * and forgotten at once when this process changes a token, plan or settings. Not
   * per snapshot: the snapshot renews after every write, and a check per write was a
   * tenth of a create's cost at the concurrency IdPs use.
   */
  async authenticate(id: string, token: string): Promise<ConnectionGrant | undefined> {
    const hash = hashToken(token);
    const key = `${id}:${hash}`;
    const hit = this.verified.get(key);
    // A token that ends (grace, OAuth expiry) is remembered only until it ends.
    if (hit && Date.now() - hit.checkedAt < READ_SNAPSHOT_MS && this.clock().getTime() < hit.until) return hit.grant;
    const generation = this.generation;
    const checkedAt = Date.now();
    const tokens = await connectionsStore.liveTokens(this.readDb, id, this.clock().toISOString());
    const given = Buffer.from(hash, 'hex');
    let match: ConnectionAccess | undefined;
    for (const t of tokens) {
      // No early exit: every live token is compared.
      if (timingSafeEqual(given, Buffer.from(t.hash, 'hex'))) match = t;
    }
    if (!match) return undefined;
    const grant = this.grantOf(match);
    // Not remembered when this process changed tokens meanwhile (the read may predate it).
    const until = match.expires_at ? Date.parse(match.expires_at) : Infinity;
    if (this.generation === generation) {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(key, { grant, until, checkedAt });
    }
    return grant;
  }
}
