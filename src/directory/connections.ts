/**
 * Connections: one customer's IdP link, with its own SCIM base URL and bearer
 * token. Tokens are shown once and stored only as a SHA-256 hash; they are 256-bit
 * random values, so a slow password hash would add latency without adding safety.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import * as connectionsStore from '../store/connections.js';
import type { ConnectionRow } from '../store/connections.js';
import type { Clock } from './context.js';

export interface ConnectionInfo {
  id: string;
  name: string;
  workspace: string;
  status: string;
  createdAt: string;
  scimUrl: string;
}

export interface IssuedToken {
  token: string;
  tokenId: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function newToken(): string {
  return 'rcl_' + randomBytes(32).toString('base64url');
}

export function scimUrl(publicUrl: string, connectionId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/scim/v2/${connectionId}`;
}

/** How long a verified token is trusted without asking the database again, at most. */
const AUTH_CACHE_MS = 30_000;

export class ConnectionDirectory {
  /**
   * Verified (connection, token hash) pairs → until when they may be trusted.
   * Emptied whenever another process commits to the database (a CLI rotation)
   * and on every in-process token change, so a rotated token stops at once.
   */
  private readonly verified = new Map<string, number>();
  private stamp = -1;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly publicUrl: string,
    private readonly changeStamp: () => number,
  ) {}

  private info(row: ConnectionRow): ConnectionInfo {
    return {
      id: row.id,
      name: row.name,
      workspace: row.workspace,
      status: row.status,
      createdAt: row.created_at,
      scimUrl: scimUrl(this.publicUrl, row.id),
    };
  }

  async create(name: string): Promise<ConnectionInfo & IssuedToken> {
    const trimmed = name.trim();
    if (!trimmed) throw new Error('a connection needs a non-empty name');
    const now = this.clock().toISOString();
    const row: ConnectionRow = {
      id: randomUUID(),
      organization_id: null,
      name: trimmed,
      workspace: 'default',
      settings: '{}',
      status: 'active',
      created_at: now,
    };
    const token = newToken();
    const tokenId = randomUUID();
    await this.db.transaction().execute((trx) =>
      connectionsStore.insertConnection(trx, row, { id: tokenId, connection_id: row.id, hash: hashToken(token), created_at: now, expires_at: null }),
    );
    return { ...this.info(row), token, tokenId };
  }

  async list(): Promise<ConnectionInfo[]> {
    return (await connectionsStore.listConnections(this.db)).map((r) => this.info(r));
  }

  async get(id: string): Promise<ConnectionInfo | undefined> {
    const row = await connectionsStore.getConnection(this.db, id);
    return row && this.info(row);
  }

  /**
   * Issues a new token. The previous ones keep working for `graceSeconds`
   * (0: they stop now), so an admin can update the IdP without a gap.
   */
  async rotateToken(id: string, graceSeconds = 0): Promise<(ConnectionInfo & IssuedToken & { previousValidUntil: string }) | undefined> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) return undefined;
    const now = this.clock();
    const until = new Date(now.getTime() + Math.max(0, graceSeconds) * 1000).toISOString();
    const token = newToken();
    const tokenId = randomUUID();
    await this.db.transaction().execute((trx) =>
      connectionsStore.rotateToken(trx, id, until, { id: tokenId, connection_id: id, hash: hashToken(token), created_at: now.toISOString(), expires_at: null }),
    );
    this.verified.clear();
    return { ...this.info(row), token, tokenId, previousValidUntil: until };
  }

  /** True when `token` is a live token of connection `id`. Compares hashes in constant time. */
  async authenticate(id: string, token: string): Promise<boolean> {
    const now = this.clock().getTime();
    const stamp = this.changeStamp();
    if (stamp !== this.stamp) {
      this.verified.clear();
      this.stamp = stamp;
    }
    const hash = hashToken(token);
    const key = `${id}:${hash}`;
    const until = this.verified.get(key);
    if (until !== undefined && until > now) return true;
    const tokens = await connectionsStore.liveTokens(this.db, id, new Date(now).toISOString());
    const given = Buffer.from(hash, 'hex');
    let match: (typeof tokens)[number] | undefined;
    for (const t of tokens) {
      // No early exit: every live token is compared.
      if (timingSafeEqual(given, Buffer.from(t.hash, 'hex'))) match = t;
    }
    if (!match) return false;
    const expires = match.expires_at ? Date.parse(match.expires_at) : Infinity;
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(key, Math.min(expires, now + AUTH_CACHE_MS));
    return true;
  }
}
