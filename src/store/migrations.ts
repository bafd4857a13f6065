/**
 * Schema migrations, written once with Kysely's schema builder for every dialect.
 * Add a new entry for every change; never edit a migration that has shipped.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { SqlDialect } from './dialect.js';
import type { DB } from './types.js';
import { fail } from '../scim/errors.js';

/** Every migration by name; `dialect` supplies the few column types that differ. */
const migrationsFor = (dialect: SqlDialect): Record<string, Migration> => ({
  '0001_core': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('plan', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('workspace', 'text', (c) => c.notNull().defaultTo('default'))
        .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('connection_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .execute();
      await db.schema.createIndex('connection_tokens_connection').on('connection_tokens').column('connection_id').execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_name_lc', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('display_name', 'text')
        .addColumn('display_name_lc', 'text')
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('deactivated_at', 'text')
        .addColumn('deleted_at', 'text')
        .addColumn('doc', 'text', (c) => c.notNull())
        .execute();
      // Uniqueness is the database's job: live users only, so a deleted user's name can be reused.
      await db.schema
        .createIndex('users_user_name_live')
        .unique()
        .on('users')
        .columns(['connection_id', 'user_name_lc'])
        .where(sql.ref('state'), '<>', 'deleted')
        .execute();
      await db.schema.createIndex('users_external_id').on('users').columns(['connection_id', 'external_id']).execute();
      await db.schema.createIndex('users_display_name').on('users').columns(['connection_id', 'display_name_lc']).execute();
      await db.schema.createIndex('users_created').on('users').columns(['connection_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('users_updated').on('users').columns(['connection_id', 'updated_at']).execute();

      await db.schema
        .createTable('user_emails')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('value_lc', 'text', (c) => c.notNull())
        .addColumn('type', 'text')
        .addColumn('primary', 'integer')
        .execute();
      await db.schema.createIndex('user_emails_value').on('user_emails').columns(['connection_id', 'value_lc']).execute();
      await db.schema.createIndex('user_emails_user').on('user_emails').column('user_id').execute();

      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('display_name_lc', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .execute();
      // Entra ID and Okta find groups by displayName: two groups with one name would be ambiguous.
      await db.schema.createIndex('groups_display_name').unique().on('groups').columns(['connection_id', 'display_name_lc']).execute();
      await db.schema.createIndex('groups_external_id').on('groups').columns(['connection_id', 'external_id']).execute();
      await db.schema.createIndex('groups_created').on('groups').columns(['connection_id', 'created_at', 'id']).execute();

      await db.schema
        .createTable('memberships')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('member_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['group_id', 'member_id'])
        .execute();
      await db.schema.createIndex('memberships_member').on('memberships').column('member_id').execute();
    },
  },
  '0002_policies_lifecycle': {
    async up(db: Kysely<any>) {
      // scim: managed by an IdP through the SCIM API; import: users from CSV, no token.
      await db.schema.alterTable('connections').addColumn('kind', 'text', (c) => c.notNull().defaultTo('scim')).execute();
      // One SCIM connection per organisation.
      await db.schema
        .createIndex('connections_one_scim_per_org')
        .unique()
        .on('connections')
        .column('organization_id')
        .where(sql.ref('kind'), '=', 'scim')
        .execute();
      // What the host application reads besides the SCIM document: role, language,
      // resolved profile, flags for an admin (JSON).
      await db.schema.alterTable('users').addColumn('app', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema.createIndex('users_state').on('users').columns(['connection_id', 'state']).execute();
    },
  },
  '0003_external_key': {
    async up(db: Kysely<any>) {
      // The externalId as a uniqueness key, set only where it is the connection's
      // mapping key (RFC 7643 does not make externalId unique, and some IdP test
      // suites reuse one). A unique index makes the database refuse a second live
      // user with the key, whichever instance inserts it.
      await db.schema.alterTable('users').addColumn('external_key', 'text').execute();
      const conns = await db.selectFrom('connections').select(['id', 'settings']).execute();
      for (const c of conns as { id: string; settings: string }[]) {
        const mappingKey = (JSON.parse(c.settings || '{}') as { mappingKey?: string }).mappingKey ?? 'externalId';
        if (mappingKey !== 'externalId') continue;
        await db.updateTable('users').set({ external_key: sql.ref('external_id') }).where('connection_id', '=', c.id).execute();
      }
      await db.schema
        .createIndex('users_external_key_live')
        .unique()
        .on('users')
        .columns(['connection_id', 'external_key'])
        .where(sql.ref('state'), '<>', 'deleted')
        .execute();
    },
  },
  '0004_events': {
    async up(db: Kysely<any>) {
      // PostgreSQL: 64-bit positions. SQLite: INTEGER PRIMARY KEY is the rowid itself (no second index).
      const big = dialect.bigIntType;
      await db.schema
        .createTable('events')
        .addColumn('pos', big, (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('organization_id', 'text')
        .addColumn('sequence', big, (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      // Both grow at their right edge: ids are UUIDv7, sequences increase per organisation.
      await db.schema.createIndex('events_id').unique().on('events').column('id').execute();
      await db.schema.createIndex('events_org_sequence').unique().on('events').columns(['organization_id', 'sequence']).execute();

      await db.schema
        .createTable('event_counters')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', big, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('cursor', big, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_organization').on('webhooks').column('organization_id').execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('sequence', big, (c) => c.notNull())
        .addColumn('event_pos', big, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('resource_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('due_since', 'text', (c) => c.notNull())
        .addColumn('locked_until', 'text')
        .addColumn('claim_token', 'text')
        .addColumn('last_attempt_at', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_deliveries_pk', ['webhook_id', 'sequence'])
        .execute();
      // Only pending deliveries are indexed for the worker: delivered ones cost nothing there.
      await db.schema
        .createIndex('webhook_deliveries_due')
        .on('webhook_deliveries')
        .columns(['next_attempt_at', 'sequence'])
        .where(sql.ref('status'), '=', 'pending')
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_resource')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'resource_key', 'sequence'])
        .where(sql.ref('status'), '=', 'pending')
        .execute();
      await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').columns(['webhook_id', 'event_id']).execute();

      await db.schema
        .createTable('admin_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0005_rate_windows': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('rate_windows')
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('window_start', 'integer', (c) => c.notNull())
        .addColumn('claimed', 'integer', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_windows_pk', ['connection_id', 'window_start'])
        .execute();
    },
  },
  '0006_server_settings': {
    async up(db: Kysely<any>) {
      // What a server was told (its public URL), for the CLI and other instances that were not.
      await db.schema
        .createTable('server_settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0007_users_inactive_index': {
    async up(db: Kysely<any>) {
      // Only the purge and the lists of deleted or deactivated users look users up
      // by state, and nearly every user is active: indexing the active ones cost
      // 59 bytes per user for nothing. Queries name `state <> 'active'` to use it.
      await db.schema
        .createIndex('users_inactive')
        .on('users')
        .columns(['connection_id', 'state'])
        .where(sql.ref('state'), '<>', 'active')
        .execute();
      await db.schema.dropIndex('users_state').execute();
    },
  },
  '0008_request_log': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('request_log')
        // No primary key of its own: rows are appended (SQLite's rowid) and found by
        // connection and id through one index, which also serves paging and pruning.
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('duration_ms', 'real', (c) => c.notNull())
        .addColumn('client', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text')
        .addColumn('resource_type', 'text')
        .addColumn('resource_id', 'text')
        .addColumn('error_code', 'text')
        .addColumn('scim_type', 'text')
        .addColumn('error_detail', 'text')
        .addColumn('body', 'text') // SQLite keeps compressed bytes here too (see storesBytesInTextColumns)
        .addColumn('request_id', 'text', (c) => c.notNull())
        .execute();
      // Newest first per connection; the error and resource filters have their own
      // (partial) indexes so a rare match is not found by reading every row.
      await db.schema.createIndex('request_log_connection').unique().on('request_log').columns(['connection_id', 'id']).execute();
      await db.schema
        .createIndex('request_log_errors')
        .on('request_log')
        .columns(['connection_id', 'id'])
        .where(sql.ref('status'), '>=', sql.lit(400))
        .execute();
      await db.schema
        .createIndex('request_log_resource')
        .on('request_log')
        .columns(['connection_id', 'resource_id', 'id'])
        .where(sql.ref('resource_id'), 'is not', null)
        .execute();
      await db.schema
        .createTable('request_days')
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('requests', 'integer', (c) => c.notNull())
        .addColumn('errors', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('request_days_pk', ['connection_id', 'day'])
        .execute();
    },
  },
  '0010_console_access': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('console_sessions')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text')
        .addColumn('setup_link_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('setup_links')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('setup_links_organization').on('setup_links').columns(['organization_id', 'created_at']).execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_organization').on('audit_log').columns(['organization_id', 'id']).execute();
    },
  },
  '0009_event_history': {
    async up(db: Kysely<any>) {
      // A user's history is its events and the membership events naming it; each
      // links to the logged SCIM request that caused it.
      await db.schema.alterTable('events').addColumn('request_id', 'text').execute();
      await db.schema.alterTable('events').addColumn('member_id', 'text').execute();
      await db.schema
        .createIndex('events_user')
        .on('events')
        .columns(['resource_id', 'pos'])
        .where(sql.ref('resource_type'), '=', sql.lit('User'))
        .execute();
      await db.schema
        .createIndex('events_member')
        .on('events')
        .columns(['member_id', 'pos'])
        .where(sql.ref('member_id'), 'is not', null)
        .execute();
    },
  },
  '0011_delivery_reasons': {
    async up(db: Kysely<any>) {
      // Reasons recorded before the egress policy quoted the receiver's body after
      // the status; keep only what we say ourselves: the class and the status.
      await db
        .updateTable('webhook_deliveries')
        .set({ last_error: sql`'http-' || substr(cast(last_status_code as text), 1, 1) || 'xx: HTTP ' || cast(last_status_code as text)` })
        .where('last_status_code', 'is not', null)
        .where('last_error', 'is not', null)
        .execute();
    },
  },
  '0012_client_credentials': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('client_secrets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('client_secrets_connection').on('client_secrets').column('connection_id').execute();
      // Access tokens live beside the bearer tokens (one check for both), tied to their secret.
      await db.schema.alterTable('connection_tokens').addColumn('client_secret_id', 'text').execute();
      await db.schema.createIndex('connection_tokens_client_secret').on('connection_tokens').column('client_secret_id').where(sql.ref('client_secret_id'), 'is not', null).execute();
    },
  },
  '0013_explicit_mapping_key': {
    async up(db: Kysely<any>) {
      // The default mapping key became userName; connections made before keep the
      // externalId they had, now written into their settings.
      const rows = await db.selectFrom('connections').select(['id', 'settings']).execute();
      for (const r of rows) {
        let settings: Record<string, unknown>;
        try {
          settings = JSON.parse(String(r.settings ?? '{}')) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof settings !== 'object' || settings === null || 'mappingKey' in settings) continue;
        await db.updateTable('connections').set({ settings: JSON.stringify({ ...settings, mappingKey: 'externalId' }) }).where('id', '=', r.id).execute();
      }
    },
  },
  '0014_users_deleted_user_name': {
    async up(db: Kysely<any>) {
      // With userName as the mapping key (the default since 0013) every create asks
      // whether a deleted user with that name may be restored: the live-name index
      // cannot answer for deleted rows, so without this each create scanned them all.
      await db.schema
        .createIndex('users_deleted_user_name')
        .on('users')
        .columns(['connection_id', 'user_name_lc'])
        .where(sql.ref('state'), '=', sql.lit('deleted'))
        .execute();
    },
  },
  '0015_connection_sources': {
    async up(db: Kysely<any>) {
      // A connection pulled from a directory (kind 'google-workspace'): where from,
      // the sealed credentials, the schedule and the lease that lets one instance
      // at a time run its sync.
      await db.schema
        .createTable('connection_sources')
        .addColumn('connection_id', 'text', (c) => c.primaryKey().references('connections.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('credentials', 'text', (c) => c.notNull())
        .addColumn('interval_minutes', 'integer', (c) => c.notNull())
        .addColumn('next_run_at', 'text')
        .addColumn('lease_holder', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // One row per run: progress while it runs, its result once it ended.
      await db.schema
        .createTable('source_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('counts', 'text', (c) => c.notNull())
        .addColumn('errors', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .execute();
      await db.schema.createIndex('source_runs_connection').on('source_runs').columns(['connection_id', 'started_at']).execute();
      // What the source's objects became here: its id, ours, and a digest of what
      // was last written, so an unchanged object is not written (nor emits) again.
      await db.schema
        .createTable('source_objects')
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('local_id', 'text', (c) => c.notNull())
        .addColumn('digest', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('source_objects_pk', ['connection_id', 'kind', 'source_id'])
        .execute();
    },
  },
  '0016_users_external_key_only_set': {
    async up(db: Kysely<any>) {
      // The mapping-key index only keeps externalId keys unique; with the default key
      // (userName) external_key is null and every user still had an entry in it
      // (~50 bytes a user). Null keys are never equal, so leaving them out changes nothing.
      await db.schema.dropIndex('users_external_key_live').execute();
      await db.schema
        .createIndex('users_external_key_live')
        .unique()
        .on('users')
        .columns(['connection_id', 'external_key'])
        .where((eb) => eb.and([eb(sql.ref('state'), '<>', 'deleted'), eb(sql.ref('external_key'), 'is not', null)]))
        .execute();
    },
  },  '0017_tenant_keys': {
    async up(db: Kysely<any>) {
      // The directory's tables and the outbox carried the connection's 36-character id
      // in every row and every index entry (~300 bytes a user in all); they now carry
      // a small integer key from `tenants` (store/tenant.ts). Tables are rebuilt rather than
      // altered: SQLite cannot drop a column a foreign key or an index uses. Children
      // are copied before their parents are dropped, and reference the new parents,
      // so no ON DELETE CASCADE fires while the old tables go.
      await db.schema
        .createTable('tenants')
        .addColumn('tenant', 'integer', (c) => (dialect.name === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()))
        .addColumn('connection_id', 'text', (c) => c.notNull().unique())
        .execute();
      await sql`insert into tenants (connection_id) select id from connections order by created_at, id`.execute(db);
      // Events outlive their connection: a deleted one's events still need its id, so it gets a key too.
      await sql`insert into tenants (connection_id) select distinct connection_id from events where connection_id not in (select connection_id from tenants)`.execute(db);

      await db.schema
        .createTable('users_new')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'integer', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_name_lc', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('external_key', 'text')
        .addColumn('display_name', 'text')
        .addColumn('display_name_lc', 'text')
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('deactivated_at', 'text')
        .addColumn('deleted_at', 'text')
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('app', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await sql`insert into users_new (id, tenant, user_name, user_name_lc, external_id, external_key, display_name, display_name_lc, active, state, version, created_at, updated_at, deactivated_at, deleted_at, doc, app)
        select u.id, t.tenant, u.user_name, u.user_name_lc, u.external_id, u.external_key, u.display_name, u.display_name_lc, u.active, u.state, u.version, u.created_at, u.updated_at, u.deactivated_at, u.deleted_at, u.doc, u.app
        from users u join tenants t on t.connection_id = u.connection_id`.execute(db);

      await db.schema
        .createTable('groups_new')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'integer', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('display_name_lc', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into groups_new (id, tenant, display_name, display_name_lc, external_id, version, created_at, updated_at, doc)
        select g.id, t.tenant, g.display_name, g.display_name_lc, g.external_id, g.version, g.created_at, g.updated_at, g.doc
        from groups g join tenants t on t.connection_id = g.connection_id`.execute(db);

      await db.schema
        .createTable('user_emails_new')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users_new.id').onDelete('cascade'))
        .addColumn('tenant', 'integer', (c) => c.notNull())
        .addColumn('value_lc', 'text', (c) => c.notNull())
        .addColumn('type', 'text')
        .addColumn('primary', 'integer')
        .execute();
      await sql`insert into user_emails_new (user_id, tenant, value_lc, type, ${sql.ref('primary')})
        select e.user_id, t.tenant, e.value_lc, e.type, e.${sql.ref('primary')}
        from user_emails e join tenants t on t.connection_id = e.connection_id`.execute(db);

      await db.schema
        .createTable('memberships_new')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups_new.id').onDelete('cascade'))
        .addColumn('member_id', 'text', (c) => c.notNull().references('users_new.id').onDelete('cascade'))
        .addColumn('tenant', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_new_pk', ['group_id', 'member_id'])
        .execute();
      await sql`insert into memberships_new (group_id, member_id, tenant, created_at)
        select m.group_id, m.member_id, t.tenant, m.created_at
        from memberships m join tenants t on t.connection_id = m.connection_id`.execute(db);

      const big = dialect.bigIntType;
      await db.schema
        .createTable('events_new')
        .addColumn('pos', big, (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('organization_id', 'text')
        .addColumn('sequence', big, (c) => c.notNull())
        .addColumn('tenant', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('member_id', 'text')
        .execute();
      await sql`insert into events_new (pos, id, organization_id, sequence, tenant, type, resource_type, resource_id, occurred_at, data, request_id, member_id)
        select e.pos, e.id, e.organization_id, e.sequence, t.tenant, e.type, e.resource_type, e.resource_id, e.occurred_at, e.data, e.request_id, e.member_id
        from events e join tenants t on t.connection_id = e.connection_id order by e.pos`.execute(db);
      await db.schema.dropTable('events').execute();
      await db.schema.alterTable('events_new').renameTo('events').execute();

      await db.schema.dropTable('user_emails').execute();
      await db.schema.dropTable('memberships').execute();
      await db.schema.dropTable('users').execute();
      await db.schema.dropTable('groups').execute();
      // SQLite rewrites the children's references to the new names; PostgreSQL's follow the tables.
      await db.schema.alterTable('users_new').renameTo('users').execute();
      await db.schema.alterTable('groups_new').renameTo('groups').execute();
      await db.schema.alterTable('user_emails_new').renameTo('user_emails').execute();
      await db.schema.alterTable('memberships_new').renameTo('memberships').execute();
      if (dialect.name === 'postgres') {
        // Constraint and index names stay with a renamed table: give them the usual ones back.
        await sql`alter table users rename constraint users_new_pkey to users_pkey`.execute(db);
        await sql`alter table groups rename constraint groups_new_pkey to groups_pkey`.execute(db);
        await sql`alter table memberships rename constraint memberships_new_pk to memberships_pk`.execute(db);
        await sql`alter table events rename constraint events_new_pkey to events_pkey`.execute(db);
      }
      await db.schema.createIndex('events_id').unique().on('events').column('id').execute();
      await db.schema.createIndex('events_org_sequence').unique().on('events').columns(['organization_id', 'sequence']).execute();
      await db.schema
        .createIndex('events_user')
        .on('events')
        .columns(['resource_id', 'pos'])
        .where(sql.ref('resource_type'), '=', sql.lit('User'))
        .execute();
      await db.schema
        .createIndex('events_member')
        .on('events')
        .columns(['member_id', 'pos'])
        .where(sql.ref('member_id'), 'is not', null)
        .execute();

      await db.schema
        .createIndex('users_user_name_live')
        .unique()
        .on('users')
        .columns(['tenant', 'user_name_lc'])
        .where(sql.ref('state'), '<>', sql.lit('deleted'))
        .execute();
      await db.schema
        .createIndex('users_deleted_user_name')
        .on('users')
        .columns(['tenant', 'user_name_lc'])
        .where(sql.ref('state'), '=', sql.lit('deleted'))
        .execute();
      await db.schema
        .createIndex('users_external_key_live')
        .unique()
        .on('users')
        .columns(['tenant', 'external_key'])
        .where((eb) => eb.and([eb(sql.ref('state'), '<>', sql.lit('deleted')), eb(sql.ref('external_key'), 'is not', null)]))
        .execute();
      await db.schema.createIndex('users_external_id').on('users').columns(['tenant', 'external_id']).execute();
      await db.schema.createIndex('users_display_name').on('users').columns(['tenant', 'display_name_lc']).execute();
      // No id after created_at: ties (same millisecond) are put in id order by a small
      // sort of the tie group; the id cost 37 bytes in every entry.
      await db.schema.createIndex('users_created').on('users').columns(['tenant', 'created_at']).execute();
      await db.schema.createIndex('users_updated').on('users').columns(['tenant', 'updated_at']).execute();
      await db.schema
        .createIndex('users_inactive')
        .on('users')
        .columns(['tenant', 'state'])
        .where(sql.ref('state'), '<>', sql.lit('active'))
        .execute();
      await db.schema.createIndex('user_emails_value').on('user_emails').columns(['tenant', 'value_lc']).execute();
      await db.schema.createIndex('user_emails_user').on('user_emails').column('user_id').execute();
      await db.schema.createIndex('groups_display_name').unique().on('groups').columns(['tenant', 'display_name_lc']).execute();
      await db.schema.createIndex('groups_external_id').on('groups').columns(['tenant', 'external_id']).execute();
      await db.schema.createIndex('groups_created').on('groups').columns(['tenant', 'created_at']).execute();
      await db.schema.createIndex('memberships_member').on('memberships').column('member_id').execute();
    },
  },
});

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return {
    async getMigrations() {
      return migrationsFor(dialect);
    },
  };
}

/** Where a database's schema stands against the migrations this version knows. */
export interface MigrationStatus {
  /** Known migrations already applied, oldest first. */
  applied: { name: string; executedAt: string }[];
  /** Known migrations not applied yet, in the order they would run. */
  pending: string[];
  /** Applied migrations this version does not know: a newer Rollcall migrated the database. */
  unknown: string[];
}

/** The names every database of this version ends up with, in order. */
export function knownMigrations(dialect: SqlDialect): string[] {
  return Object.keys(migrationsFor(dialect)).sort();
}

export async function migrationStatus(db: Kysely<DB>, dialect: SqlDialect): Promise<MigrationStatus> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const known = await migrator.getMigrations();
  const names = new Set(known.map((m) => m.name));
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const recorded = tables.some((t) => t.name === 'kysely_migration')
    ? await (db as Kysely<any>).selectFrom('kysely_migration').select('name').orderBy('name').execute()
    : [];
  return {
    applied: known.filter((m) => m.executedAt).map((m) => ({ name: m.name, executedAt: m.executedAt!.toISOString() })),
    pending: known.filter((m) => !m.executedAt).map((m) => m.name),
    unknown: recorded.map((r) => String(r.name)).filter((n) => !names.has(n)),
  };
}

/**
 * Pending and unknown migrations from the recorded names alone, for a readiness
 * probe: migrationStatus also introspects every table, ~10 ms of a blocked event
 * loop on SQLite. A serving database always has the table (opening made or checked it).
 */
export async function schemaDrift(db: Kysely<DB>, dialect: SqlDialect): Promise<Pick<MigrationStatus, 'pending' | 'unknown'>> {
  const known = knownMigrations(dialect);
  const rows = await (db as Kysely<any>).selectFrom('kysely_migration').select('name').execute();
  const recorded = new Set(rows.map((r) => String(r.name)));
  const names = new Set(known);
  return { pending: known.filter((n) => !recorded.has(n)), unknown: [...recorded].filter((n) => !names.has(n)).sort() };
}

/** How opening a database treats its schema (ROLLCALL_MIGRATE). */
export type MigrateMode = 'apply' | 'check';

/**
 * Brings the schema to this version's (`apply`), or only checks that it is there
 * (`check`: pending migrations refuse, for deploys whose pipeline migrates first).
 * Either way a schema newer than this version knows is refused: serving it could
 * write rows a newer version no longer reads. Returns the migrations applied.
 */
export async function migrate(db: Kysely<DB>, dialect: SqlDialect, mode: MigrateMode = 'apply'): Promise<string[]> {
  const status = await migrationStatus(db, dialect);
  if (status.unknown.length) {
    throw fail(
      'ROLLCALL_SCHEMA_NEWER',
      `the database was migrated by a newer Rollcall (migrations ${status.unknown.join(', ')} are unknown to this version); upgrade Rollcall or restore a backup taken before that upgrade`,
    );
  }
  if (!status.pending.length) return [];
  if (mode === 'check') {
    throw fail('ROLLCALL_MIGRATIONS_PENDING', `ROLLCALL_MIGRATE=off and ${status.pending.length} migration(s) are pending (${status.pending.join(', ')}); run \`rollcall migrate\` first`);
  }
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw fail('ROLLCALL_MIGRATION_FAILED', `database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
