/**
 * In-process subscribers: a host application embedding Rollcall hears about the
 * events this instance committed, right after the commit, in order. Each
 * subscriber has its own queue: a slow or failing handler delays only itself and
 * never a write; errors are logged and the next event is still handed over.
 * (Events committed by other processes reach a host app through the feed or
 * webhooks.)
 */
import type { EventType, RollcallEvent } from './types.js';
import type { Logger } from './logger.js';

export type EventHandler = (event: RollcallEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Only these types (default: all). */
  types?: readonly EventType[];
}

interface Subscription {
  handler: EventHandler;
  types: ReadonlySet<string> | undefined;
  /** The handler's queue: events wait for the previous one's handler to finish. */
  tail: Promise<void>;
  active: boolean;
}

export class EventBus {
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly log: () => Logger) {}

  /** Calls `handler` for every matching event committed from now on; returns the unsubscribe function. */
  subscribe(handler: EventHandler, opts: SubscribeOptions = {}): () => void {
    if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler function');
    const sub: Subscription = {
      handler,
      types: opts.types && opts.types.length ? new Set(opts.types) : undefined,
      tail: Promise.resolve(),
      active: true,
    };
    this.subscriptions.add(sub);
    return () => {
      sub.active = false;
      this.subscriptions.delete(sub);
    };
  }

  get size(): number {
    return this.subscriptions.size;
  }

  /** Hands committed events to every subscriber (never throws, never waits for handlers). */
  publish(events: readonly RollcallEvent[]): void {
    if (!events.length) return;
    for (const sub of this.subscriptions) {
      const mine = sub.types ? events.filter((e) => sub.types!.has(e.type)) : events;
      if (!mine.length) continue;
      sub.tail = sub.tail.then(async () => {
        for (const e of mine) {
          if (!sub.active) return;
          try {
            await sub.handler(e);
          } catch (err) {
            this.log().error({ err, eventId: e.id, eventType: e.type }, 'event subscriber failed');
          }
        }
      });
    }
  }

  /** Resolves when every handler has finished with what was published so far. */
  async idle(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.tail));
  }
}
