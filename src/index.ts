/**
 * Library entry point for host applications embedding Rollcall:
 *
 *   import { createRollcall, rollcallScim, rollcallDirectory } from 'rollcall';
 *   import { rollcallExpress } from 'rollcall/express';   // also exported here
 */
export { createRollcall, type Rollcall, type RollcallOptions, type RollcallEvents } from './rollcall.js';

// HTTP: the SCIM API in a host's Fastify (or Express) app, and the standalone server.
export {
  rollcallScim,
  scimBaseUrl,
  DEFAULT_SCIM_PREFIX,
  DEFAULT_SCIM_BODY_LIMIT,
  SCIM_ROUTER_OPTIONS,
  scimFrameworkErrors,
  type RollcallScimOptions,
} from './embed/fastify.js';
export { rollcallExpress, type RollcallExpressOptions, type RollcallMiddleware, type NextFunction } from './embed/express.js';
export { buildServer, scimPlugin, type ServerOptions } from './http/server.js';
// The admin API (bearer admin key) for a host that mounts it itself, e.g. under /api/v1.
export { adminPlugin, type AdminPluginOptions, type AdminErrorBody } from './http/admin.js';

// The directory by connection id, with plain JSON answers.
export {
  rollcallDirectory,
  connectionContext,
  type RollcallDirectory,
  type RollcallDirectoryOptions,
  type ResourceDirectory,
  type DirectoryListOptions,
  type ScimListOptions,
  type Page,
  type DirectoryUser,
  type DirectoryGroup,
  type ScimResource,
  type ScimListResponse,
} from './embed/directory.js';
export type { ConnectionInfo, OrganizationInfo, CreateConnectionOptions } from './directory/connections.js';
export type { ConnectionSettings } from './directory/settings.js';

// Events: in process (rollcall.events.subscribe), the feed, webhooks.
export { EVENT_TYPES, type EventType, type RollcallEvent, type AttributeChange } from './events/types.js';
export type { EventHandler, SubscribeOptions } from './events/bus.js';
export type { FeedOptions, FeedPage } from './events/feed.js';
export {
  isEventOf,
  onEvents,
  type RollcallEventOf,
  type EventDataMap,
  type UserView,
  type GroupView,
  type MemberRef,
  type MembershipEventData,
  type TokenRotatedEventData,
} from './embed/views.js';
export { verifyWebhook, signWebhook, SIGNATURE_HEADER, EVENT_ID_HEADER, DEFAULT_TOLERANCE_SECONDS, type VerifyOptions } from './events/signature.js';
export type { Logger } from './events/logger.js';
export type { Webhook, NewWebhook, Delivery, DeliveryStatus, AddWebhookOptions, Webhooks } from './events/webhooks.js';
export type { DeliveryOptions, DeliveryWorker } from './events/delivery.js';

export { loadConfig, type Config } from './config.js';
export {
  RollcallError,
  isRollcallError,
  hasCode,
  CATALOGUE as ERROR_CATALOGUE,
  type ErrorCode,
  type ScimType,
  ScimError,
  isScimError,
} from './scim/errors.js';
export type { RequestContext, Clock } from './directory/context.js';
