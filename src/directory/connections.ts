/**
 * Connections: an organisation's IdP link, with its own SCIM base URL, bearer
 * tokens (connection-tokens.ts) and provisioning settings. ConnectionDirectory is
 * what the composition root hands out as `rollcall.connections`: connections and
 * their settings here, organisations and tokens through their own modules.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ConnectionTokensTable, DB } from '../store/types.js';
import * as connectionsStore from '../store/connections.js';
import type { ConnectionRow } from '../store/connections.js';
import { isUniqueViolation } from '../store/errors.js';
import { type Clock, requestContext } from './context.js';
import * as usersStore from '../store/users.js';
import { refreshRoles } from './roles.js';
import type { WriteBatcher } from '../store/batch.js';
import type { NewEvent } from '../events/types.js';
import { type ConnectionSettings, mergeSettings, readSettings } from './settings.js';
import { fail } from '../scim/errors.js';
import { DEFAULT_SCIM_PREFIX, scimBaseUrl } from './scim-url.js';
import { type OrganizationInfo, OrganizationDirectory } from './organizations.js';
import { type ConnectionGrant, ConnectionTokens, type IssuedToken, issueToken } from './connection-tokens.js';
import { type AccessToken, ClientCredentials, type ClientSecretInfo, type NewClientSecret, TOKEN_TTL_SECONDS } from './client-credentials.js';

export type { OrganizationInfo } from './organizations.js';
export type { ConnectionGrant, IssuedToken } from './connection-tokens.js';
export type { AccessToken, ClientSecretInfo, NewClientSecret } from './client-credentials.js';

/** Where the standalone server answers the OAuth client credentials grant (http/oauth-token.ts). */
export const OAUTH_TOKEN_PATH = '/oauth/token';

export interface CreateConnectionOptions {
  name: string;
  organizationId?: string;
  workspace?: string;
  /** Settings document merged over the defaults (validated). */
  settings?: unknown;
}

export interface ConnectionInfo {
  id: string;
  name: string;
  organizationId: string | null;
  kind: string;
  workspace: string;
  status: string;
  createdAt: string;
  scimUrl: string;
}

/** A connection's SCIM base URL on the standalone server (the API at DEFAULT_SCIM_PREFIX). */
export function scimUrl(publicUrl: string, connectionId: string): string {
  return scimBaseUrl(publicUrl, DEFAULT_SCIM_PREFIX, connectionId);
}

export class ConnectionDirectory {
  private readonly organizations: OrganizationDirectory;
  private readonly tokens: ConnectionTokens;
  private readonly credentials: ClientCredentials;

  constructor(
    private readonly db: Kysely<DB>,
    /** Reads outside transactions (every request's token check). */
    readDb: Kysely<DB>,
    /** Write transactions with the event outbox (token rotations and recomputed roles are events). */
    private readonly writes: WriteBatcher<NewEvent>,
    private readonly clock: Clock,
    /** Read on every use: a server learns its URL once it listens (see Rollcall.recordPublicUrl). */
    private readonly publicUrl: () => string,
    /** Plans whose organisations may use the SCIM API. */
    scimPlans: readonly string[] = ['enterprise'],
    /** Extra settings checks that need the SCIM schema (attribute paths, languages). */
    private readonly settingsChecks: ((s: ConnectionSettings) => string[])[] = [],
    /** Seconds an OAuth access token works (ROLLCALL_OAUTH_TOKEN_TTL). */
    readonly oauthTokenTtlSeconds: number = TOKEN_TTL_SECONDS.default,
    /** Row locks exist (PostgreSQL): a role recomputation locks the users it reads. */
    private readonly lockRows = false,
  ) {
    this.tokens = new ConnectionTokens(readDb, writes, clock, scimPlans);
    this.credentials = new ClientCredentials(db, clock, oauthTokenTtlSeconds, () => this.tokens.forget());
    this.organizations = new OrganizationDirectory(db, clock, scimPlans, () => this.tokens.forget());
  }

  private info(row: ConnectionRow): ConnectionInfo {
    return {
      id: row.id,
      name: row.name,
      organizationId: row.organization_id,
      kind: row.kind,
      workspace: row.workspace,
      status: row.status,
      createdAt: row.created_at,
      scimUrl: scimUrl(this.publicUrl(), row.id),
    };
  }

