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
  /** The provisioning log's id of the SCIM request (its events name it). */
  readonly requestId?: string;
}

/** What a context takes from its connection (a token's grant or the connection's record). */
export interface ConnectionScope {
  readonly organizationId: string | null;
  readonly workspace?: string;
  readonly settings?: ConnectionSettings;
}

/**
 * The one place a RequestContext is made: for a SCIM request (from the token's
 * grant), for the embedded directory, the CSV import, the purge and token events.
 */
export function requestContext(connectionId: string, scope: ConnectionScope, baseUrl: string, requestId?: string): RequestContext {
  return { connectionId, baseUrl, organizationId: scope.organizationId, workspace: scope.workspace, settings: scope.settings, requestId };
}

export function settingsOf(ctx: RequestContext): ConnectionSettings {
  return ctx.settings ?? DEFAULT_SETTINGS;
}

/** One day in milliseconds (retention windows are whole days). */
export const DAY_MS = 86_400_000;

/** The start of a retention window of `days` ending at `now`, as stored timestamps are written. */
export function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

/** The clock, injectable so lifecycle rules can be tested without waiting. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
