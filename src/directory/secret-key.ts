/**
 * ROLLCALL_SECRET_KEY's text as a key (store/secret-box.ts seals with it). Here,
 * not beside the sealing, so config.ts can check the variable at start-up
 * without reaching into store/.
 */
export const SECRET_KEY_BYTES = 32;

/**
 * The key from its text: 64 hex digits or 32 bytes in base64/base64url (e.g.
 * `openssl rand -base64 32`). Throws an Error whose message says what is accepted.
 */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== SECRET_KEY_BYTES) {
    throw new Error(`must be ${SECRET_KEY_BYTES} bytes as 64 hex digits or base64 (e.g. from \`openssl rand -base64 32\`)`);
  }
  return key;
}

