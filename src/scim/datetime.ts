/**
 * xsd:dateTime as SCIM clients send it (RFC 7643 §2.3.5), parsed strictly so
 * filters, the evaluator and stored values agree: `2015-10-10T14:38:21.8617979-07:00`,
 * `…Z`, no zone (read as UTC, never as the server's local time), date only.
 * Date.parse is not used: it accepts `2024-3-1` and `1` and reads zone-less
 * times in the local zone.
 *
 * The input is the client's: the pattern has no two quantifiers competing for the
 * same characters, and no input longer than any dateTime reaches it.
 */
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Longer than any dateTime: Entra ID's longest form is 33 characters (7 fractional digits and an offset). */
const MAX_DATETIME_LENGTH = 64;

/** An instant with full sub-second precision (clients send 7 fractional digits). */
export interface Instant {
  /** Whole seconds since the epoch, UTC. */
  seconds: number;
  /** Fractional digits without trailing zeros ("8617979"). */
  fraction: string;
}

export function parseInstant(s: string): Instant | undefined {
  const text = s.trim();
  if (text.length > MAX_DATETIME_LENGTH) return undefined;
  const m = ISO_DATETIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', tz] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(sec);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined; // Feb 30 and friends
  date.setUTCHours(hour, minute, second, 0);
  let offsetMinutes = 0;
  if (tz && tz !== 'Z' && tz !== 'z') {
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Local time = UTC + offset, so UTC = local - offset.
  return { seconds: date.getTime() / 1000 - offsetMinutes * 60, fraction: withoutTrailingZeros(frac) };
}

/** `/0+$/` would retry from every zero of a long run that is not at the end: quadratic. */
function withoutTrailingZeros(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 0x30) end--;
  return digits.slice(0, end);
}

/** The instant as stored: ISO 8601 UTC with milliseconds; `subMillis` when digits were cut. */
export function toStoredDateTime(i: Instant): { iso: string; subMillis: boolean } {
  const ms = Number((i.fraction + '000').slice(0, 3));
  const iso = new Date(i.seconds * 1000 + ms).toISOString();
  return { iso, subMillis: i.fraction.length > 3 };
}
