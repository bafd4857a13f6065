/**
 * Secrets Rollcall hands out (admin keys, connection tokens, console sessions,
 * setup links): 256 random bits behind a prefix that says what they are, stored
 * only as SHA-256 (a slow password hash adds nothing for random secrets).
 */
import { createHash, randomBytes } from 'node:crypto';

export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** The stored form of a secret: SHA-256, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
