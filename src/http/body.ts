/**
 * Request body parsing for SCIM: application/scim+json and application/json (Okta
 * sends the latter), parsed with prototype-poisoning protection, errors as SCIM
 * invalidSyntax. Other media types are refused with 415 by Fastify itself.
 */
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { fail } from '../scim/errors.js';

export function registerJsonBodies(app: FastifyInstance): void {
  // Only JSON is SCIM: Fastify's built-in text/plain parser would let other bodies through.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch (e) {
      done(fail('ROLLCALL_INVALID_JSON', `The request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });
}
