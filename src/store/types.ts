/** Kysely table types: the one schema definition both dialects share. */
import type { Generated } from 'kysely';

export interface OrganizationsTable {
  id: string;
  name: string;
  plan: string;
  created_at: string;
}

export interface ConnectionsTable {
  id: string;
  organization_id: string | null;
  name: string;
  workspace: string;
  /** JSON text: per-connection settings (policies come with a later issue). */
  settings: string;
  status: string;
  /** scim (an IdP with a token) or import (CSV, no token). */
  kind: string;
  created_at: string;
}

export interface ConnectionTokensTable {
  id: string;
  connection_id: string;
  /** sha256 hex of the bearer token: tokens are 256-bit random, so a fast hash is enough. */
  hash: string;
  created_at: string;
  /** Null while current; set when rotated away (grace period end), or an OAuth access token's end. */
  expires_at: string | null;
  /** The OAuth client secret that obtained this access token; null for the connection's bearer tokens. */
  client_secret_id?: string | null;
}

/** OAuth 2.0 client secrets of a connection (client credentials grant; the client id is the connection id). */
export interface ClientSecretsTable {
  id: string;
  connection_id: string;
  name: string;
  /** sha256 hex of the secret (256 random bits, like tokens). */
  hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  /** When an access token was last issued for it: which secret an IdP still uses. */
  last_used_at: string | null;
}

export interface UsersTable {
  id: string;
  /** The connection's compact key (tenants.tenant): a small integer instead of its 36-character id in the row and every index. */
  tenant: number;
  user_name: string;
  user_name_lc: string;
  external_id: string | null;
  /** external_id where it is the connection's mapping key, else null: unique among live users. */
  external_key: string | null;
  display_name: string | null;
  display_name_lc: string | null;
  active: number;
  /** active | deactivated | deleted — purge removes the row. */
  state: string;
  version: number;
  created_at: string;
  updated_at: string;
  deactivated_at: string | null;
  deleted_at: string | null;
  /** The canonical SCIM document (JSON text), see scim/resource.ts. */
  doc: string;
  /** What the host application reads besides the document (JSON text): role, language, profile, flags. */
  app: string;
}

export interface UserEmailsTable {
  user_id: string;
  /** The connection's compact key (tenants.tenant): a small integer instead of its 36-character id in the row and every index. */
  tenant: number;
  value_lc: string;
  type: string | null;
  primary: number | null;
}

export interface GroupsTable {
  id: string;
  /** The connection's compact key (tenants.tenant): a small integer instead of its 36-character id in the row and every index. */
  tenant: number;
  display_name: string;
  display_name_lc: string;
  external_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  doc: string;
}

export interface MembershipsTable {
  group_id: string;
  member_id: string;
  /** The connection's compact key (tenants.tenant): a small integer instead of its 36-character id in the row and every index. */
  tenant: number;
  created_at: string;
}

/**
 * Compact keys of connections, for the directory's tables (users, user_emails,
 * groups, memberships) and the outbox (events). A row is never deleted: a key is
 * never reused, and events of a deleted connection still name it.
 */
export interface TenantsTable {
  tenant: Generated<number>;
  connection_id: string;
}

export interface MigrationLockTable {
  id: Generated<number>;
}

/** The outbox: every event, written in the transaction of the change that caused it. */
export interface EventsTable {
  /** Global position, commit-ordered (the unfiltered feed's cursor); from event_counters['*']. */
  pos: number;
  /** UUIDv7 (time-ordered, so its unique index grows at the right edge). */
  id: string;
  organization_id: string | null;
  /** Per-organisation position, commit-ordered; from event_counters[organization id ?? '']. */
  sequence: number;
  /** The connection's key in tenants (which keeps its id after the connection is deleted). */
  tenant: number;
  type: string;
  resource_type: string;
  resource_id: string;
  occurred_at: string;
  /** JSON text, or on SQLite a compressed BLOB (events/event-data.ts). */
  data: string | Uint8Array;
  /** The provisioning log's id of the SCIM request that caused it (null outside SCIM requests). */
  request_id: string | null;
  /** For membership events, the member (a user's history finds them by it); else null. */
  member_id: string | null;
}

/** Per-organisation (and one global) event counters, incremented once per batch. */
export interface EventCountersTable {
  key: string;
  value: number;
}

export interface WebhooksTable {
  id: string;
  organization_id: string;
  url: string;
  /** JSON array of event types; empty: all. */
  events: string;
  /** HMAC secret (needed in clear to sign). */
  secret: string;
  /** The organisation sequence up to which deliveries have been created. */
  cursor: number;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  webhook_id: string;
  /** The event's organisation sequence. */
  sequence: number;
  event_pos: number;
  event_id: string;
  event_type: string;
  /** resource_type + ':' + resource_id: delivered in sequence order per key. */
  resource_key: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: string;
  /** The retry window runs from here (creation, or a manual redelivery). */
  due_since: string;
  locked_until: string | null;
  claim_token: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
}

