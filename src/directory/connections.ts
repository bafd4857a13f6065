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

export class ConnectionDirectory {
  /** Token checks that succeeded in read snapshot `snapshot` (exact: the snapshot cannot change). */
  private verified = new Set<string>();
  private snapshot = -1;

  constructor(
    private readonly db: Kysely<DB>,
    /** Reads outside transactions (every request's token check). */
    private readonly readDb: Kysely<DB>,
    private readonly readSnapshot: () => number,
    private readonly clock: Clock,
    private readonly publicUrl: string,
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
    return { ...this.info(row), token, tokenId, previousValidUntil: until };
  }

  /**
   * True when `token` is a live token of connection `id`. Compares hashes in
   * constant time. Read through the read snapshot: a rotation by the CLI takes
   * effect as soon as the snapshot renews (milliseconds). A success is remembered
   * for the rest of the snapshot, which would answer the same.
   */
  async authenticate(id: string, token: string): Promise<boolean> {
    const hash = hashToken(token);
    const key = `${id}:${hash}`;
    const snapshot = this.readSnapshot();
    if (snapshot !== this.snapshot) {
      this.verified = new Set();
      this.snapshot = snapshot;
    } else if (this.verified.has(key)) {
      return true;
    }
    const tokens = await connectionsStore.liveTokens(this.readDb, id, this.clock().toISOString());
    const given = Buffer.from(hash, 'hex');
    let ok = false;
    for (const t of tokens) {
      // No early exit: every live token is compared.
      if (timingSafeEqual(given, Buffer.from(t.hash, 'hex'))) ok = true;
    }
    // Only remember the answer if the snapshot did not renew while we awaited.
    if (ok && this.readSnapshot() === snapshot && this.snapshot === snapshot) this.verified.add(key);
    return ok;
  }
}
