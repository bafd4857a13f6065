/**
 * The store refuses filters and sorts it cannot run with a catalogue code for each
 * cause, so callers (e.g. POST /.search) decide on the code, never on the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp, type ScimClient } from '../support/app.js';

let t: TestApp;
let scim: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  scim = scimClient(t.app, await t.connection());
});
afterAll(async () => {
  await t.close();
});

const code = (body: Record<string, unknown>) => (body['urn:rollcall:params:scim:api:messages:2.0:Error'] as { code: string }).code;

describe('store refusals carry their own codes', () => {
  it.each([
    ['/Users', 'nosuch eq "x"', 'ROLLCALL_FILTER_UNKNOWN_ATTRIBUTE'],
    ['/Users', 'groups.$ref eq "x"', 'ROLLCALL_UNFILTERABLE_ATTRIBUTE'],
    ['/Groups', 'members.$ref eq "x"', 'ROLLCALL_UNFILTERABLE_ATTRIBUTE'],
    ['/Users', 'name eq "x"', 'ROLLCALL_FILTER_NEEDS_SUB_ATTRIBUTE'],
    ['/Users', 'active gt true', 'ROLLCALL_FILTER_OPERATOR_MISMATCH'],
    ['/Users', 'active eq "yes"', 'ROLLCALL_FILTER_VALUE_MISMATCH'],
    ['/Users', 'meta.created gt "yesterday"', 'ROLLCALL_FILTER_VALUE_MISMATCH'],
    ['/Users', 'userName co null', 'ROLLCALL_FILTER_OPERATOR_MISMATCH'],
    ['/Users', 'userName[value eq "x"]', 'ROLLCALL_FILTER_NOT_MULTI_VALUED'],
    ['/Users', Array.from({ length: 501 }, (_, i) => `id eq "${i}"`).join(' or '), 'ROLLCALL_FILTER_TOO_COMPLEX'],
    ['/Groups', 'nosuch pr', 'ROLLCALL_FILTER_UNKNOWN_ATTRIBUTE'],
  ])('%s with the filter for %s', async (path, filter, expected) => {
    const r = await scim.get(`${path}?filter=${encodeURIComponent(filter)}`);
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidFilter');
    expect(code(r.body)).toBe(expected);
  });

  it.each([
    ['nosuch', 'ROLLCALL_UNKNOWN_SORT_ATTRIBUTE'],
    ['name', 'ROLLCALL_UNSORTABLE_ATTRIBUTE'],
    ['phoneNumbers', 'ROLLCALL_UNSORTABLE_ATTRIBUTE'],
  ])('/Users?sortBy=%s', async (sortBy, expected) => {
    const r = await scim.get(`/Users?sortBy=${sortBy}`);
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(code(r.body)).toBe(expected);
  });
});
