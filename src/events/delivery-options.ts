/** How the webhook delivery worker retries, times out, shares the work and where it may connect (RollcallOptions.webhooks). */
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
  /**
   * Shortest time between two looks for work (ms): commits that come meanwhile are
   * looked at together, so a busy SCIM connection does not pay a delivery query per
   * write. Default 20.
   */
  minPassMs?: number;
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number;
  /** On stop, in-flight requests get this long to finish before they are aborted (ms). Default 2,000. */
  stopGraceMs?: number;
  /**
   * Endpoints may be plain http and on loopback, private and link-local addresses
   * (ROLLCALL_WEBHOOK_ALLOW_PRIVATE): for local development and tests. Default
   * false: https to public addresses only (see events/egress-policy.ts).
   */
  allowPrivate?: boolean;
  /**
   * ROLLCALL_SECRET_KEY: 32 bytes that seal webhook signing secrets at rest
   * (AES-256-GCM, store/secret-box.ts). Unset: secrets are stored as generated.
   */
  secretKey?: Uint8Array;
}

/** Every option with its value; the key stays optional (none is the default). */
export type ResolvedDeliveryOptions = Required<Omit<DeliveryOptions, 'secretKey'>> & Pick<DeliveryOptions, 'secretKey'>;

export const DEFAULT_DELIVERY_OPTIONS: ResolvedDeliveryOptions = {
  backoffMs: 10_000,
  maxBackoffMs: 60 * 60_000,
  retryWindowMs: 24 * 60 * 60_000,
  timeoutMs: 10_000,
  pollMs: 1_000,
  minPassMs: 20,
  concurrency: 8,
  stopGraceMs: 2_000,
  allowPrivate: false,
};
