/** Sending one webhook delivery: the signed POST and what its answer means. */
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './signature.js';

const USER_AGENT = 'Rollcall-Webhooks/1';

export interface Target {
  url: string;
  secret: string;
}

export interface DeliveryResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/**
 * One signed POST of `body`. Returns 'aborted' when `controller` was aborted by
 * someone else (the worker stopping); a timeout is an outcome like any refusal.
 */
export async function sendWebhook(target: Target, body: string, timeoutMs: number, nowMs: number, controller: AbortController): Promise<DeliveryResult | 'aborted'> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, timeoutMs);
  const eventId = (JSON.parse(body) as { id: string }).id;
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        [SIGNATURE_HEADER]: signWebhook(body, target.secret, Math.floor(nowMs / 1000)),
        [EVENT_ID_HEADER]: eventId,
      },
      body,
      redirect: 'manual',
      signal: controller.signal,
    });
    const text = await readSome(res);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    const why = res.status >= 300 && res.status < 400 ? 'redirects are not followed' : text.trim().replace(/\s+/g, ' ').slice(0, 200);
    return { ok: false, status: res.status, error: `HTTP ${res.status}${why ? `: ${why}` : ''}` };
  } catch (err) {
    if (timedOut) return { ok: false, status: null, error: `no answer within ${timeoutMs} ms` };
    if (controller.signal.aborted) return 'aborted';
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { ok: false, status: null, error: (e.cause?.code ? `${e.cause.code}: ` : '') + (e.cause?.message ?? e.message).slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads at most `max` bytes of a response body, then lets the rest go. */
async function readSome(res: Response, max = 2048): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(parts).toString('utf8').slice(0, max);
}
