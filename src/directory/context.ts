/**
 * What every directory call needs to know about the request, passed explicitly as
 * an argument — never kept on shared state, so concurrent requests for different
 * connections cannot see each other's tenant.
 */
export interface RequestContext {
  readonly connectionId: string;
  /** The connection's SCIM base URL, e.g. https://scim.example.com/scim/v2/<id>. */
  readonly baseUrl: string;
}

/** The clock, injectable so lifecycle rules can be tested without waiting. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
