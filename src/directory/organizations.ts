/**
 * Organisations: the customers of the host application, each on a plan. The plan
 * decides whether the organisation's connections may use the SCIM API.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/types.js';
import * as connectionsStore from '../store/connections.js';
import type { OrganizationRow } from '../store/connections.js';
import type { Clock } from './context.js';
import { fail } from '../scim/errors.js';

export interface OrganizationInfo {
  id: string;
  name: string;
  plan: string;
  scimAllowed: boolean;
  createdAt: string;
}

export class OrganizationDirectory {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    /** Plans whose organisations may use the SCIM API. */
    private readonly scimPlans: readonly string[],
    /** Called after a plan change: token checks remembered before are stale. */
    private readonly onPlanChange: () => void,
  ) {}

  private info(row: OrganizationRow): OrganizationInfo {
    return { id: row.id, name: row.name, plan: row.plan, scimAllowed: this.scimPlans.includes(row.plan), createdAt: row.created_at };
  }

  private checkPlan(plan: string): string {
    const p = plan.trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(p)) throw fail('ROLLCALL_INVALID_PLAN', `plan '${plan}' is not a plan name (letters, digits, - and _)`);
    return p;
  }

  /** The organisation a connection created without one gets: named like it, on the first SCIM plan. */
  rowFor(name: string, now: string): OrganizationRow {
    return { id: randomUUID(), name, plan: this.scimPlans[0] ?? 'enterprise', created_at: now };
  }

  /** Without a plan: the first SCIM plan, like an organisation a connection creates. */
  async create(name: string, plan?: string): Promise<OrganizationInfo> {
    const trimmed = name.trim();
    if (!trimmed) throw fail('ROLLCALL_NAME_REQUIRED', 'an organisation needs a non-empty name');
    const row: OrganizationRow = { id: randomUUID(), name: trimmed, plan: this.checkPlan(plan ?? this.scimPlans[0] ?? 'enterprise'), created_at: this.clock().toISOString() };
    await connectionsStore.insertOrganization(this.db, row);
    return this.info(row);
  }

  async setPlan(id: string, plan: string): Promise<OrganizationInfo> {
    const p = this.checkPlan(plan);
    if (!(await connectionsStore.setPlan(this.db, id, p))) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${id}'`);
    this.onPlanChange();
    return this.info((await connectionsStore.getOrganization(this.db, id))!);
  }

  async rename(id: string, name: string): Promise<OrganizationInfo> {
    const trimmed = name.trim();
    if (!trimmed) throw fail('ROLLCALL_NAME_REQUIRED', 'an organisation needs a non-empty name');
    if (!(await connectionsStore.renameOrganization(this.db, id, trimmed))) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${id}'`);
    return this.info((await connectionsStore.getOrganization(this.db, id))!);
  }

  /** Deletes an organisation that has no connections left (and its webhooks). */
  async remove(id: string): Promise<void> {
    if (await connectionsStore.deleteEmptyOrganization(this.db, id)) return;
    if (!(await connectionsStore.getOrganization(this.db, id))) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${id}'`);
    throw fail('ROLLCALL_ORGANIZATION_NOT_EMPTY', `organisation '${id}' still has connections; delete them first`);
  }

  async get(id: string): Promise<OrganizationInfo | undefined> {
    const row = await connectionsStore.getOrganization(this.db, id);
    return row && this.info(row);
  }

  async list(): Promise<OrganizationInfo[]> {
    return (await connectionsStore.listOrganizations(this.db)).map((r) => this.info(r));
  }
}