  createOrganization(name: string, plan?: string): Promise<OrganizationInfo> {
    return this.organizations.create(name, plan);
  }

  setPlan(id: string, plan: string): Promise<OrganizationInfo> {
    return this.organizations.setPlan(id, plan);
  }

  renameOrganization(id: string, name: string): Promise<OrganizationInfo> {
    return this.organizations.rename(id, name);
  }

  removeOrganization(id: string): Promise<void> {
    return this.organizations.remove(id);
  }

  getOrganization(id: string): Promise<OrganizationInfo | undefined> {
    return this.organizations.get(id);
  }

  listOrganizations(): Promise<OrganizationInfo[]> {
    return this.organizations.list();
  }

  validateSettings(current: unknown, patch: unknown): ConnectionSettings {
    try {
      return mergeSettings(current, patch, this.settingsChecks);
    } catch (e) {
      throw fail('ROLLCALL_INVALID_SETTINGS', `invalid settings: ${(e as Error).message}`);
    }
  }

  /**
   * Creates a SCIM connection and its first token. Without an organisation one is
   * created for it (named like the connection, on the first SCIM plan), so a
   * single command gets a customer going.
   */
  async create(opts: CreateConnectionOptions | string): Promise<ConnectionInfo & IssuedToken & { settings: ConnectionSettings }> {
    const o: CreateConnectionOptions = typeof opts === 'string' ? { name: opts } : opts;
    let issued: ReturnType<typeof issueToken> | undefined;
    try {
      const created = await this.insertNew(o, 'scim', (row) => (issued = issueToken(row.id, row.created_at)).row);
      return { ...created, token: issued!.token, tokenId: issued!.tokenId };
    } catch (e) {
      if (isUniqueViolation(e)) throw fail('ROLLCALL_ORGANIZATION_HAS_SCIM_CONNECTION', `organisation '${o.organizationId}' already has a SCIM connection (one per organisation)`);
      throw e;
    }
  }

  /**
   * Creates a connection pulled from a directory (`kind`, e.g. google-workspace):
   * no token, since nothing pushes to it. `inTransaction` stores the source's own
   * row in the same transaction. Without an organisation one is created, as for SCIM.
   */
  createPulled(
    o: CreateConnectionOptions,
    kind: string,
    inTransaction: (trx: Kysely<DB>, connectionId: string, now: string) => Promise<void>,
  ): Promise<ConnectionInfo & { settings: ConnectionSettings }> {
    return this.insertNew(o, kind, undefined, inTransaction);
  }

  /** A new connection row (and its organisation when none is named) in one transaction. */
  private async insertNew(
    o: CreateConnectionOptions,
    kind: string,
    tokenFor?: (row: ConnectionRow) => ConnectionTokensTable,
    inTransaction?: (trx: Kysely<DB>, connectionId: string, now: string) => Promise<void>,
  ): Promise<ConnectionInfo & { settings: ConnectionSettings }> {
    const trimmed = o.name.trim();
    if (!trimmed) throw fail('ROLLCALL_NAME_REQUIRED', 'a connection needs a non-empty name');
    const workspace = (o.workspace ?? 'default').trim();
    if (!workspace) throw fail('ROLLCALL_NAME_REQUIRED', '--workspace must not be empty');
    const settings = this.validateSettings({}, o.settings ?? {});
    const now = this.clock().toISOString();
    const row: ConnectionRow = {
      id: randomUUID(),
      organization_id: o.organizationId ?? null,
      name: trimmed,
      workspace,
      settings: JSON.stringify(settings),
      status: 'active',
      kind,
      created_at: now,
    };
    const token = tokenFor?.(row);
    await this.db.transaction().execute(async (trx) => {
      if (o.organizationId) {
        if (!(await connectionsStore.getOrganization(trx, o.organizationId))) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${o.organizationId}'`);
      } else {
        const org = this.organizations.rowFor(trimmed, now);
        await connectionsStore.insertOrganization(trx, org);
        row.organization_id = org.id;
      }
      await connectionsStore.insertConnection(trx, row, token);
      await inTransaction?.(trx, row.id, now);
    });
    return { ...this.info(row), settings };
  }

