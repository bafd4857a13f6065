/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for a connection, beside its bearer
 * token: the Entra app gallery no longer takes long-lived tokens for new SCIM
 * integrations. The client id is the connection id; a connection has several
 * named client secrets at once (rotation without a gap), each with an expiry. A
 * secret buys an access token that expires (ROLLCALL_OAUTH_TOKEN_TTL) and opens
 * that connection's SCIM API only. Secrets and access tokens are 256-bit random
 * values stored as SHA-256, like the bearer tokens (connection-tokens.ts).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import * as store from '../store/client-credentials.js';
import { fail } from '../scim/errors.js';
import type { Clock } from './context.js';
import { newSecret, sha256Hex } from './secrets.js';

const DAY_MS = 86_400_000;
/** A secret lives one to three years (Entra asks customers to renew within that). */
export const SECRET_DAYS = { min: 365, max: 1095, default: 730 } as const;
/** Active secrets per connection: enough to rotate, bounded. */
export const MAX_ACTIVE_SECRETS = 10;
/** Live access tokens kept per secret; an IdP holds one and renews it before it ends. */
const LIVE_TOKENS_PER_SECRET = 20;
export const TOKEN_TTL_SECONDS = { min: 60, max: 86_400, default: 3_600 } as const;

export interface NewClientSecret {
  clientId: string;
  clientSecret: string;
  secretId: string;
  name: string;
  createdAt: string;
  expiresAt: string;
}

export interface ClientSecretInfo {
  secretId: string;
  name: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

export interface AccessToken {
  accessToken: string;
  expiresIn: number;
}

export class ClientCredentials {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    /** Seconds an access token works. */
    readonly tokenTtlSeconds: number,
    /** Called after a revocation: remembered token checks are stale. */
    private readonly onRevoked: () => void,
  ) {}

  /** A new secret for `connectionId` (an existing SCIM connection: the caller checked). Shown here only. */
  async create(connectionId: string, opts: { name?: string; expiresInDays?: number } = {}): Promise<NewClientSecret> {
    const days = opts.expiresInDays ?? SECRET_DAYS.default;
    if (!Number.isInteger(days) || days < SECRET_DAYS.min || days > SECRET_DAYS.max) {
      throw fail('ROLLCALL_CLIENT_SECRET_EXPIRY', `a client secret expires after ${SECRET_DAYS.min} to ${SECRET_DAYS.max} days (one to three years), got ${opts.expiresInDays}`);
    }
    const now = this.clock();
    const name = (opts.name ?? '').trim() || `secret of ${now.toISOString().slice(0, 10)}`;
    if (name.length > 200) throw fail('ROLLCALL_ADMIN_BAD_INPUT', 'a client secret name is at most 200 characters');
    if ((await store.countActiveClientSecrets(this.db, connectionId, now.toISOString())) >= MAX_ACTIVE_SECRETS) {
      throw fail('ROLLCALL_CLIENT_SECRETS_FULL', `the connection has ${MAX_ACTIVE_SECRETS} active client secrets; revoke one it no longer uses first`);
    }
    const clientSecret = newSecret('rcs_');
    const row = {
      id: randomUUID(),
      connection_id: connectionId,
      name,
      hash: sha256Hex(clientSecret),
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + days * DAY_MS).toISOString(),
      revoked_at: null,
      last_used_at: null,
    };
    await store.insertClientSecret(this.db, row);
    return { clientId: connectionId, clientSecret, secretId: row.id, name, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async list(connectionId: string): Promise<ClientSecretInfo[]> {
    const now = this.clock().toISOString();
    return (await store.clientSecretsOf(this.db, connectionId)).map((r) => ({
      secretId: r.id,
      name: r.name,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
      lastUsedAt: r.last_used_at,
      status: r.revoked_at ? 'revoked' : r.expires_at <= now ? 'expired' : 'active',
    }));
  }

  /** Revokes a secret; the access tokens it obtained stop working at once. */
  async revoke(connectionId: string, secretId: string): Promise<void> {
    const done = await this.db.transaction().execute((trx) => store.revokeClientSecret(trx, connectionId, secretId, this.clock().toISOString()));
    this.onRevoked();
    if (!done) throw fail('ROLLCALL_CLIENT_SECRET_NOT_FOUND', `connection '${connectionId}' has no active client secret '${secretId}'`);
  }

  /**
   * The client credentials grant: an access token when `clientSecret` is a live
   * secret of connection `clientId`, else undefined (the caller answers
   * invalid_client without saying which part was wrong). Hashes compared in
   * constant time, every candidate compared.
   */
  async grant(clientId: string, clientSecret: string): Promise<AccessToken | undefined> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(clientId) || clientSecret.length > 200) return undefined;
    const now = this.clock();
    const given = Buffer.from(sha256Hex(clientSecret), 'hex');
    let match: string | undefined;
    for (const s of await store.usableClientSecrets(this.db, clientId, now.toISOString())) {
      if (timingSafeEqual(given, Buffer.from(s.hash, 'hex'))) match = s.id;
    }
    if (!match) return undefined;
    const accessToken = newSecret('rco_');
    const secretId = match;
    const row = {
      id: randomUUID(),
      connection_id: clientId,
      hash: sha256Hex(accessToken),
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.tokenTtlSeconds * 1000).toISOString(),
      client_secret_id: secretId,
    };
    const stored = await this.db.transaction().execute((trx) => store.insertAccessToken(trx, row, now.toISOString(), LIVE_TOKENS_PER_SECRET));
    // Revoked while this request ran: as if it had been revoked before.
    return stored ? { accessToken, expiresIn: this.tokenTtlSeconds } : undefined;
  }
}
