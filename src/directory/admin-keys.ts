/**
 * The admin API key. Either ROLLCALL_ADMIN_TOKEN (then only it opens the admin
 * API), or one Rollcall generates on first start: 256 random bits, shown once,
 * stored as a SHA-256 hash (a slow password hash adds nothing for a random key).
 * Comparisons are of hashes, in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { newSecret } from './secrets.js';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import { adminKeyHash, insertAdminKeyIfAbsent, replaceAdminKey } from '../store/admin-keys.js';
import { fail } from '../scim/errors.js';
import { type Clock, systemClock } from './context.js';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function newAdminToken(): string {
  return newSecret('rca_');
}

export interface AdminTokenStatus {
  /** 'env': ROLLCALL_ADMIN_TOKEN is set; 'stored': a generated key exists. */
  source: 'env' | 'stored';
  /** The generated key, only when this call generated it (show it once). */
  token?: string;
}

export class AdminTokens {
  private readonly envHash: Buffer | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    /** Where requests check the key (may lag another process's rotation by a few ms). */
    private readonly readDb: Kysely<DB>,
    envToken: string | undefined,
    private readonly clock: Clock = systemClock,
  ) {
    this.envHash = envToken ? sha256(envToken) : undefined;
  }

  /** Makes sure there is an admin key; generates and returns one when there is none yet. */
  async ensure(): Promise<AdminTokenStatus> {
    if (this.envHash) return { source: 'env' };
    const token = newAdminToken();
    const stored = await insertAdminKeyIfAbsent(this.db, sha256(token).toString('hex'), this.clock().toISOString());
    // Another start (or instance) got there first: its key stands, nothing to show.
    return stored ? { source: 'stored', token } : { source: 'stored' };
  }

  /** Replaces the generated key (the old one stops working) and returns the new one. */
  async rotate(): Promise<string> {
    if (this.envHash) throw fail('ROLLCALL_ADMIN_KEY_FROM_ENV', "ROLLCALL_ADMIN_TOKEN is set: the admin key is the environment's, change it there");
    const token = newAdminToken();
    await replaceAdminKey(this.db, sha256(token).toString('hex'), this.clock().toISOString());
    return token;
  }

  /** True when `token` is the admin key. */
  async verify(token: string): Promise<boolean> {
    const given = sha256(token);
    if (this.envHash) return timingSafeEqual(given, this.envHash);
    const hash = await adminKeyHash(this.readDb);
    if (!hash || !/^[0-9a-f]{64}$/.test(hash)) return false;
    return timingSafeEqual(given, Buffer.from(hash, 'hex'));
  }
}
