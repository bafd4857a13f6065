/**
 * A Microsoft Entra ID provisioning cycle replayed with the exact request shapes
 * the Entra provisioning service sends (see /work/shared/README.md), asserting
 * what Rollcall STORED after each step by reading it back (GET and list filters).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL, scimClient, startTestApp, type ScimClient, type TestApp, type TestConnection } from '../support/app.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ENTERPRISE_TYPO = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User';
const ADSCIM_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** Entra encodes the filter in the query string. */
const filter = (f: string) => `filter=${encodeURIComponent(f)}`;
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

let t: TestApp;
let conn: TestConnection;
let c: ScimClient;

beforeAll(async () => {
  t = await startTestApp();
  conn = await t.connection('Entra ID');
  c = scimClient(t.app, conn);
});
afterAll(async () => {
  await t?.close();
});

/** The user-create body exactly as the Entra provisioning service builds it. */
function entraUserBody(tag: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [CORE_USER, ENTERPRISE],
    externalId: `ext-${tag}`,
    userName: `Test_User_${tag}@testuser.com`,
    active: true,
    emails: [{ primary: true, type: 'work', value: `Test_User_${tag}@testuser.com` }],
    meta: { resourceType: 'User' },
    name: { formatted: `Given${tag} Family${tag}`, familyName: `Family${tag}`, givenName: `Given${tag}` },
    roles: [],
    ...extra,
  };
}

async function createUser(tag: string, extra: Record<string, unknown> = {}) {
  const res = await c.post('/Users', entraUserBody(tag, extra));
  expect(res.status, res.text).toBe(201);
  return res.body as any;
}

async function getUser(id: string) {
  const res = await c.get(`/Users/${id}`);
  expect(res.status, res.text).toBe(200);
  return res.body as any;
}

async function findUsers(f: string, extra = '') {
  const res = await c.get(`/Users?${filter(f)}${extra}`);
  expect(res.status, res.text).toBe(200);
  return res.body as any;
}

async function membersOf(groupId: string): Promise<string[]> {
  const res = await c.get(`/Groups/${groupId}`);
  expect(res.status, res.text).toBe(200);
  return ((res.body.members ?? []) as any[]).map((m) => m.value).sort();
}

