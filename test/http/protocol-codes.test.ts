/**
 * Every refusal of the SCIM protocol layer (scim/: filter and path syntax, PATCH,
 * resource validation, projections) carries its own catalogue code, reachable from
 * a real request. Status and scimType come from the code; this test pins the codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp, type ScimClient } from '../support/app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let t: TestApp;
let scim: ScimClient;
let userId = '';
let groupId = '';

beforeAll(async () => {
  t = await startTestApp();
  scim = scimClient(t.app, await t.connection());
  const u = await scim.post('/Users', { schemas: [USER], userName: 'ada@example.com', emails: [{ value: 'ada@example.com', type: 'work', primary: true }] });
  userId = u.body.id;
  const g = await scim.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Staff' });
  groupId = g.body.id;
});
afterAll(async () => {
  await t.close();
});

const codeOf = (body: Record<string, unknown>) => (body['urn:rollcall:params:scim:api:messages:2.0:Error'] as { code?: string } | undefined)?.code;
const patch = (ops: unknown[], extra: Record<string, unknown> = {}) => ({ schemas: [PATCH_OP], Operations: ops, ...extra });

type Case = [name: string, send: () => ReturnType<ScimClient['get']>, code: string];

const cases: Case[] = [
  ['filter syntax', () => scim.get(`/Users?filter=${encodeURIComponent('userName eq')}`), 'ROLLCALL_INVALID_FILTER_SYNTAX'],
  ['filter too long', () => scim.get(`/Users?filter=${encodeURIComponent(`userName eq "${'a'.repeat(10_001)}"`)}`), 'ROLLCALL_FILTER_TOO_LONG'],
  ['path syntax', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'emails[', value: 'x' }])), 'ROLLCALL_INVALID_PATH_SYNTAX'],
  ['path too long', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'a'.repeat(10_001), value: 'x' }])), 'ROLLCALL_PATH_TOO_LONG'],
  ['PATCH without Operations', () => scim.patch(`/Users/${userId}`, { schemas: [PATCH_OP] }), 'ROLLCALL_PATCH_INVALID_BODY'],
  ['PATCH with the wrong schema', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'nickName', value: 'x' }], { schemas: ['urn:example:wrong'] })), 'ROLLCALL_PATCH_SCHEMA_MISSING'],
  ['unknown op', () => scim.patch(`/Users/${userId}`, patch([{ op: 'move', path: 'nickName', value: 'x' }])), 'ROLLCALL_PATCH_UNKNOWN_OP'],
  ['add without value', () => scim.patch(`/Users/${userId}`, patch([{ op: 'add', path: 'nickName' }])), 'ROLLCALL_PATCH_VALUE_MISSING'],
  ['pathless add of a string', () => scim.patch(`/Users/${userId}`, patch([{ op: 'add', value: 'x' }])), 'ROLLCALL_PATCH_VALUE_NOT_AN_OBJECT'],
  [
    'two values for a value-filter path',
    () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'emails[type eq "work"]', value: [{ value: 'a@example.com' }, { value: 'b@example.com' }] }])),
    'ROLLCALL_PATCH_ONE_VALUE_EXPECTED',
  ],
  ['remove without path', () => scim.patch(`/Users/${userId}`, patch([{ op: 'remove' }])), 'ROLLCALL_PATCH_REMOVE_WITHOUT_PATH'],
  [
    'no value matches and none can be made',
    () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'emails[type eq "home" or type eq "other"].value', value: 'x@example.com' }])),
    'ROLLCALL_PATCH_NO_TARGET',
  ],
  ['unknown schema in a path', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'urn:example:nope:2.0', value: 'x' }])), 'ROLLCALL_PATCH_UNKNOWN_SCHEMA'],
  ['unknown attribute in a path', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'nosuch', value: 'x' }])), 'ROLLCALL_PATCH_UNKNOWN_ATTRIBUTE'],
  ['value filter on a single-valued attribute', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'userName[value eq "x"]', value: 'y' }])), 'ROLLCALL_PATCH_INVALID_PATH'],
  ['read-only attribute', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'id', value: 'x' }])), 'ROLLCALL_READ_ONLY_ATTRIBUTE'],
  ['removing a required attribute', () => scim.patch(`/Users/${userId}`, patch([{ op: 'remove', path: 'userName' }])), 'ROLLCALL_REQUIRED_ATTRIBUTE_MISSING'],
  ['too many operations', () => scim.patch(`/Users/${userId}`, patch(Array.from({ length: 1001 }, () => ({ op: 'replace', path: 'nickName', value: 'x' })))), 'ROLLCALL_PATCH_TOO_MANY_OPERATIONS'],
  ['a member sub-attribute path', () => scim.patch(`/Groups/${groupId}`, patch([{ op: 'replace', path: 'members.value', value: 'x' }])), 'ROLLCALL_PATCH_MEMBERS_PATH'],
  ['a members filter other than value eq', () => scim.patch(`/Groups/${groupId}`, patch([{ op: 'remove', path: 'members[display eq "x"]' }])), 'ROLLCALL_PATCH_MEMBERS_FILTER'],
  ['a member without value', () => scim.patch(`/Groups/${groupId}`, patch([{ op: 'add', path: 'members', value: [{ display: 'x' }] }])), 'ROLLCALL_MEMBER_WITHOUT_VALUE'],
  ['a body that is an array', () => scim.post('/Users', []), 'ROLLCALL_BODY_NOT_AN_OBJECT'],
  ['schemas not an array', () => scim.post('/Users', { schemas: USER, userName: 'bob@example.com' }), 'ROLLCALL_INVALID_SCHEMAS'],
  ['the core schema object inside itself', () => scim.post('/Users', { schemas: [USER], userName: 'cy@example.com', [USER]: { [USER]: { displayName: 'Cy' } } }), 'ROLLCALL_EXTENSION_NESTED'],
  ['a boolean that is not one', () => scim.post('/Users', { schemas: [USER], userName: 'di@example.com', active: 'maybe' }), 'ROLLCALL_ATTRIBUTE_TYPE_MISMATCH'],
  ['no userName', () => scim.post('/Users', { schemas: [USER], displayName: 'Eve' }), 'ROLLCALL_REQUIRED_ATTRIBUTE_MISSING'],
  ['attributes and excludedAttributes', () => scim.get('/Users?attributes=userName&excludedAttributes=emails'), 'ROLLCALL_ATTRIBUTES_AND_EXCLUDED'],
  ['an ordering operator on a boolean in a value filter', () => scim.patch(`/Users/${userId}`, patch([{ op: 'replace', path: 'emails[primary gt true].type', value: 'home' }])), 'ROLLCALL_FILTER_OPERATOR_MISMATCH'],
];

describe('protocol refusals carry their own codes', () => {
  it.each(cases)('%s', async (_name, send, code) => {
    const r = await send();
    expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
    expect(codeOf(r.body)).toBe(code);
  });
});
