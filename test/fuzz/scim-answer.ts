/**
 * What every answer of the SCIM API must look like, whatever was sent: never a 5xx,
 * and every 4xx a SCIM error document (RFC 7644 §3.12) whose status, catalogue code
 * and scimType agree with the catalogue. A 400 always carries a scimType (RFC 7644
 * Table 9 lists one for every kind of bad request); other statuses carry the one
 * their code defines (409 uniqueness) or none (404, 412, 413, 415 …).
 */
import { expect } from 'vitest';
import { CATALOGUE, ROLLCALL_ERROR_SCHEMA, SCIM_ERROR_SCHEMA, type ErrorCode } from '../../src/scim/errors.js';
import type { ScimResponse } from '../support/app.js';

const SCIM_TYPES = new Set(['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive']);

/** Asserts the SCIM shape of `res`; returns the catalogue code of a refusal. */
export function expectScimAnswer(res: ScimResponse, what: string): ErrorCode | undefined {
  const label = `${what} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, label).toBeLessThan(500);
  if (res.status < 400) return undefined;
  expect(String(res.headers['content-type']), label).toMatch(/^application\/scim\+json/);
  const body = res.body as Record<string, any>;
  expect(body?.schemas, label).toContain(SCIM_ERROR_SCHEMA);
  expect(body.status, label).toBe(String(res.status));
  expect(typeof body.detail, label).toBe('string');
  const code = body[ROLLCALL_ERROR_SCHEMA]?.code as ErrorCode;
  expect(Object.keys(CATALOGUE), label).toContain(code);
  const def: { status: number; scimType?: string } = CATALOGUE[code];
  expect(def.status, label).toBe(res.status);
  expect(body.scimType, label).toBe(def.scimType);
  if (res.status === 400) {
    expect(SCIM_TYPES.has(body.scimType), label).toBe(true);
  }
  return code;
}
