/**
 * What every directory call needs to know about the request, passed explicitly as
 * an argument — never kept on shared state, so concurrent requests for different
 * connections cannot see each other's tenant.
 */
import { type ConnectionSettings, DEFAULT_SETTINGS } from './settings.js';

export interface RequestContext {
  readonly connectionId: string;
  /** The connection's SCIM base URL, e.g. https://scim.example.com/scim/v2/<id>. */
  readonly baseUrl: string;
  readonly organizationId?: string | null;
  /** The host application's workspace this connection provisions into. */
  readonly workspace?: string;
  /** The connection's provisioning settings (defaults when absent). */
  readonly settings?: ConnectionSettings;
}

export function settingsOf(ctx: RequestContext): ConnectionSettings {
  return ctx.settings ?? DEFAULT_SETTINGS;
}

/** The clock, injectable so lifecycle rules can be tested without waiting. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
