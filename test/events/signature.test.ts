/** Webhook signatures: what a receiver's verifyWebhook accepts and refuses. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../src/events/signature.js';

const secret = 'whsec_test_secret';
const body = JSON.stringify({ id: '0190-x', type: 'user.created', occurredAt: '2026-01-01T00:00:00.000Z', organizationId: 'o', connectionId: 'c', sequence: 1, data: { a: 'ü' } });
const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const t = Math.floor(now / 1000);

describe('webhook signatures', () => {
  it('has the documented format: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
    const header = signWebhook(body, secret, t);
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${expected}`);
  });

  it('accepts a fresh signature of the exact body, as a string or as bytes', () => {
    const header = signWebhook(body, secret, t);
    expect(verifyWebhook(body, header, secret, { now })).toBe(true);
    expect(verifyWebhook(Buffer.from(body), header, secret, { now: new Date(now) })).toBe(true);
    // within the tolerance on either side
    expect(verifyWebhook(body, header, secret, { now: now + 299_000 })).toBe(true);
    expect(verifyWebhook(body, signWebhook(body, secret, t + 299), secret, { now })).toBe(true);
  });

  it('rejects a tampered body', () => {
    const header = signWebhook(body, secret, t);
    expect(verifyWebhook(body.replace('user.created', 'user.deleted'), header, secret, { now })).toBe(false);
    expect(verifyWebhook(body + ' ', header, secret, { now })).toBe(false);
    expect(verifyWebhook(JSON.stringify(JSON.parse(body)).replace('ü', '\\u00fc'), header, secret, { now })).toBe(false);
  });

  it('rejects a wrong secret', () => {
    expect(verifyWebhook(body, signWebhook(body, 'whsec_other', t), secret, { now })).toBe(false);
    expect(verifyWebhook(body, signWebhook(body, secret, t), '', { now })).toBe(false);
  });

  it('rejects timestamps older than five minutes (replays) and far in the future', () => {
    expect(verifyWebhook(body, signWebhook(body, secret, t - 301), secret, { now })).toBe(false);
    expect(verifyWebhook(body, signWebhook(body, secret, t - 3600), secret, { now })).toBe(false);
    expect(verifyWebhook(body, signWebhook(body, secret, t + 301), secret, { now })).toBe(false);
    // A receiver may choose its own tolerance.
    expect(verifyWebhook(body, signWebhook(body, secret, t - 301), secret, { now, toleranceSeconds: 600 })).toBe(true);
  });

  it('rejects a timestamp changed after signing', () => {
    const header = signWebhook(body, secret, t);
    expect(verifyWebhook(body, header.replace(`t=${t}`, `t=${t + 1}`), secret, { now })).toBe(false);
  });

  it('rejects missing and malformed headers without throwing', () => {
    const good = signWebhook(body, secret, t);
    const v1 = good.split('v1=')[1];
    for (const h of [undefined, null, '', 'garbage', `t=${t}`, `v1=${v1}`, `t=abc,v1=${v1}`, `t=${t},v1=xyz`, `t=${t},v1=${v1.slice(1)}`, `t=${t},t=${t},v1=${v1}`, `t=${t};v1=${v1}`]) {
      expect(verifyWebhook(body, h as string | undefined, secret, { now })).toBe(false);
    }
  });

  it('accepts a header with several v1 signatures when one matches (secret rotation), and upper-case hex', () => {
    const good = signWebhook(body, secret, t);
    const other = signWebhook(body, 'whsec_old', t).split(',')[1];
    expect(verifyWebhook(body, `${good},${other}`, secret, { now })).toBe(true);
    expect(verifyWebhook(body, `${other},${good.split(',')[1]},t=${t}`.replace(/^/, ''), secret, { now })).toBe(true);
    expect(verifyWebhook(body, good.toUpperCase().replace('T=', 't=').replace('V1=', 'v1='), secret, { now })).toBe(true);
  });

  it('returns false, without throwing, for a body that is not text or bytes (raw body not kept)', () => {
    const header = signWebhook(body, secret, t);
    for (const bad of [undefined, null, { a: 1 }, 42]) {
      expect(verifyWebhook(bad as never, header, secret, { now })).toBe(false);
    }
  });

  it('does not let an unusable tolerance or clock (NaN, invalid Date) switch off the age check', () => {
    const ancient = signWebhook(body, secret, 1_000_000_000);
    expect(verifyWebhook(body, ancient, secret, { toleranceSeconds: Number.NaN })).toBe(false);
    expect(verifyWebhook(body, ancient, secret, { now: Number.NaN })).toBe(false);
    expect(verifyWebhook(body, ancient, secret, { now: new Date('x') })).toBe(false);
    expect(verifyWebhook(body, ancient, secret, { toleranceSeconds: -1 })).toBe(false);
  });
});
