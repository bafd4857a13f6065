/** Shared by the event tests: event builders, a local webhook receiver, polling with a deadline. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NewEvent, EventType } from '../../src/events/types.js';
import type { Rollcall } from '../../src/rollcall.js';
import { addTenant } from '../../src/store/tenant.js';

let n = 0;

export function newEvent(organizationId: string | null, opts: { type?: EventType; resourceId?: string; data?: Record<string, unknown>; connectionId?: string } = {}): NewEvent {
  n++;
  return {
    type: opts.type ?? 'user.created',
    organizationId,
    connectionId: opts.connectionId ?? 'conn-1',
    resourceType: 'User',
    resourceId: opts.resourceId ?? `user-${n}`,
    occurredAt: new Date().toISOString(),
    data: opts.data ?? { n },
  };
}

/**
 * Stores events the way a directory write does: emitted inside a batched write.
 * Connections get their tenant key when created; these events name made-up ones,
 * so they are given one first (events carry the key, store/tenant.ts).
 */
export function emitEvents(rc: Rollcall, events: NewEvent[]): Promise<void> {
  return rc.database.writes.run(async (trx, emit) => {
    for (const id of new Set(events.map((e) => e.connectionId))) await addTenant(trx, id);
    for (const e of events) emit(e);
  });
}

export { waitFor } from '../support/wait.js';

export interface Received {
  eventId: string;
  signature: string;
  contentType: string;
  body: string;
  status: number;
  at: number;
}

export interface Receiver {
  url: string;
  /** Every request, in arrival order, with the status answered. */
  requests: Received[];
  /** Event ids answered 2xx, in order. */
  delivered(): string[];
  close(): Promise<void>;
}

/**
 * A local HTTP receiver. `answer` decides the status (and may delay) per request;
 * it sees the request's event id and how many times that id came before.
 */
export async function startReceiver(
  answer: (req: { eventId: string; body: string; seen: number; index: number }) => number | Promise<number> = () => 200,
  port = 0,
): Promise<Receiver> {
  const requests: Received[] = [];
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const eventId = String(req.headers['rollcall-event-id'] ?? '');
      const before = seen.get(eventId) ?? 0;
      seen.set(eventId, before + 1);
      const index = requests.length;
      const entry: Received = {
        eventId,
        signature: String(req.headers['rollcall-signature'] ?? ''),
        contentType: String(req.headers['content-type'] ?? ''),
        body,
        status: 0,
        at: Date.now(),
      };
      requests.push(entry);
      let status = 500;
      try {
        status = await answer({ eventId, body, seen: before, index });
      } catch {
        status = 500;
      }
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}/hooks/rollcall`,
    requests,
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.eventId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
