/**
 * A connection's users and groups as SCIM resources, one JSON document a line
 * (users first, then groups with their members), for audits and for leaving
 * Rollcall. Read page by page in id order without offsets or counts, so memory
 * stays bounded by one page whatever the directory's size.
 */
import type { RequestContext } from './context.js';
import type { UserDirectory } from './users.js';
import type { GroupDirectory } from './groups.js';

/** Users per page; a page of users is a few hundred kilobytes of JSON. */
const USER_PAGE = 500;
/** Groups per page: each carries all its members, which may be many. */
const GROUP_PAGE = 20;

export interface ExportedResource {
  resourceType: 'User' | 'Group';
  /** The SCIM resource as JSON text. */
  json: string;
}

export async function* exportConnection(users: UserDirectory, groups: GroupDirectory, ctx: RequestContext): AsyncGenerator<ExportedResource> {
  for (const [resourceType, dir, size] of [
    ['User', users, USER_PAGE],
    ['Group', groups, GROUP_PAGE],
  ] as const) {
    let after = '';
    for (;;) {
      const page = await dir.scimPageAfter(ctx, after, size);
      for (const json of page.lines) yield { resourceType, json };
      if (!page.lastId || page.lines.length < size) break;
      after = page.lastId;
    }
  }
}
