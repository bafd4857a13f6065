/** How the webhook delivery worker retries, times out and shares the work (RollcallOptions.webhooks). */
export interface DeliveryOptions {
  /** First retry after at least this long (ms); the ceiling doubles per attempt. Default 10,000. */
  backoffMs?: number;
  /** Largest delay between attempts (ms). Default 1 h. */
  maxBackoffMs?: number;
  /** How long a delivery is retried after it became due (ms). Default 24 h. */
  retryWindowMs?: number;
  /** Per-request timeout (ms). Default 10,000. */
  timeoutMs?: number;
  /** Longest sleep between looks for work (other processes' events, leases that expired). Default 1,000. */
  pollMs?: number;
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number;
  /** On stop, in-flight requests get this long to finish before they are aborted (ms). Default 2,000. */
  stopGraceMs?: number;
}

export const DEFAULT_DELIVERY_OPTIONS: Required<DeliveryOptions> = {
  backoffMs: 10_000,
  maxBackoffMs: 60 * 60_000,
  retryWindowMs: 24 * 60 * 60_000,
  timeoutMs: 10_000,
  pollMs: 1_000,
  concurrency: 8,
  stopGraceMs: 2_000,
};