  /** The connection that holds CSV-imported users of an organisation, created on first use. */
  async importConnection(organizationId: string): Promise<ConnectionInfo & { settings: ConnectionSettings }> {
    const existing = (await connectionsStore.connectionsOfOrganization(this.db, organizationId)).find((c) => c.kind === 'import');
    if (existing) return { ...this.info(existing), settings: readSettings(existing.settings) };
    const org = await connectionsStore.getOrganization(this.db, organizationId);
    if (!org) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${organizationId}'`);
    const row: ConnectionRow = {
      id: randomUUID(),
      organization_id: organizationId,
      name: `${org.name} (CSV import)`,
      workspace: 'default',
      settings: '{}',
      status: 'active',
      kind: 'import',
      created_at: this.clock().toISOString(),
    };
    // One transaction: the connection and its tenant key exist together or not at all.
    await this.db.transaction().execute((trx) => connectionsStore.insertConnection(trx, row));
    return { ...this.info(row), settings: readSettings(row.settings) };
  }

  async connectionsOf(organizationId: string): Promise<ConnectionInfo[]> {
    return (await connectionsStore.connectionsOfOrganization(this.db, organizationId)).map((r) => this.info(r));
  }

  /** Merges `patch` over the connection's settings (top-level keys replace) and saves them. */
  async configure(id: string, patch: unknown): Promise<ConnectionInfo & { settings: ConnectionSettings }> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `no connection with id '${id}'`);
    const settings = this.validateSettings(JSON.parse(row.settings), patch);
    const text = JSON.stringify(settings);
    const before = readSettings(row.settings);
    const keyChanged = before.mappingKey !== settings.mappingKey;
    try {
      await this.db.transaction().execute(async (trx) => {
        await connectionsStore.updateSettings(trx, id, text);
        if (keyChanged) await connectionsStore.setExternalKeys(trx, id, settings.mappingKey === 'externalId');
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw fail('ROLLCALL_MAPPING_KEY_CONFLICT', `mappingKey cannot become externalId: several live users of connection '${id}' share one externalId`);
      }
      throw e;
    }
    this.tokens.forget();
    const rolesChanged = JSON.stringify([before.roleMapping, before.defaultRole]) !== JSON.stringify([settings.roleMapping, settings.defaultRole]);
    // Cleared rules reset everyone to defaultRole; a failed run is resumed by saving the mapping again with `recomputeRoles`.
    if (rolesChanged && (settings.roleMapping.length || before.roleMapping.length)) await this.recomputeRoles(id);
    return { ...this.info({ ...row, settings: text }), settings };
  }

  /**
   * A new roleMapping applies to the users already there: their roles follow their
   * groups now, a page of users per transaction (other connections' writes go
   * between), each change a user.role_changed.
   */
  async recomputeRoles(id: string): Promise<void> {
    const row = await this.scimConnection(id);
    const settings = readSettings(row.settings);
    const ctx = requestContext(row.id, { organizationId: row.organization_id, workspace: row.workspace, settings }, this.info(row).scimUrl);
    let after = '';
    for (;;) {
      const ids = await usersStore.liveUserIdsAfter(this.db, row.id, after, 500);
      if (!ids.length) return;
      const now = this.clock().toISOString();
      await this.writes.run((trx, emit) => refreshRoles(trx, ctx, ids, now, emit, { lock: this.lockRows, force: true }));
      after = ids[ids.length - 1];
      await new Promise((r) => setImmediate(r));
    }
  }

  async show(id: string): Promise<(ConnectionInfo & { settings: ConnectionSettings; organization?: OrganizationInfo }) | undefined> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) return undefined;
    const org = row.organization_id ? await this.getOrganization(row.organization_id) : undefined;
    return { ...this.info(row), settings: readSettings(row.settings), organization: org };
  }

  async list(): Promise<ConnectionInfo[]> {
    return (await connectionsStore.listConnections(this.db)).map((r) => this.info(r));
  }

  async get(id: string): Promise<ConnectionInfo | undefined> {
    const row = await connectionsStore.getConnection(this.db, id);
    return row && this.info(row);
  }

  /** All connections with their settings (the purge job needs each one's retention). */
  async allWithSettings(): Promise<(ConnectionInfo & { settings: ConnectionSettings })[]> {
    return (await connectionsStore.listConnections(this.db)).map((r) => ({ ...this.info(r), settings: readSettings(r.settings) }));
  }

  /**
   * Issues a new token; the previous ones keep working for `graceSeconds` (see
   * ConnectionTokens.rotate). Undefined for an unknown connection.
   */
  async rotateToken(id: string, graceSeconds = 0): Promise<(ConnectionInfo & IssuedToken & { previousValidUntil: string }) | undefined> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) return undefined;
    if (row.kind !== 'scim') throw fail('ROLLCALL_CONNECTION_HAS_NO_TOKEN', `connection '${id}' is ${row.kind === 'import' ? 'the CSV import connection' : `pulled from ${row.kind}`} and has no token`);
    const info = this.info(row);
    return { ...info, ...(await this.tokens.rotate(info, graceSeconds)) };
  }

  /** The token endpoint IdPs are given with a client id and secret. */
  oauthTokenUrl(): string {
    return `${this.publicUrl().replace(/\/+$/, '')}${OAUTH_TOKEN_PATH}`;
  }

  private async scimConnection(id: string): Promise<ConnectionRow> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `no connection with id '${id}'`);
    if (row.kind !== 'scim') throw fail('ROLLCALL_CONNECTION_HAS_NO_TOKEN', `connection '${id}' is ${row.kind === 'import' ? 'the CSV import connection' : `pulled from ${row.kind}`} and has no SCIM credentials`);
    return row;
  }

  /**
   * A new OAuth client secret for the connection (client id: the connection id),
   * shown in this answer only, with the token URL. `expiresInDays`: 365–1095.
   */
  async createCredential(id: string, opts: { name?: string; expiresInDays?: number } = {}): Promise<NewClientSecret & { tokenUrl: string; scimUrl: string }> {
    const row = await this.scimConnection(id);
    return { ...(await this.credentials.create(row.id, opts)), tokenUrl: this.oauthTokenUrl(), scimUrl: this.info(row).scimUrl };
  }

  /** The connection's client secrets (never the secrets themselves), oldest first. */
  async listCredentials(id: string): Promise<ClientSecretInfo[]> {
    return this.credentials.list((await this.scimConnection(id)).id);
  }

  /** Revokes a client secret; access tokens it obtained stop working at once. */
  async revokeCredential(id: string, secretId: string): Promise<void> {
    await this.credentials.revoke((await this.scimConnection(id)).id, secretId);
  }

  /** The client credentials grant: an access token for connection `clientId`, or undefined. */
  grantAccessToken(clientId: string, clientSecret: string): Promise<AccessToken | undefined> {
    return this.credentials.grant(clientId, clientSecret);
  }

  /**
   * Disables a connection (its SCIM requests are refused with 403, its data and
   * tokens stay) or enables it again.
   */
  async setStatus(id: string, status: 'active' | 'disabled'): Promise<ConnectionInfo> {
    if (!(await connectionsStore.setConnectionStatus(this.db, id, status))) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `no connection with id '${id}'`);
    this.tokens.forget();
    return (await this.get(id))!;
  }

  /**
   * Deletes a connection with its users, groups, tokens and logged requests, a
   * chunk per transaction so other connections' writes interleave. Its events stay
   * until their retention ends (the feed and webhooks may still need them).
   */
  async remove(id: string): Promise<void> {
    if (!(await connectionsStore.getConnection(this.db, id))) throw fail('ROLLCALL_CONNECTION_NOT_FOUND', `no connection with id '${id}'`);
    // Refused at once: nothing it sends from now on is accepted while the rest goes.
    await connectionsStore.setConnectionStatus(this.db, id, 'disabled');
    this.tokens.forget();
    while (!(await this.db.transaction().execute((trx) => connectionsStore.deleteConnectionChunk(trx, id)))) {
      await new Promise((r) => setImmediate(r));
    }
    this.tokens.forget();
  }

  /** See ConnectionTokens.authenticate. */
  authenticate(id: string, token: string): Promise<ConnectionGrant | undefined> {
    return this.tokens.authenticate(id, token);
  }
}
