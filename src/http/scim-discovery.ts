/** Discovery endpoints (RFC 7644 §4): what this server supports, stated exactly. */
import type { FastifyInstance } from 'fastify';
import { fail } from '../scim/errors.js';
import {
  RESOURCE_TYPE,
  SCHEMA,
  SP_CONFIG,
  allSchemas,
  resourceTypes,
  type SchemaDef,
  type ResourceTypeDef,
} from '../scim/schemas.js';
import { listResponse } from '../scim/serialize.js';
import { ctxOf } from './scim-auth.js';
import { SCIM_CONTENT_TYPE } from './errors.js';
import { MAX_COUNT } from './list-params.js';
import type { ScimLimits } from '../scim/limits.js';

function schemaResource(base: string, s: SchemaDef) {
  return {
    schemas: [SCHEMA],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
  };
}

function resourceTypeResource(base: string, rt: ResourceTypeDef) {
  return {
    schemas: [RESOURCE_TYPE],
    id: rt.id,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema.id,
    schemaExtensions: rt.extensions.map((e) => ({ schema: e.schema.id, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${rt.id}` },
  };
}

/**
 * Rollcall's own extension of the ServiceProviderConfig: the cost bounds a client
 * can plan for (RFC 7643 §5 has fields for bulk and filter results only).
 * Clients ignore attributes they do not know.
 */
export const LIMITS_EXTENSION = 'urn:rollcall:params:scim:schemas:extension:limits:1.0';

function serviceProviderConfig(base: string, bounds: DiscoveryOptions) {
  const l = bounds.limits;
  return {
    schemas: [SP_CONFIG, LIMITS_EXTENSION],
    documentationUri: 'https://www.rfc-editor.org/rfc/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with the per-connection bearer token shown when the connection was created or its token rotated.',
        primary: true,
      },
      {
        type: 'oauth2',
        name: 'OAuth 2.0 client credentials',
        description: 'An access token from POST /oauth/token (grant_type=client_credentials with the connection id as client id and one of its client secrets), sent as a bearer token.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.4',
      },
    ],
    [LIMITS_EXTENSION]: {
      maxPayloadSize: bounds.bodyLimit,
      maxPatchOperations: l.patchOperations,
      maxPatchValues: l.patchValues,
      maxValuesPerAttribute: l.valuesPerAttribute,
      maxMembersPerRequest: l.membersPerRequest,
      maxIdentifierLength: l.identifierLength,
      maxValueLength: l.valueLength,
      maxProjectionAttributes: l.projectionAttributes,
      maxFilterLength: l.filterLength,
      maxFilterTerms: l.filterTerms,
      maxFilterDepth: l.filterDepth,
    },
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export interface DiscoveryOptions {
  limits: ScimLimits;
  bodyLimit: number;
}

export function registerDiscovery(app: FastifyInstance, bounds: DiscoveryOptions): void {
  const spc = async (req: Parameters<typeof ctxOf>[0], reply: import('fastify').FastifyReply) =>
    reply.type(SCIM_CONTENT_TYPE).send(serviceProviderConfig(ctxOf(req).baseUrl, bounds));
  app.get('/ServiceProviderConfig', spc);
  // Alias used by Microsoft's SCIM reference server and its test collection.
  app.get('/serviceConfiguration', spc);

  app.get('/Schemas', async (req, reply) => {
    const base = ctxOf(req).baseUrl;
    const all = allSchemas.map((s) => schemaResource(base, s));
    return reply.type(SCIM_CONTENT_TYPE).send(listResponse(all, all.length, 1));
  });
  app.get('/Schemas/:schemaId', async (req, reply) => {
    const { schemaId } = req.params as { schemaId: string };
    const s = allSchemas.find((x) => x.id.toLowerCase() === schemaId.toLowerCase());
    if (!s) throw fail('ROLLCALL_SCHEMA_NOT_FOUND', `Schema '${schemaId}' not found.`);
    return reply.type(SCIM_CONTENT_TYPE).send(schemaResource(ctxOf(req).baseUrl, s));
  });
  app.get('/ResourceTypes', async (req, reply) => {
    const base = ctxOf(req).baseUrl;
    const all = resourceTypes.map((rt) => resourceTypeResource(base, rt));
    return reply.type(SCIM_CONTENT_TYPE).send(listResponse(all, all.length, 1));
  });
  app.get('/ResourceTypes/:typeId', async (req, reply) => {
    const { typeId } = req.params as { typeId: string };
    const rt = resourceTypes.find((x) => x.id.toLowerCase() === typeId.toLowerCase());
    if (!rt) throw fail('ROLLCALL_RESOURCE_TYPE_NOT_FOUND', `Resource type '${typeId}' not found.`);
    return reply.type(SCIM_CONTENT_TYPE).send(resourceTypeResource(ctxOf(req).baseUrl, rt));
  });
  app.all('/Bulk', async () => {
    throw fail('ROLLCALL_BULK_NOT_SUPPORTED', 'Bulk operations are not supported (ServiceProviderConfig: bulk.supported = false).');
  });
  app.all('/Me', async () => {
    throw fail('ROLLCALL_ME_NOT_SUPPORTED', '/Me is not supported: connection tokens do not identify a user.');
  });
}
