/** Library entry point for host applications embedding Rollcall. */
export { createRollcall, type Rollcall, type RollcallOptions } from './rollcall.js';
export { buildServer, scimPlugin, type ServerOptions } from './http/server.js';
export { loadConfig, type Config } from './config.js';
export { ScimError, errors } from './scim/errors.js';
export type { RequestContext, Clock } from './directory/context.js';
