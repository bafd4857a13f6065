/**
 * A directory Rollcall pulls users and groups from (Google Workspace today; an
 * HRIS or LDAP later): it lists what there is, as SCIM resources, page by page.
 * The sync (sync.ts) turns listings into the same directory operations a SCIM
 * request makes, so policies, events, webhooks and the console see no difference.
 */

/** A user as the source has it now, already mapped to a SCIM User body. */
export interface SourceUser {
  /** The source's immutable id of the user. */
  id: string;
  /** What the source calls it in messages (an e-mail address). */
  name: string;
  /** The SCIM User resource (schemas, userName, name, emails, active, …). */
  resource: Record<string, unknown>;
}

export interface SourceGroup {
  id: string;
  name: string;
  /** The SCIM Group resource without members (displayName, externalId). */
  resource: { displayName: string; externalId: string } & Record<string, unknown>;
}

export interface DirectorySource {
  readonly kind: string;
  /**
   * The users there are now, a page at a time. Iteration that ends normally means
   * the listing was complete; any failure throws (and the listing is partial).
   */
  users(): AsyncIterable<SourceUser[]>;
  /** Ids of users the source reports as deleted (as far back as it remembers). */
  deletedUsers(): AsyncIterable<string[]>;
  /** The groups there are now, a page at a time (complete when iteration ends normally). */
  groups(): AsyncIterable<SourceGroup[]>;
  /** The source ids of the users among a group's members, every page (nested groups are not expanded). */
  memberIds(groupId: string): Promise<string[]>;
  /**
   * One user by the source's immutable id, asked for a user the complete listing
   * did not name before it counts as absent (a listing ordered by something
   * mutable, such as Google's by address, can miss a user renamed while it
   * pages). Undefined when the source has no such user in the sync's scope.
   */
  user(id: string): Promise<SourceUser | undefined>;
  /** HTTP requests made to the source so far, retries included. */
  readonly requests: number;
}
