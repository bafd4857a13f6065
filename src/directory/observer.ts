/**
 * The request observer seam: what the HTTP layer reports once per SCIM request, for
 * the provisioning log and metrics to implement. Observers are passed in through
 * `RollcallOptions.observers`; nothing here knows about Fastify.
 */
import type { ErrorCode, ScimType } from '../scim/errors.js';

/** One answered SCIM request. */
export interface ObservedRequest {
  method: string;
  /** The route pattern that matched, e.g. `/scim/v2/:connectionId/Users/:id` (`''` when none did). */
  route: string;
  /** The path as requested, without the query string. */
  path: string;
  /** Path and query string as requested (the provisioning log shows lookups' filters). */
  url?: string;
  status: number;
  durationMs: number;
  /** The connection the request authenticated as (absent when authentication failed). */
  connectionId?: string;
  /** The connection id the URL names, authenticated or not (a failed "Test connection" is logged under it). */
  urlConnectionId?: string;
  /** The parsed request body of a write (POST, PUT, PATCH), as the client sent it. */
  body?: unknown;
  /** `User` or `Group` for the /Users and /Groups endpoints. */
  resourceType?: 'User' | 'Group';
  /** The resource the URL names, or the one a create made. */
  resourceId?: string;
  /** The refusal the request was answered with. */
  error?: { code: ErrorCode; scimType?: ScimType; detail: string };
  userAgent?: string;
  requestId: string;
  /** The provisioning log's id for the request, taken when it arrived (its events carry it). */
  logId?: string;
}

export interface RequestObserver {
  /** Called after the response is sent; it cannot change the answer. */
  onRequest(r: ObservedRequest): void;
}

/**
 * One observer calling each of `observers` in turn. One that throws (or whose
 * promise rejects, if it returns one) is reported to `onError` and the others still
 * run: observing must never break a request.
 */
export function fanOutObservers(observers: readonly RequestObserver[], onError: (err: unknown) => void): RequestObserver {
  return {
    onRequest(r) {
      for (const o of observers) {
        try {
          const result: unknown = o.onRequest(r);
          if (result instanceof Promise) result.catch(onError);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}