describe('Entra ID: Test Connection', () => {
  it('GET /Users?filter=userName eq "<random GUID>" answers 200 with an empty ListResponse', async () => {
    const res = await c.get(`/Users?${filter(`userName eq "${randomUUID()}"`)}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual([LIST]);
    expect(res.body.totalResults).toBe(0);
    expect(res.body.Resources).toEqual([]);
  });

  it('also works on the lower-case /users path Entra has been seen calling', async () => {
    const res = await c.get(`/users?${filter(`userName eq "${randomUUID()}"`)}`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(0);
    expect(res.body.Resources).toEqual([]);
  });
});

describe('Entra ID: create and look up users', () => {
  it('creates a user from the exact Entra body and stores every attribute it carries', async () => {
    const created = await createUser('create1');
    expect(created.id).toEqual(expect.any(String));
    expect(created.schemas).toContain(CORE_USER);

    const u = await getUser(created.id);
    expect(u.userName).toBe('Test_User_create1@testuser.com');
    expect(u.externalId).toBe('ext-create1');
    expect(u.active).toBe(true);
    expect(u.emails).toEqual([{ primary: true, type: 'work', value: 'Test_User_create1@testuser.com' }]);
    expect(u.name).toEqual({ formatted: 'Givencreate1 Familycreate1', familyName: 'Familycreate1', givenName: 'Givencreate1' });
    // roles: [] is "unassigned": not stored, not returned as an empty array.
    expect(u.roles).toBeUndefined();
    expect(u.meta.resourceType).toBe('User');
    expect(u.meta.location).toBe(`${PUBLIC_URL}${conn.base}/Users/${created.id}`);
  });

  it('finds the user by userName eq (any case), by unquoted externalId eq, and by id eq', async () => {
    const created = await createUser('lookup1');

    const byName = await findUsers('userName eq "Test_User_lookup1@testuser.com"');
    expect(byName.totalResults).toBe(1);
    expect(byName.Resources.map((r: any) => r.id)).toEqual([created.id]);

    const byNameUpper = await findUsers('userName eq "TEST_USER_LOOKUP1@TESTUSER.COM"');
    expect(byNameUpper.Resources.map((r: any) => r.id)).toEqual([created.id]);

    // Entra sends the externalId unquoted: `externalId eq jyoung`.
    await createUser('jy', { externalId: 'jyoung', userName: 'jyoung@testuser.com' });
    const byExt = await findUsers('externalId eq jyoung');
    expect(byExt.totalResults).toBe(1);
    expect(byExt.Resources[0].userName).toBe('jyoung@testuser.com');
    expect(byExt.Resources[0].externalId).toBe('jyoung');

    const byExtQuoted = await findUsers('externalId eq "ext-lookup1"');
    expect(byExtQuoted.Resources.map((r: any) => r.id)).toEqual([created.id]);

    const byId = await findUsers(`id eq "${created.id}"`);
    expect(byId.totalResults).toBe(1);
    expect(byId.Resources[0].userName).toBe('Test_User_lookup1@testuser.com');

    const none = await findUsers(`id eq "${randomUUID()}"`);
    expect(none.totalResults).toBe(0);
    expect(none.Resources).toEqual([]);
  });

  it('treats null-valued attributes as unassigned and stores the enterprise extension', async () => {
    const created = await createUser('nulls', {
      nickName: null,
      title: null,
      displayName: 'Null Tester',
      phoneNumbers: null,
      name: { formatted: 'N T', familyName: 'T', givenName: 'N', middleName: null },
      [ENTERPRISE]: { employeeNumber: '1001', department: null, costCenter: 'CC-1' },
    });
    const u = await getUser(created.id);
    expect(u).not.toHaveProperty('nickName');
    expect(u).not.toHaveProperty('title');
    expect(u).not.toHaveProperty('phoneNumbers');
    expect(u.displayName).toBe('Null Tester');
    expect(u.name).toEqual({ formatted: 'N T', familyName: 'T', givenName: 'N' });
    expect(u.schemas).toContain(ENTERPRISE);
    expect(u[ENTERPRISE]).toEqual({ employeeNumber: '1001', costCenter: 'CC-1' });
  });

  it('accepts the mistyped enterprise URN (…enterprise:2.0User) and stores under the real URN', async () => {
    const res = await c.post('/Users', {
      schemas: [CORE_USER, ENTERPRISE_TYPO],
      externalId: 'typo-ext',
      userName: 'typo@testuser.com',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'typo@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Ty Po', familyName: 'Po', givenName: 'Ty' },
      roles: [],
      [ENTERPRISE_TYPO]: { department: 'Typos', employeeNumber: '42' },
    });
    expect(res.status, res.text).toBe(201);
    const u = await getUser(res.body.id);
    expect(u.schemas).toContain(ENTERPRISE);
    expect(u.schemas).not.toContain(ENTERPRISE_TYPO);
    expect(u[ENTERPRISE]).toEqual({ department: 'Typos', employeeNumber: '42' });
    expect(u[ENTERPRISE_TYPO]).toBeUndefined();

    const byDept = await findUsers(`${ENTERPRISE}:department eq "Typos"`);
    expect(byDept.Resources.map((r: any) => r.id)).toEqual([res.body.id]);
  });

  it('reads capitalised keys inside values (Primary, Type, Value, Department)', async () => {
    const res = await c.post('/Users', {
      schemas: [CORE_USER, ENTERPRISE],
      userName: 'caps@testuser.com',
      active: 'True',
      emails: [{ Primary: true, Type: 'work', Value: 'caps@testuser.com' }],
      [ENTERPRISE]: { Department: 'Caps' },
    });
    expect(res.status, res.text).toBe(201);
    const u = await getUser(res.body.id);
    expect(u.active).toBe(true);
    expect(u.emails).toEqual([{ primary: true, type: 'work', value: 'caps@testuser.com' }]);
    expect(u[ENTERPRISE]).toEqual({ department: 'Caps' });
  });
});

describe('Entra ID: update users', () => {
  it('applies several capitalised Replace ops and an Add of nickName', async () => {
    const created = await createUser('upd1', { displayName: 'Before', [ENTERPRISE]: { employeeNumber: '100' } });
    const res = await c.patch(
      `/Users/${created.id}`,
      patch(
        { op: 'Replace', path: 'displayName', value: 'After Display' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updated.upd1@testuser.com' },
        { op: 'Replace', path: 'name.givenName', value: 'NewGiven' },
        { op: 'Replace', path: 'name.familyName', value: 'NewFamily' },
        { op: 'Replace', path: 'externalId', value: 'ext-upd1-new' },
        { op: 'Replace', path: `${ENTERPRISE}:employeeNumber`, value: '200' },
        { op: 'Add', path: 'nickName', value: 'Nicky' },
      ),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.id).toBe(created.id);
    expect(res.body.displayName).toBe('After Display');

    const u = await getUser(created.id);
    expect(u.displayName).toBe('After Display');
    expect(u.emails).toEqual([{ primary: true, type: 'work', value: 'updated.upd1@testuser.com' }]);
    expect(u.name.givenName).toBe('NewGiven');
    expect(u.name.familyName).toBe('NewFamily');
    expect(u.name.formatted).toBe('Givenupd1 Familyupd1');
    expect(u.externalId).toBe('ext-upd1-new');
    expect(u[ENTERPRISE].employeeNumber).toBe('200');
    expect(u.nickName).toBe('Nicky');
    expect(u.userName).toBe('Test_User_upd1@testuser.com');
    expect(u.active).toBe(true);

    // Lookups follow the stored values.
    expect((await findUsers('externalId eq "ext-upd1-new"')).Resources.map((r: any) => r.id)).toEqual([created.id]);
    expect((await findUsers('externalId eq "ext-upd1"')).totalResults).toBe(0);
    expect((await findUsers('emails.value eq "updated.upd1@testuser.com"')).Resources.map((r: any) => r.id)).toEqual([created.id]);
    expect((await findUsers('emails eq "Test_User_upd1@testuser.com"')).totalResults).toBe(0);
    expect((await findUsers('displayName eq "after display"')).Resources.map((r: any) => r.id)).toEqual([created.id]);
  });

  it('sets the manager from a bare id on the URN-qualified path', async () => {
    const boss = await createUser('boss1');
    const emp = await createUser('emp1');
    const res = await c.patch(`/Users/${emp.id}`, patch({ op: 'Add', path: `${ENTERPRISE}:manager`, value: boss.id }));
    expect(res.status, res.text).toBe(200);
    const u = await getUser(emp.id);
    expect(u.schemas).toContain(ENTERPRISE);
    expect(u[ENTERPRISE].manager.value).toBe(boss.id);

    const byManager = await findUsers(`${ENTERPRISE}:manager.value eq "${boss.id}"`);
    expect(byManager.Resources.map((r: any) => r.id)).toEqual([emp.id]);
  });

  it('sets the manager from the [{"$ref","value"}] array on the bare "manager" path', async () => {
    const boss = await createUser('boss2');
    const emp = await createUser('emp2', { [ENTERPRISE]: { employeeNumber: '7' } });
    const ref = `${PUBLIC_URL}${conn.base}/Users/${boss.id}`;
    const res = await c.patch(`/Users/${emp.id}`, patch({ op: 'Add', path: 'manager', value: [{ $ref: ref, value: boss.id }] }));
    expect(res.status, res.text).toBe(200);
    const u = await getUser(emp.id);
    expect(u[ENTERPRISE].manager.value).toBe(boss.id);
    expect(u[ENTERPRISE].employeeNumber).toBe('7');
    // manager is an extension attribute, never a core one
    expect(u.manager).toBeUndefined();

    // and a later change of manager replaces it
    const boss3 = await createUser('boss3');
    const res2 = await c.patch(`/Users/${emp.id}`, patch({ op: 'Add', path: `${ENTERPRISE}:manager`, value: boss3.id }));
    expect(res2.status, res2.text).toBe(200);
    expect((await getUser(emp.id))[ENTERPRISE].manager.value).toBe(boss3.id);
  });

  it('applies the newer no-path replace with dotted keys in the value object', async () => {
    const created = await createUser('nopath', { displayName: 'Old', [ENTERPRISE]: { employeeNumber: '1', department: 'Keep' } });
    const res = await c.patch(
      `/Users/${created.id}`,
      patch({
        op: 'replace',
        value: { displayName: 'New Name', 'name.givenName': 'Newgiven', [`${ENTERPRISE}:employeeNumber`]: '999' },
      }),
    );
    expect(res.status, res.text).toBe(200);
    const u = await getUser(created.id);
    expect(u.displayName).toBe('New Name');
    expect(u.name.givenName).toBe('Newgiven');
    expect(u.name.familyName).toBe('Familynopath');
    expect(u[ENTERPRISE].employeeNumber).toBe('999');
    expect(u[ENTERPRISE].department).toBe('Keep');
    // dotted keys are paths, never stored as literal keys
    expect(u['name.givenName']).toBeUndefined();
    expect(u[`${ENTERPRISE}:employeeNumber`]).toBeUndefined();
  });

  it('disables with the default {"op":"Replace","path":"active","value":"False"}: kept, inactive, still listed', async () => {
    const created = await createUser('dis1');
    const res = await c.patch(`/Users/${created.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.active).toBe(false);

    const u = await getUser(created.id);
    expect(u.active).toBe(false);
    expect(u.userName).toBe('Test_User_dis1@testuser.com');

    const listed = await findUsers('userName eq "Test_User_dis1@testuser.com"');
    expect(listed.totalResults).toBe(1);
    expect(listed.Resources[0].active).toBe(false);
    const inactive = await findUsers('active eq false');
    expect(inactive.Resources.map((r: any) => r.id)).toContain(created.id);
    const activeOnes = await findUsers('active eq true');
    expect(activeOnes.Resources.map((r: any) => r.id)).not.toContain(created.id);
  });

  it('disables with the newer {"op":"replace","path":"active","value":false} and re-enables', async () => {
    const created = await createUser('dis2');
    const res = await c.patch(`/Users/${created.id}`, patch({ op: 'replace', path: 'active', value: false }));
    expect(res.status, res.text).toBe(200);
    expect((await getUser(created.id)).active).toBe(false);
    expect((await findUsers(`id eq "${created.id}"`)).Resources[0].active).toBe(false);

    const back = await c.patch(`/Users/${created.id}`, patch({ op: 'Replace', path: 'active', value: 'True' }));
    expect(back.status, back.text).toBe(200);
    expect((await getUser(created.id)).active).toBe(true);
  });
});

describe('Entra ID: more update shapes', () => {
  it('Add/Replace through a value filter to an element that does not exist yet creates it', async () => {
    const created = await createUser('vf1');
    const res = await c.patch(
      `/Users/${created.id}`,
      patch(
        { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' },
        { op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0199' },
        { op: 'Replace', path: 'addresses[type eq "work"].streetAddress', value: '1 Main St' },
        { op: 'Replace', path: 'addresses[type eq "work"].locality', value: 'Springfield' },
      ),
    );
    expect(res.status, res.text).toBe(200);
    const u = await getUser(created.id);
    expect(u.phoneNumbers).toEqual(
      expect.arrayContaining([
        { type: 'work', value: '+1 555 0100' },
        { type: 'mobile', value: '+1 555 0199' },
      ]),
    );
    expect(u.phoneNumbers).toHaveLength(2);
    expect(u.addresses).toEqual([{ type: 'work', streetAddress: '1 Main St', locality: 'Springfield' }]);

    // a second Replace through the same filter updates in place
    const again = await c.patch(`/Users/${created.id}`, patch({ op: 'Replace', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0101' }));
    expect(again.status, again.text).toBe(200);
    const u2 = await getUser(created.id);
    expect(u2.phoneNumbers).toHaveLength(2);
    expect(u2.phoneNumbers.find((p: any) => p.type === 'work').value).toBe('+1 555 0101');
  });

  it('only the work email changes when the user has several', async () => {
    const created = await createUser('twoemails', {
      emails: [
        { primary: true, type: 'work', value: 'work.two@testuser.com' },
        { type: 'home', value: 'home.two@example.com' },
      ],
    });
    const res = await c.patch(`/Users/${created.id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new.work.two@testuser.com' }));
    expect(res.status, res.text).toBe(200);
    const u = await getUser(created.id);
    expect(u.emails).toEqual([
      { primary: true, type: 'work', value: 'new.work.two@testuser.com' },
      { type: 'home', value: 'home.two@example.com' },
    ]);
    expect((await findUsers('emails[type eq "work" and value eq "new.work.two@testuser.com"]')).Resources.map((r: any) => r.id)).toEqual([created.id]);
    expect((await findUsers('emails.value eq "home.two@example.com"')).Resources.map((r: any) => r.id)).toEqual([created.id]);
  });

  it('adds app roles with string booleans', async () => {
    const created = await createUser('roles1');
    const res = await c.patch(
      `/Users/${created.id}`,
      patch({ op: 'Add', path: 'roles', value: [{ primary: 'False', type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' }] }),
    );
    expect(res.status, res.text).toBe(200);
    expect((await getUser(created.id)).roles).toEqual([{ primary: false, type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' }]);
  });

  it('removes the manager', async () => {
    const boss = await createUser('boss9');
    const emp = await createUser('emp9', { [ENTERPRISE]: { department: 'Ops', manager: { value: boss.id } } });
    expect((await getUser(emp.id))[ENTERPRISE].manager.value).toBe(boss.id);
    const res = await c.patch(`/Users/${emp.id}`, patch({ op: 'Remove', path: `${ENTERPRISE}:manager` }));
    expect(res.status, res.text).toBe(200);
    const u = await getUser(emp.id);
    expect(u[ENTERPRISE]).toEqual({ department: 'Ops' });
  });

  it('a PATCH that changes nothing still answers 200 and keeps the version', async () => {
    const created = await createUser('noop1', { displayName: 'Same' });
    const res = await c.patch(`/Users/${created.id}`, patch({ op: 'Replace', path: 'displayName', value: 'Same' }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.meta.version).toBe(created.meta.version);
  });
});

describe('Entra ID: groups', () => {
  async function createGroup(name: string) {
    const res = await c.post('/Groups', {
      externalId: `gext-${name}`,
      displayName: name,
      meta: { resourceType: 'Group' },
      schemas: [CORE_GROUP, ADSCIM_GROUP],
    });
    expect(res.status, res.text).toBe(201);
    return res.body as any;
  }

  it('creates a group with the ADSCIM schema URN and finds it by displayName eq with excludedAttributes=members', async () => {
    const g = await createGroup('Entra Group One');
    expect(g.displayName).toBe('Entra Group One');

    const got = await c.get(`/Groups/${g.id}`);
    expect(got.status).toBe(200);
    expect(got.body.displayName).toBe('Entra Group One');
    expect(got.body.externalId).toBe('gext-Entra Group One');
    expect(got.body.meta.resourceType).toBe('Group');

    const list = await c.get(`/Groups?excludedAttributes=members&${filter('displayName eq "Entra Group One"')}`);
    expect(list.status, list.text).toBe(200);
    expect(list.body.totalResults).toBe(1);
    expect(list.body.Resources[0].id).toBe(g.id);
    expect(list.body.Resources[0]).not.toHaveProperty('members');

    const none = await c.get(`/Groups?excludedAttributes=members&${filter('displayName eq "No Such Group"')}`);
    expect(none.status).toBe(200);
    expect(none.body.totalResults).toBe(0);
    expect(none.body.Resources).toEqual([]);
  });

  it('adds and removes members in all the shapes Entra sends; GET ?excludedAttributes=members has no members key', async () => {
    const g = await createGroup('Entra Group Members');
    const u1 = await createUser('gm1');
    const u2 = await createUser('gm2');
    const u3 = await createUser('gm3');

    const add = await c.patch(
      `/Groups/${g.id}`,
      patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: u1.id }] }, { op: 'Add', path: 'members', value: [{ $ref: null, value: u2.id }] }),
    );
    expect(add.status, add.text).toBe(204);
    expect(add.text).toBe('');
    expect(await membersOf(g.id)).toEqual([u1.id, u2.id].sort());

    const noMembers = await c.get(`/Groups/${g.id}?excludedAttributes=members`);
    expect(noMembers.status).toBe(200);
    expect(noMembers.body).not.toHaveProperty('members');
    expect(noMembers.body.displayName).toBe('Entra Group Members');

    // Entra checks membership with id eq … and members eq …
    const check = await c.get(`/Groups?excludedAttributes=members&${filter(`id eq "${g.id}" and members eq "${u1.id}"`)}`);
    expect([200, 400]).toContain(check.status);
    if (check.status === 200) expect(check.body.totalResults).toBe(1);

    const add3 = await c.patch(`/Groups/${g.id}`, patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: u3.id }] }));
    expect(add3.status, add3.text).toBe(204);
    expect(await membersOf(g.id)).toEqual([u1.id, u2.id, u3.id].sort());

    const rm = await c.patch(`/Groups/${g.id}`, patch({ op: 'Remove', path: 'members', value: [{ value: u1.id }] }));
    expect(rm.status, rm.text).toBe(204);
    expect(await membersOf(g.id)).toEqual([u2.id, u3.id].sort());

    const rm2 = await c.patch(`/Groups/${g.id}`, patch({ op: 'remove', path: `members[value eq "${u2.id}"]` }));
    expect(rm2.status, rm2.text).toBe(204);
    expect(await membersOf(g.id)).toEqual([u3.id]);

    // a user's groups attribute follows
    expect(((await getUser(u3.id)).groups ?? []).map((x: any) => x.value)).toEqual([g.id]);
    expect((await getUser(u1.id)).groups ?? []).toEqual([]);
  });

  it('adds a member given as a bare id string (Microsoft reference collection)', async () => {
    const g = await createGroup('Entra Bare Id');
    const u = await createUser('bare1');
    const res = await c.patch(`/Groups/${g.id}`, patch({ op: 'Add', path: 'members', value: u.id }));
    expect(res.status, res.text).toBe(204);
    expect(await membersOf(g.id)).toEqual([u.id]);
  });

  it('renames a group with a capitalised Replace of displayName', async () => {
    const g = await createGroup('Entra Rename Me');
    const res = await c.patch(`/Groups/${g.id}`, patch({ op: 'Replace', path: 'displayName', value: 'Entra Renamed' }));
    expect(res.status, res.text).toBe(204);
    expect((await c.get(`/Groups/${g.id}`)).body.displayName).toBe('Entra Renamed');
    const list = await c.get(`/Groups?excludedAttributes=members&${filter('displayName eq "Entra Renamed"')}`);
    expect(list.body.Resources.map((r: any) => r.id)).toEqual([g.id]);
  });

  it('DELETE user: 204, then 404, gone from lists and from group members; DELETE group: 204 then 404', async () => {
    const g = await createGroup('Entra Delete Cycle');
    const keep = await createUser('keep1');
    const gone = await createUser('gone1');
    const add = await c.patch(
      `/Groups/${g.id}`,
      patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: keep.id }, { $ref: null, value: gone.id }] }),
    );
    expect(add.status, add.text).toBe(204);
    expect(await membersOf(g.id)).toEqual([keep.id, gone.id].sort());

    const del = await c.delete(`/Users/${gone.id}`);
    expect(del.status, del.text).toBe(204);
    expect(del.text).toBe('');

    const after = await c.get(`/Users/${gone.id}`);
    expect(after.status).toBe(404);
    expect(after.body.schemas).toEqual([ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    expect(after.body.status).toBe('404');

    expect((await findUsers('userName eq "Test_User_gone1@testuser.com"')).totalResults).toBe(0);
    expect((await findUsers(`id eq "${gone.id}"`)).totalResults).toBe(0);
    expect((await findUsers('externalId eq "ext-gone1"')).totalResults).toBe(0);
    const all = await c.get('/Users?count=1000');
    expect(all.body.Resources.map((r: any) => r.id)).not.toContain(gone.id);

    expect(await membersOf(g.id)).toEqual([keep.id]);
    const byMember = await c.get(`/Groups?${filter(`members eq "${gone.id}"`)}`);
    if (byMember.status === 200) expect(byMember.body.totalResults).toBe(0);

    // a second DELETE of the same user is a 404
    expect((await c.delete(`/Users/${gone.id}`)).status).toBe(404);

    const delG = await c.delete(`/Groups/${g.id}`);
    expect(delG.status, delG.text).toBe(204);
    expect((await c.get(`/Groups/${g.id}`)).status).toBe(404);
    const glist = await c.get(`/Groups?excludedAttributes=members&${filter('displayName eq "Entra Delete Cycle"')}`);
    expect(glist.body.totalResults).toBe(0);
    // the member user is untouched and no longer lists the group
    const k = await getUser(keep.id);
    expect(k.groups ?? []).toEqual([]);
  });
});
