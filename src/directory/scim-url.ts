/**
 * The one builder of a connection's SCIM base URL: the public origin, the path the
 * SCIM API is mounted at, and the connection id. Resource locations (`meta.location`,
 * `$ref`s, the `Location` header) and the URL an admin gives to the IdP all start here.
 */

/** Where the standalone server mounts the SCIM API (and the default elsewhere). */
export const DEFAULT_SCIM_PREFIX = '/scim/v2';

/** Normalises a mount prefix: leading slash, no trailing slash, `''` for the root. */
export function normalizePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, '');
  return p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
}

/** A connection's SCIM base URL when the API is mounted at `prefix` behind `origin`. */
export function scimBaseUrl(origin: string, prefix: string, connectionId: string): string {
  return `${origin.replace(/\/+$/, '')}${normalizePrefix(prefix)}/${encodeURIComponent(connectionId)}`;
}
