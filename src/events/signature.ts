/**
 * Webhook signatures. Every delivery carries
 *
 *   Rollcall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the raw request body (the bytes as
 * received, before any JSON parsing), compares in constant time, and refuses
 * timestamps more than five minutes away from its clock (replays). Several v1
 * entries may appear; one match is enough.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Rollcall-Signature';
export const EVENT_ID_HEADER = 'Rollcall-Event-Id';
export const DEFAULT_TOLERANCE_SECONDS = 300;

type Body = string | Buffer | Uint8Array;

function hmac(secret: string, timestamp: number, rawBody: Body): string {
  const h = createHmac('sha256', secret);
  h.update(`${timestamp}.`, 'utf8');
  h.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return h.digest('hex');
}

/** The `Rollcall-Signature` header value for `rawBody`, signed at `timestamp` (Unix seconds; default now). */
export function signWebhook(rawBody: Body, secret: string, timestamp: number = Math.floor(Date.now() / 1000)): string {
  if (!Number.isInteger(timestamp) || timestamp < 0) throw new TypeError('timestamp must be whole Unix seconds');
  return `t=${timestamp},v1=${hmac(secret, timestamp, rawBody)}`;
}

export interface VerifyOptions {
  /** Largest accepted distance between the signature's time and now (default 300 s). */
  toleranceSeconds?: number;
  /** The current time (a Date, or milliseconds since the epoch); default the system clock. */
  now?: Date | number;
}

/**
 * True when `header` is a valid Rollcall-Signature of `rawBody` under `secret`,
 * made within `toleranceSeconds` of now. False for anything else — a changed body,
 * another secret, an old (or far future) timestamp, a missing or malformed
 * header. Never throws on bad input.
 */
export function verifyWebhook(rawBody: Body, header: string | string[] | undefined | null, secret: string, opts: VerifyOptions = {}): boolean {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (typeof value !== 'string' || value.length > 4096 || typeof secret !== 'string' || secret === '') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return false;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(val)) return false;
      timestamp = Number(val);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(val)) return false;
      signatures.push(val.toLowerCase());
    }
    // other schemes (future versions) are ignored
  }
  if (timestamp === undefined || !signatures.length) return false;
  // A body that is not text or bytes (a receiver that did not keep the raw body) verifies nothing.
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) return false;
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowMs = opts.now === undefined ? Date.now() : typeof opts.now === 'number' ? opts.now : opts.now instanceof Date ? opts.now.getTime() : NaN;
  // An unusable tolerance or clock (NaN from an unset variable) must not switch the age check off.
  if (!Number.isFinite(tolerance) || tolerance < 0 || !Number.isFinite(nowMs)) return false;
  if (Math.abs(Math.floor(nowMs / 1000) - timestamp) > tolerance) return false;
  const expected = Buffer.from(hmac(secret, timestamp, rawBody), 'hex');
  let ok = false;
  for (const s of signatures) {
    // Every candidate is compared (no early exit), each in constant time.
    if (timingSafeEqual(expected, Buffer.from(s, 'hex'))) ok = true;
  }
  return ok;
}