/** The generated admin API key (sha256 hex); unused while ROLLCALL_ADMIN_TOKEN is set. */
export interface AdminTokensTable {
  id: string;
  hash: string;
  created_at: string;
}

/** Requests granted per connection and minute, shared by every instance (see directory/rate-limit.ts). */
export interface RateWindowsTable {
  connection_id: string;
  /** Minutes since the Unix epoch. */
  window_start: number;
  /** Requests handed out to instances in this window so far (never above the limit). */
  claimed: number;
  /** What the last claim got: written and returned by the same statement. */
  granted: number;
}

export interface DB {
  organizations: OrganizationsTable;
  connections: ConnectionsTable;
  connection_tokens: ConnectionTokensTable;
  client_secrets: ClientSecretsTable;
  tenants: TenantsTable;
  users: UsersTable;
  user_emails: UserEmailsTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  events: EventsTable;
  event_counters: EventCountersTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  admin_tokens: AdminTokensTable;
  rate_windows: RateWindowsTable;
  server_settings: ServerSettingsTable;
  request_log: RequestLogTable;
  request_days: RequestDaysTable;
  console_sessions: ConsoleSessionsTable;
  setup_links: SetupLinksTable;
  audit_log: AuditLogTable;
  connection_sources: ConnectionSourcesTable;
  source_runs: SourceRunsTable;
  source_objects: SourceObjectsTable;
}

/** A signed-in console: the cookie's token is stored as its SHA-256 only. */
export interface ConsoleSessionsTable {
  /** SHA-256 (hex) of the session token. */
  hash: string;
  /** Null: the admin's session (everything); else only this organisation (a setup link's). */
  organization_id: string | null;
  setup_link_id: string | null;
  created_at: string;
  expires_at: string;
}

/** A link an organisation's IT admin opens to set up its SCIM connection without the admin key. */
export interface SetupLinksTable {
  id: string;
  organization_id: string;
  /** SHA-256 (hex) of the link's secret. */
  hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  uses: number;
  last_used_at: string | null;
}

/** What was done to an organisation through the console and its setup links. */
export interface AuditLogTable {
  /** UUIDv7 (time-ordered). */
  id: string;
  organization_id: string;
  at: string;
  /** `admin` or `setup-link:<id>`. */
  actor: string;
  action: string;
  /** JSON object. */
  detail: string;
}

/** The provisioning log: one row per SCIM request a connection made (directory/provisioning-log.ts). */
export interface RequestLogTable {
  /** UUIDv7 taken when the request was answered: time-ordered, the list's cursor. */
  id: string;
  connection_id: string;
  at: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  /** entra-id, okta or other. */
  client: string;
  user_agent: string | null;
  resource_type: string | null;
  resource_id: string | null;
  error_code: string | null;
  scim_type: string | null;
  error_detail: string | null;
  /** The request body, secrets removed and bounded: JSON text, or on SQLite a compressed BLOB. */
  body: string | Uint8Array | null;
  /** The server's id of the request (Fastify's request id, also in its log lines). */
  request_id: string;
}

/** Requests and errors per connection and UTC day, kept longer than the log (connection health). */
export interface RequestDaysTable {
  connection_id: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  requests: number;
  errors: number;
}

export interface ServerSettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

/** A connection pulled from a directory (Google Workspace): where from, credentials, schedule, lease. */
export interface ConnectionSourcesTable {
  connection_id: string;
  /** The source kind, e.g. google-workspace. */
  kind: string;
  /** JSON text: the source's settings (admin e-mail, domain, organisational units, groups). */
  config: string;
  /** The credentials (a service account key), sealed by store/secret-box.ts. */
  credentials: string;
  interval_minutes: number;
  next_run_at: string | null;
  /** Who runs the sync now (a run id) and until when the lease holds without renewal. */
  lease_holder: string | null;
  lease_until: string | null;
  created_at: string;
}

export interface SourceRunsTable {
  id: string;
  connection_id: string;
  /** setup, schedule or manual. */
  trigger: string;
  /** running, succeeded, failed. */
  status: string;
  started_at: string;
  finished_at: string | null;
  /** JSON text: users seen, created, updated, deactivated, deleted, groups …, requests. */
  counts: string;
  /** JSON text: the first errors of the run ({ source id, code, message }). */
  errors: string;
  message: string | null;
}

export interface SourceObjectsTable {
  connection_id: string;
  /** user or group. */
  kind: string;
  source_id: string;
  local_id: string;
  /** A digest of the resource last written from the source; null: write it on the next run. */
  digest: string | null;
  /** present, absent (deactivated: missing from a complete listing) or deleted. */
  state: string;
}
