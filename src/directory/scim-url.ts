/**
 * A connection's SCIM base URL, built in one place: the public URL (or origin), the
 * path the SCIM API is mounted at, and the connection id. It is what the IdP is
 * given and what every `meta.location` and `$ref` starts with.
 */

/** Where the standalone server mounts the SCIM API (and the default elsewhere). */
export const DEFAULT_SCIM_PREFIX = '/scim/v2';

/** Normalises a mount prefix: leading slash, no trailing slash, `''` for the root. */
export function normalizePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, '');
  return p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
}

/** A connection's SCIM base URL when the API is mounted at `prefix` behind `origin` (a public URL, possibly with a path). */
export function scimBaseUrl(origin: string, prefix: string, connectionId: string): string {
  return `${origin.replace(/\/+$/, '')}${normalizePrefix(prefix)}/${encodeURIComponent(connectionId)}`;
}
