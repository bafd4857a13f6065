/**
 * Rollcall's SCIM API for a host application's own Fastify: the plugin itself lives
 * in http/scim-plugin.ts (the standalone server registers the same one); this module
 * is its public entry for embedders.
 *
 *   await app.register(rollcallScim, { rollcall, prefix: '/identity/scim/v2' });
 */
export { rollcallScim, type RollcallScimOptions, DEFAULT_SCIM_BODY_LIMIT, SCIM_ROUTER_OPTIONS, scimFrameworkErrors } from '../http/scim-plugin.js';
export { DEFAULT_SCIM_PREFIX, normalizePrefix, scimBaseUrl } from '../directory/scim-url.js';
