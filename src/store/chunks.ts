/** Splits long IN lists so no statement exceeds the dialect's parameter limit. */
export function chunks<T>(items: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Lets the event loop run what is waiting (other connections' requests, /healthz) before going on. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `chunks`, for loops that await a statement per chunk: between chunks the event
 * loop gets a turn. SQLite runs statements on this thread, so a write of 10,000
 * memberships would otherwise hold every other connection's requests until it
 * ends; with a turn every chunk, reads are served in between (writes queue for
 * the write connection as they always do). No turn before the first chunk: the
 * common small write pays nothing.
 */
export async function* chunked<T>(items: T[], size = 500): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) await yieldToEventLoop();
    yield items.slice(i, i + size);
  }
}
