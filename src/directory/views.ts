/** The user and group views the directory builds for events, webhooks and the embedding API (typed where they are made). */
/** A user as the host app sees it: identity, state, what the policies resolved, and the SCIM attributes. */
export interface UserView {
  id: string;
  externalId: string | null;
  userName: string;
  displayName: string | null;
  active: boolean;
  /** active | deactivated | deleted */
  state: string;
  /** The primary (else first) e-mail, else the userName when it is an address. */
  email: string | null;
  workspace: string;
  role: string | null;
  /** BCP 47 tag, e.g. de-DE. */
  language: string | null;
  /** Its primary language, e.g. de. */
  primaryLanguage: string | null;
  /** Host-app profile fields resolved through the connection's attributeMap. */
  profile: Record<string, unknown>;
  /** e.g. `unmapped-gender:<value>` */
  flags: string[];
  createdAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
  deletedAt: string | null;
  version: number;
  /** The stored SCIM attributes (no id, meta or groups). */
  scim: Record<string, unknown>;
}

export interface GroupView {
  id: string;
  externalId: string | null;
  displayName: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}
