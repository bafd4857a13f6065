/**
 * The domain's refusals (directory/ and events/) each carry their own catalogue
 * code: through SCIM requests where an IdP meets them, through the library calls
 * the CLI and admin API make otherwise. Status and scimType come with the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, scimClient, type TestApp, type ScimClient, type TestConnection } from '../support/app.js';
import { hasCode } from '../../src/scim/errors.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
let plain: ScimClient;
let strictLanguage: ScimClient;
let strict: ScimClient;
let strictConn: TestConnection;
let strictOrg = '';
let userId = '';
let otherUserId = '';
let groupId = '';

beforeAll(async () => {
  t = await startTestApp();
  // Keyed by externalId, so that a taken externalId has its own refusal (with the default userName key two users may share one).
  plain = scimClient(t.app, await t.connection('Plain', { settings: { mappingKey: 'externalId' } }));
  strictLanguage = scimClient(t.app, await t.connection('Strict language', { settings: { strictLanguage: true } }));
  strictConn = await t.connection('Strict', {
    settings: { domains: ['acme.com'], mappingKey: 'userName', lockMappingKey: true, exclusiveGroups: true },
  });
  strict = scimClient(t.app, strictConn);
  strictOrg = strictConn.organizationId ?? '';
  userId = (await plain.post('/Users', { schemas: [USER], userName: 'ada@example.com', externalId: 'ext-ada' })).body.id;
  otherUserId = (await plain.post('/Users', { schemas: [USER], userName: 'bob@example.com' })).body.id;
  groupId = (await plain.post('/Groups', { schemas: [GROUP], displayName: 'Staff' })).body.id;
});
afterAll(async () => {
  await t.close();
});

const codeOf = (body: Record<string, unknown>) => (body['urn:rollcall:params:scim:api:messages:2.0:Error'] as { code?: string } | undefined)?.code;

describe('SCIM requests', () => {
  const cases: [string, () => ReturnType<ScimClient['get']>, string][] = [
    ['unknown user', () => plain.get('/Users/00000000-0000-4000-8000-000000000000'), 'ROLLCALL_USER_NOT_FOUND'],
    ['unknown group', () => plain.get('/Groups/00000000-0000-4000-8000-000000000000'), 'ROLLCALL_GROUP_NOT_FOUND'],
    ['userName taken', () => plain.post('/Users', { schemas: [USER], userName: 'ADA@example.com' }), 'ROLLCALL_USERNAME_TAKEN'],
    ['externalId taken', () => plain.post('/Users', { schemas: [USER], userName: 'ada2@example.com', externalId: 'ext-ada' }), 'ROLLCALL_EXTERNAL_ID_TAKEN'],
    ['group name taken', () => plain.post('/Groups', { schemas: [GROUP], displayName: 'staff' }), 'ROLLCALL_GROUP_NAME_TAKEN'],
    ['a group as a member', () => plain.patch(`/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: groupId }] }] }), 'ROLLCALL_NESTED_GROUP'],
    [
      'a member that is no user',
      () => plain.patch(`/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: '00000000-0000-4000-8000-000000000000' }] }] }),
      'ROLLCALL_MEMBER_NOT_FOUND',
    ],
    ['a stale If-Match', () => plain.put(`/Users/${userId}`, { schemas: [USER], userName: 'ada@example.com' }, { 'if-match': 'W/"999"' }), 'ROLLCALL_VERSION_MISMATCH'],
    ['a domain that is not verified', () => strict.post('/Users', { schemas: [USER], userName: 'eve@elsewhere.org' }), 'ROLLCALL_DOMAIN_NOT_VERIFIED'],
    ['an address without a domain', () => strict.post('/Users', { schemas: [USER], userName: 'eve@acme.com', emails: [{ value: 'eve' }] }), 'ROLLCALL_EMAIL_WITHOUT_DOMAIN'],
    ['a collective mailbox', () => plain.post('/Users', { schemas: [USER], userName: 'info@example.com' }), 'ROLLCALL_COLLECTIVE_ADDRESS'],
    ['an unsupported language (strictLanguage)', () => strictLanguage.post('/Users', { schemas: [USER], userName: 'cy@example.com', preferredLanguage: 'xx-not-a-tag-at-all' }), 'ROLLCALL_INVALID_LANGUAGE'],
  ];
  it.each(cases)('%s', async (_name, send, code) => {
    const r = await send();
    expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
    expect(codeOf(r.body)).toBe(code);
  });

  it('a locked mapping key and an exclusive group', async () => {
    const u = await strict.post('/Users', { schemas: [USER], userName: 'dan@acme.com' });
    expect(u.status).toBe(201);
    const rename = await strict.patch(`/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'daniel@acme.com' }] });
    expect(codeOf(rename.body)).toBe('ROLLCALL_MAPPING_KEY_LOCKED');
    const one = await strict.post('/Groups', { schemas: [GROUP], displayName: 'One', members: [{ value: u.body.id }] });
    expect(one.status).toBe(201);
    const two = await strict.post('/Groups', { schemas: [GROUP], displayName: 'Two', members: [{ value: u.body.id }] });
    expect(codeOf(two.body)).toBe('ROLLCALL_EXCLUSIVE_GROUP');
  });
});

describe('library calls (CLI, admin API, embedding)', () => {
  const refusal = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  it('organisations and connections', async () => {
    const rc = t.rc;
    expect(hasCode(await refusal(rc.connections.createOrganization('Acme', 'not a plan!')), 'ROLLCALL_INVALID_PLAN')).toBe(true);
    expect(hasCode(await refusal(rc.connections.createOrganization('  ', 'enterprise')), 'ROLLCALL_NAME_REQUIRED')).toBe(true);
    expect(hasCode(await refusal(rc.connections.setPlan('nope', 'enterprise')), 'ROLLCALL_ORGANIZATION_NOT_FOUND')).toBe(true);
    expect(hasCode(await refusal(rc.connections.configure('nope', {})), 'ROLLCALL_CONNECTION_NOT_FOUND')).toBe(true);
    expect(hasCode(await refusal(rc.connections.configure(strictConn.id, { retentionDays: -1 })), 'ROLLCALL_INVALID_SETTINGS')).toBe(true);
    expect(hasCode(await refusal(rc.connections.create({ name: 'Second', organizationId: strictOrg })), 'ROLLCALL_ORGANIZATION_HAS_SCIM_CONNECTION')).toBe(true);
  });

  it('CSV import', async () => {
    const rc = t.rc;
    expect(hasCode(await refusal(rc.importCsv(strictOrg, 'email\na@acme.com\n')), 'ROLLCALL_CSV_IMPORT_LOCKED')).toBe(true);
    const org = await rc.connections.createOrganization('CSV customer', 'basic');
    expect(hasCode(await refusal(rc.importCsv(org.id, '')), 'ROLLCALL_CSV_UNREADABLE')).toBe(true);
    expect(hasCode(await refusal(rc.importCsv(org.id, 'first name,last name\nAda,Lovelace\n')), 'ROLLCALL_CSV_NO_EMAIL_COLUMN')).toBe(true);
    const report = await rc.importCsv(org.id, 'first name,e-mail\nAda,\n');
    expect(report.refused).toHaveLength(1);
    const imported = await rc.connections.connectionsOf(org.id);
    const csv = imported.find((c) => c.kind !== 'scim');
    expect(csv).toBeDefined();
    expect(hasCode(await refusal(rc.connections.rotateToken(csv!.id)), 'ROLLCALL_CONNECTION_HAS_NO_TOKEN')).toBe(true);
  });

  it('webhooks and the feed', async () => {
    const rc = t.rc;
    const org = strictOrg;
    expect(hasCode(await refusal(rc.webhooks.add(org, { url: 'ftp://example.com/hook' })), 'ROLLCALL_INVALID_WEBHOOK_URL')).toBe(true);
    expect(hasCode(await refusal(rc.webhooks.add(org, { url: 'https://example.com/hook', events: ['user.exploded'] })), 'ROLLCALL_INVALID_EVENT_TYPES')).toBe(true);
    expect(hasCode(await refusal(rc.webhooks.deliveries('nope')), 'ROLLCALL_WEBHOOK_NOT_FOUND')).toBe(true);
    const hook = await rc.webhooks.add(org, { url: 'https://example.com/hook' });
    expect(hasCode(await refusal(rc.webhooks.redeliver(hook.id, 'nope')), 'ROLLCALL_EVENT_NOT_FOUND')).toBe(true);
    expect(hasCode(await refusal(rc.events.feed({ limit: 0 })), 'ROLLCALL_INVALID_LIMIT')).toBe(true);
  });
});
