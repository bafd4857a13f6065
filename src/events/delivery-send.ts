/**
 * Sending one webhook delivery: the signed POST, where it may connect, and what
 * its answer means. node:http(s) rather than fetch, so the socket's `lookup` is
 * ours (egress-policy.ts): the addresses checked are the addresses connected to.
 * Redirects are never followed (node:http does not), so a 3xx cannot lead
 * anywhere unchecked. The receiver's body is read and dropped: what is recorded
 * is the status and a short reason of our own words.
 */
import http from 'node:http';
import https from 'node:https';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './signature.js';
import { EgressRefusedError, type EgressPolicy, guardedLookup, urlRefusal } from './egress-policy.js';

const USER_AGENT = 'Rollcall-Webhooks/1';
/** Longest recorded reason. */
export const MAX_REASON_LENGTH = 200;
/** A body longer than this is not drained for the connection's reuse; the socket is closed instead. */
const MAX_DRAIN_BYTES = 64 * 1024;

export interface Target {
  url: string;
  secret: string;
}

export interface DeliveryResult {
  ok: boolean;
  status: number | null;
  /** `<class>: <detail>` (timeout, refused, dns, tls, blocked-by-egress-policy, http-4xx, …), at most MAX_REASON_LENGTH characters. */
  error: string | null;
}

/** Where deliveries go out: the policy and connection pools whose sockets only reach what it allows. */
export interface Egress {
  readonly policy: EgressPolicy;
  readonly http: http.Agent;
  readonly https: https.Agent;
}

export function openEgress(policy: EgressPolicy): Egress {
  // Without allowPrivate every new socket resolves through the guard; reused ones were checked when they connected.
  const lookup = policy.allowPrivate ? undefined : guardedLookup(policy);
  return {
    policy,
    http: new http.Agent({ keepAlive: true, lookup }),
    https: new https.Agent({ keepAlive: true, lookup }),
  };
}

export function closeEgress(e: Egress): void {
  e.http.destroy();
  e.https.destroy();
}

/** `<class>: <detail>`, one line, bounded. */
export function reason(kind: string, detail: string): string {
  return `${kind}: ${detail}`.replace(/\s+/g, ' ').slice(0, MAX_REASON_LENGTH);
}

function httpReason(status: number): string {
  if (status >= 300 && status < 400) return reason('http-3xx', `HTTP ${status} (redirects are not followed)`);
  if (status >= 400 && status < 600) return reason(`http-${Math.floor(status / 100)}xx`, `HTTP ${status}`);
  return reason('http', `HTTP ${status}`);
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL']);

/**
 * A failed request in our words: only the error's code is kept (a TLS message
 * can quote the receiver's certificate, a socket message its address and port).
 */
export function networkReason(err: unknown): string {
  if (err instanceof EgressRefusedError) return reason('blocked-by-egress-policy', err.message);
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(raw) ? raw : undefined;
  if (!code) return reason('network', 'the request failed');
  if (code === 'ECONNREFUSED') return reason('refused', `connection refused (${code})`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return reason('reset', `the connection closed before an answer (${code})`);
  if (code === 'ETIMEDOUT') return reason('timeout', `connecting timed out (${code})`);
  if (DNS_CODES.has(code)) return reason('dns', `the host name did not resolve (${code})`);
  if (UNREACHABLE_CODES.has(code)) return reason('unreachable', `no route to the host (${code})`);
  if (code.startsWith('HPE_')) return reason('protocol', `the answer is not valid HTTP (${code})`);
  if (code === 'EPROTO' || /CERT|SSL|TLS|SELF_SIGNED|ISSUER|LEAF_SIGNATURE|HOSTNAME/.test(code)) return reason('tls', `TLS failed (${code})`);
  return reason('network', code);
}

/** POSTs and resolves with the status once the answer's body is drained (or dropped past MAX_DRAIN_BYTES). */
function post(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal, egress: Egress): Promise<number> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: secure ? egress.https : egress.http, signal },
      (res) => {
        const status = res.statusCode ?? 0;
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_DRAIN_BYTES) res.destroy();
        });
        // The status is the outcome once it has arrived, however the body ends.
        const done = () => resolve(status);
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One signed POST of `body`. Returns 'aborted' when `controller` was aborted by
 * someone else (the worker stopping); a timeout is an outcome like any refusal.
 */
export async function sendWebhook(target: Target, body: string, timeoutMs: number, nowMs: number, controller: AbortController, egress: Egress): Promise<DeliveryResult | 'aborted'> {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return { ok: false, status: null, error: reason('invalid-url', 'the stored URL does not parse') };
  }
  // Again on every attempt: the endpoint may predate the policy, or have been added with allowPrivate.
  const refused = urlRefusal(url, egress.policy);
  if (refused) return { ok: false, status: null, error: reason('blocked-by-egress-policy', refused) };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, timeoutMs);
  const eventId = (JSON.parse(body) as { id: string }).id;
  try {
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      [SIGNATURE_HEADER]: signWebhook(body, target.secret, Math.floor(nowMs / 1000)),
      [EVENT_ID_HEADER]: eventId,
    };
    const status = await post(url, headers, body, controller.signal, egress);
    if (status >= 200 && status < 300) return { ok: true, status, error: null };
    return { ok: false, status, error: httpReason(status) };
  } catch (err) {
    if (timedOut) return { ok: false, status: null, error: reason('timeout', `no answer within ${timeoutMs} ms`) };
    if (controller.signal.aborted) return 'aborted';
    return { ok: false, status: null, error: networkReason(err) };
  } finally {
    clearTimeout(timer);
  }
}
