/**
 * Secrets at rest: AES-256-GCM under one key from the environment
 * (ROLLCALL_SECRET_KEY), shared by every stored secret that must be recovered
 * to be used (webhook signing secrets today). Secrets checked only by
 * comparison (admin keys, tokens) are hashed instead and never come here.
 *
 * Sealed text: `enc:v1:<key id>:<base64url(iv | ciphertext | tag)>`. The key id
 * (8 hex digits of the key's SHA-256) tells "sealed under another key" apart
 * from tampering. Each value is bound to a context (e.g. the row it belongs to)
 * as additional data, so a sealed value copied into another row does not open.
 * Only node:crypto is imported: any layer may use this.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const SECRET_KEY_BYTES = 32;
const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value cannot be opened: no key, another key, or altered. */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

export class SecretBox {
  private readonly key: Buffer | undefined;
  /** 8 hex digits naming the key (not secret: a hash prefix), or undefined without one. */
  readonly keyId: string | undefined;

  constructor(key?: Uint8Array) {
    if (key !== undefined && key.length !== SECRET_KEY_BYTES) throw new SecretKeyError(`the secret key must be ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
    this.key = key && Buffer.from(key);
    this.keyId = this.key && createHash('sha256').update(this.key).digest('hex').slice(0, 8);
  }

  /** There is a key: new values are sealed. */
  get sealing(): boolean {
    return this.key !== undefined;
  }

  /** `plain` sealed under the key for `context`; without a key, `plain` itself. */
  seal(plain: string, context: string): string {
    if (!this.key) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.keyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The plain value of what `seal` stored for `context`; text stored before there was a key is returned as it is. */
  open(stored: string, context: string): string {
    if (!isSealed(stored)) return stored;
    const rest = stored.slice(PREFIX.length);
    const colon = rest.indexOf(':');
    const keyId = rest.slice(0, colon);
    if (!this.key) throw new SecretKeyError(`the secret is sealed under key ${keyId} and ROLLCALL_SECRET_KEY is not set`);
    if (keyId !== this.keyId) throw new SecretKeyError(`the secret is sealed under key ${keyId}, not under this ROLLCALL_SECRET_KEY (${this.keyId})`);
    const raw = Buffer.from(rest.slice(colon + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretKeyError('the sealed secret is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError('the sealed secret does not open under this key (altered, or stored for another row)');
    }
  }
}
