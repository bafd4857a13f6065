/** Refusals of event, feed and webhook operations, with an HTTP status and a stable code. */
export class EventsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventsError';
  }
}

export const isEventsError = (e: unknown): e is EventsError => e instanceof EventsError;
