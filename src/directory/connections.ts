/**
 * Organisations and connections. An organisation is one customer of the host
 * application with a plan; a connection is its IdP link, with its own SCIM base
 * URL and bearer token. Tokens are shown once and stored only as a SHA-256 hash;
 * they are 256-bit random values, so a slow password hash would add latency
 * without adding safety.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import * as connectionsStore from '../store/connections.js';
import type { ConnectionRow, ConnectionAccess, OrganizationRow } from '../store/connections.js';
import { isUniqueViolation } from '../store/errors.js';
import type { Clock } from './context.js';
import type { WriteBatcher } from '../store/batch.js';
import type { NewEvent } from '../events/types.js';
import { event } from './events.js';
import { type ConnectionSettings, mergeSettings, readSettings } from './settings.js';

/** A refusal of an admin operation (CLI, admin API), with a message for a person. */
export class AdminError extends Error {}

export interface OrganizationInfo {
  id: string;
  name: string;
  plan: string;
  scimAllowed: boolean;
  createdAt: string;
}

export interface CreateConnectionOptions {
  name: string;
  organizationId?: string;
  workspace?: string;
  /** Settings document merged over the defaults (validated). */
  settings?: unknown;
}

/** The connection a valid token opened, as the SCIM layer needs it. */
export interface ConnectionGrant {
  organizationId: string | null;
  plan: string | null;
  scimAllowed: boolean;
  workspace: string;
  settings: ConnectionSettings;
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

export interface IssuedToken {
  token: string;
  tokenId: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function newToken(): string {
  return 'rcl_' + randomBytes(32).toString('base64url');
}

export function scimUrl(publicUrl: string, connectionId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/scim/v2/${connectionId}`;
}

export class ConnectionDirectory {
  /** Token checks that succeeded in read snapshot `snapshot` (exact: the snapshot cannot change). */
  private verified = new Map<string, ConnectionGrant>();
  private snapshot = -1;
  /** Parsed settings by their JSON text: parsing once per change, not per request. */
  private readonly parsed = new Map<string, ConnectionSettings>();

  constructor(
    private readonly db: Kysely<DB>,
    /** Reads outside transactions (every request's token check). */
    private readonly readDb: Kysely<DB>,
    private readonly readSnapshot: () => number,
    /** Write transactions with the event outbox (token rotations are events). */
    private readonly writes: WriteBatcher<NewEvent>,
    private readonly clock: Clock,
    private readonly publicUrl: string,
    /** Plans whose organisations may use the SCIM API. */
    private readonly scimPlans: readonly string[] = ['enterprise'],
    /** Extra settings checks that need the SCIM schema (attribute paths, languages). */
    private readonly settingsChecks: ((s: ConnectionSettings) => string[])[] = [],
  ) {}

  private info(row: ConnectionRow): ConnectionInfo {
    return {
      id: row.id,
      name: row.name,
      organizationId: row.organization_id,
      kind: row.kind,
      workspace: row.workspace,
      status: row.status,
      createdAt: row.created_at,
      scimUrl: scimUrl(this.publicUrl, row.id),
    };
  }

  private orgInfo(row: OrganizationRow): OrganizationInfo {
    return { id: row.id, name: row.name, plan: row.plan, scimAllowed: this.scimPlans.includes(row.plan), createdAt: row.created_at };
  }

  private checkPlan(plan: string): string {
    const p = plan.trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(p)) throw new AdminError(`plan '${plan}' is not a plan name (letters, digits, - and _)`);
    return p;
  }

  async createOrganization(name: string, plan: string): Promise<OrganizationInfo> {
    const trimmed = name.trim();
    if (!trimmed) throw new AdminError('an organisation needs a non-empty name');
    const row: OrganizationRow = { id: randomUUID(), name: trimmed, plan: this.checkPlan(plan), created_at: this.clock().toISOString() };
    await connectionsStore.insertOrganization(this.db, row);
    return this.orgInfo(row);
  }

  async setPlan(id: string, plan: string): Promise<OrganizationInfo> {
    const p = this.checkPlan(plan);
    if (!(await connectionsStore.setPlan(this.db, id, p))) throw new AdminError(`no organisation with id '${id}'`);
    this.forget();
    return this.orgInfo((await connectionsStore.getOrganization(this.db, id))!);
  }

  async getOrganization(id: string): Promise<OrganizationInfo | undefined> {
    const row = await connectionsStore.getOrganization(this.db, id);
    return row && this.orgInfo(row);
  }

  async listOrganizations(): Promise<OrganizationInfo[]> {
    return (await connectionsStore.listOrganizations(this.db)).map((r) => this.orgInfo(r));
  }

  validateSettings(current: unknown, patch: unknown): ConnectionSettings {
    try {
      return mergeSettings(current, patch, this.settingsChecks);
    } catch (e) {
      throw new AdminError(`invalid settings: ${(e as Error).message}`);
    }
  }

  /**
   * Creates a SCIM connection and its first token. Without an organisation one is
   * created for it (named like the connection, on the first SCIM plan), so a
   * single command gets a customer going.
   */
  async create(opts: CreateConnectionOptions | string): Promise<ConnectionInfo & IssuedToken & { settings: ConnectionSettings }> {
    const o: CreateConnectionOptions = typeof opts === 'string' ? { name: opts } : opts;
    const trimmed = o.name.trim();
    if (!trimmed) throw new AdminError('a connection needs a non-empty name');
    const workspace = (o.workspace ?? 'default').trim();
    if (!workspace) throw new AdminError('--workspace must not be empty');
    const settings = this.validateSettings({}, o.settings ?? {});
    const now = this.clock().toISOString();
    const token = newToken();
    const tokenId = randomUUID();
    const row: ConnectionRow = {
      id: randomUUID(),
      organization_id: o.organizationId ?? null,
      name: trimmed,
      workspace,
      settings: JSON.stringify(settings),
      status: 'active',
      kind: 'scim',
      created_at: now,
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        if (o.organizationId) {
          if (!(await connectionsStore.getOrganization(trx, o.organizationId))) throw new AdminError(`no organisation with id '${o.organizationId}'`);
        } else {
          const org: OrganizationRow = { id: randomUUID(), name: trimmed, plan: this.scimPlans[0] ?? 'enterprise', created_at: now };
          await connectionsStore.insertOrganization(trx, org);
          row.organization_id = org.id;
        }
        await connectionsStore.insertConnection(trx, row, { id: tokenId, connection_id: row.id, hash: hashToken(token), created_at: now, expires_at: null });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new AdminError(`organisation '${o.organizationId}' already has a SCIM connection (one per organisation)`);
      throw e;
    }
    return { ...this.info(row), token, tokenId, settings };
  }

  /** The connection that holds CSV-imported users of an organisation, created on first use. */
  async importConnection(organizationId: string): Promise<ConnectionInfo & { settings: ConnectionSettings }> {
    const existing = (await connectionsStore.connectionsOfOrganization(this.db, organizationId)).find((c) => c.kind === 'import');
    if (existing) return { ...this.info(existing), settings: readSettings(existing.settings) };
    const org = await connectionsStore.getOrganization(this.db, organizationId);
    if (!org) throw new AdminError(`no organisation with id '${organizationId}'`);
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
    await connectionsStore.insertConnection(this.db, row);
    return { ...this.info(row), settings: readSettings(row.settings) };
  }

  async connectionsOf(organizationId: string): Promise<ConnectionInfo[]> {
    return (await connectionsStore.connectionsOfOrganization(this.db, organizationId)).map((r) => this.info(r));
  }

  /** Merges `patch` over the connection's settings (top-level keys replace) and saves them. */
  async configure(id: string, patch: unknown): Promise<ConnectionInfo & { settings: ConnectionSettings }> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) throw new AdminError(`no connection with id '${id}'`);
    const settings = this.validateSettings(JSON.parse(row.settings), patch);
    const text = JSON.stringify(settings);
    const keyChanged = readSettings(row.settings).mappingKey !== settings.mappingKey;
    try {
      await this.db.transaction().execute(async (trx) => {
        await connectionsStore.updateSettings(trx, id, text);
        if (keyChanged) await connectionsStore.setExternalKeys(trx, id, settings.mappingKey === 'externalId');
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AdminError(`mappingKey cannot become externalId: several live users of connection '${id}' share one externalId`);
      }
      throw e;
    }
    this.forget();
    return { ...this.info({ ...row, settings: text }), settings };
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
   * Issues a new token. The previous ones keep working for `graceSeconds`
   * (0: they stop now), so an admin can update the IdP without a gap.
   */
  async rotateToken(id: string, graceSeconds = 0): Promise<(ConnectionInfo & IssuedToken & { previousValidUntil: string }) | undefined> {
    const row = await connectionsStore.getConnection(this.db, id);
    if (!row) return undefined;
    if (row.kind !== 'scim') throw new AdminError(`connection '${id}' holds CSV-imported users and has no token`);
    const now = this.clock();
    const until = new Date(now.getTime() + Math.max(0, graceSeconds) * 1000).toISOString();
    const token = newToken();
    const tokenId = randomUUID();
    const info = this.info(row);
    await this.writes.run(async (trx, emit) => {
      await connectionsStore.rotateToken(trx, id, until, { id: tokenId, connection_id: id, hash: hashToken(token), created_at: now.toISOString(), expires_at: null });
      // Never the token itself: only that it changed, and until when the old one works.
      const ctx = { connectionId: id, baseUrl: info.scimUrl, organizationId: info.organizationId };
      const data = { connection: { id, name: info.name, workspace: info.workspace }, tokenId, previousValidUntil: until };
      emit(event(ctx, 'connection.token_rotated', { type: 'Connection', id }, data, now.toISOString()));
    });
    this.forget();
    return { ...info, token, tokenId, previousValidUntil: until };
  }

  /** This process changed a token, plan or settings: answers remembered before are stale. */
  private forget(): void {
    this.verified = new Map();
  }

  private grantOf(access: ConnectionAccess): ConnectionGrant {
    let settings = this.parsed.get(access.settings);
    if (!settings) {
      settings = readSettings(access.settings);
      if (this.parsed.size > 1000) this.parsed.clear();
      this.parsed.set(access.settings, settings);
    }
    return {
      organizationId: access.organization_id,
      plan: access.plan,
      scimAllowed: access.plan === null || this.scimPlans.includes(access.plan),
      workspace: access.workspace,
      settings,
    };
  }

  /**
   * The connection opened by `token`, or undefined when the token is not a live
   * token of connection `id`. Compares hashes in constant time. Read through the
   * read snapshot: a rotation by the CLI takes effect as soon as the snapshot
   * renews (milliseconds). A success is remembered for the rest of the snapshot,
   * which would answer the same.
   */
  async authenticate(id: string, token: string): Promise<ConnectionGrant | undefined> {
    const hash = hashToken(token);
    const key = `${id}:${hash}`;
    const snapshot = this.readSnapshot();
    if (snapshot !== this.snapshot) {
      this.verified = new Map();
      this.snapshot = snapshot;
    } else {
      const hit = this.verified.get(key);
      if (hit) return hit;
    }
    const tokens = await connectionsStore.liveTokens(this.readDb, id, this.clock().toISOString());
    const given = Buffer.from(hash, 'hex');
    let match: ConnectionAccess | undefined;
    for (const t of tokens) {
      // No early exit: every live token is compared.
      if (timingSafeEqual(given, Buffer.from(t.hash, 'hex'))) match = t;
    }
    if (!match) return undefined;
    const grant = this.grantOf(match);
    // Only remember the answer if the snapshot did not renew while we awaited.
    if (this.readSnapshot() === snapshot && this.snapshot === snapshot) this.verified.set(key, grant);
    return grant;
  }
}
