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
  /** Null while current; set when rotated away (grace period end). */
  expires_at: string | null;
}

export interface UsersTable {
  id: string;
  connection_id: string;
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
  connection_id: string;
  value_lc: string;
  type: string | null;
  primary: number | null;
}

export interface GroupsTable {
  id: string;
  connection_id: string;
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
  connection_id: string;
  created_at: string;
}

export interface MigrationLockTable {
  id: Generated<number>;
}

export interface DB {
  organizations: OrganizationsTable;
  connections: ConnectionsTable;
  connection_tokens: ConnectionTokensTable;
  users: UsersTable;
  user_emails: UserEmailsTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
}
