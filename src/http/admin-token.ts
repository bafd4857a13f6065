/**
 * The admin API key. Either ROLLCALL_ADMIN_TOKEN (then only it opens the admin
 * API), or one Rollcall generates on first start: 256 random bits, shown once,
 * stored as a SHA-256 hash (a slow password hash adds nothing for a random key).
 * Comparisons are of hashes, in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';

/** The one stored key's row id (a second start finds it and generates nothing). */
const KEY_ID = 'admin';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function newAdminToken(): string {
  return 'rca_' + randomBytes(32).toString('base64url');
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
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.envHash = envToken ? sha256(envToken) : undefined;
  }

  /** Makes sure there is an admin key; generates and returns one when there is none yet. */
  async ensure(): Promise<AdminTokenStatus> {
    if (this.envHash) return { source: 'env' };
    const token = newAdminToken();
    const r = await this.db
      .insertInto('admin_tokens')
      .values({ id: KEY_ID, hash: sha256(token).toString('hex'), created_at: this.clock().toISOString() })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    // Another start (or instance) got there first: its key stands, nothing to show.
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1 ? { source: 'stored', token } : { source: 'stored' };
  }

  /** Replaces the generated key (the old one stops working) and returns the new one. */
  async rotate(): Promise<string> {
    if (this.envHash) throw new Error('ROLLCALL_ADMIN_TOKEN is set: the admin key is the environment\'s, change it there');
    const token = newAdminToken();
    const hash = sha256(token).toString('hex');
    await this.db
      .insertInto('admin_tokens')
      .values({ id: KEY_ID, hash, created_at: this.clock().toISOString() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ hash, created_at: this.clock().toISOString() }))
      .execute();
    return token;
  }

  /** True when `token` is the admin key. */
  async verify(token: string): Promise<boolean> {
    const given = sha256(token);
    if (this.envHash) return timingSafeEqual(given, this.envHash);
    const row = await this.readDb.selectFrom('admin_tokens').select('hash').where('id', '=', KEY_ID).executeTakeFirst();
    if (!row || !/^[0-9a-f]{64}$/.test(row.hash)) return false;
    return timingSafeEqual(given, Buffer.from(row.hash, 'hex'));
  }
}
