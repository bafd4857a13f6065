/**
 * Fuzzing PATCH (RFC 7644 §3.5.2). Pure part: the engine (scim/patch) applied to
 * generated canonical Users and Groups with generated operations — valid paths,
 * value filters, URNs, recased names, garbage — and values of every JSON shape.
 * It returns a result or refuses with a 400 that has a scimType, never anything
 * else; it never mutates its input; and what it returns is a canonical document
 * (POST/PUT normalisation leaves it as it is).
 *
 * HTTP part, on the backend this project runs on: the same operations sent as
 * PATCH requests are answered without 5xx, refusals are SCIM-shaped, and a 200
 * is what a GET returns afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatch } from '../../src/scim/patch.js';
import { normalizeResource, type Doc } from '../../src/scim/resource.js';
import { isRollcallError } from '../../src/scim/errors.js';
import { groupResourceType, userResourceType, type ResourceTypeDef } from '../../src/scim/schemas.js';
import { onPostgres } from '../support/databases.js';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';
import { expectScimAnswer } from './scim-answer.js';
import { recase } from './filter-gen.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1207);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const PURE_RUNS = { users: runs(15_000), groups: runs(5_000), bodies: runs(5_000) };
const HTTP_RUNS = { users: runs(400), groups: runs(150) };

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const RC = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const USER_PATHS = [
  'userName', 'displayName', 'nickName', 'title', 'active', 'name', 'name.givenName', 'name.familyName', 'name.formatted',
  'emails', 'emails.value', 'emails.type', 'emails.primary', 'emails.display', 'emails[type eq "work"]', 'emails[type eq "work"].value',
  'emails[type eq "work" and primary eq true]', 'emails[value co "@"].primary', 'emails[primary eq true]', 'emails[not (type eq "home")].type',
  'emails[type eq "work" or type eq "home"]', 'emails[value eq "a@x.com"]', 'phoneNumbers', 'phoneNumbers[type eq "mobile"].value',
  'addresses', 'addresses[type eq "work"].locality', 'addresses.postalCode', 'roles', 'roles[value eq "admin"]', 'entitlements', 'ims.value',
  'x509Certificates', 'x509Certificates[value eq "AAAA"]', 'photos[type eq "photo"].value', 'preferredLanguage', 'locale', 'timezone', 'profileUrl',
  'groups', 'groups.value', 'id', 'meta', 'meta.created', 'schemas', 'externalId', 'password', 'userType',
  ENT, `${ENT}:manager`, `${ENT}:manager.value`, `${ENT}:department`, `${ENT}:employeeNumber`, 'manager', 'department', 'employeeNumber',
  RC, `${RC}:gender`, `${RC}:academicDegree`, CORE_USER, `${CORE_USER}:userName`, `${CORE_USER}:name.givenName`,
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0User:department', 'urn:acme:ext:1.0', 'urn:acme:ext:1.0:thing',
  'nosuch', 'name.nosuch', 'emails[type eq "work"].nosuch', 'name[givenName eq "x"]', 'emails.value[type eq "x"]', 'emails[type eq]', 'emails[',
  'emails[type eq "work"]]', '', ' ', 'emails[value eq "x"].value.value', '__proto__', 'constructor', 'emails[type eq "work"].__proto__',
];
const GROUP_PATHS = [
  'displayName', 'members', 'members.value', 'members.display', 'members[value eq "ID"]', 'members[value eq "ID" or value eq "ID2"]',
  'members[display eq "x"]', 'members[value eq "ID"].display', 'members[value co "a"]', 'externalId', 'id', 'meta', CORE_GROUP,
  `${CORE_GROUP}:displayName`, `${CORE_GROUP}:members`, 'nosuch', 'members[', '', 'userName', ENT,
  // The paths clients use, again, so enough requests succeed.
  'displayName', 'members', 'members', 'members[value eq "ID"]', 'externalId',
];

/** Values of every JSON shape, plus the shapes SCIM attributes take. */
function valueArb(ids: () => string[]): fc.Arbitrary<unknown> {
  const id = fc.oneof(fc.constantFrom('nobody', 'x', ''), fc.nat(1000).map((i) => ids()[i % Math.max(1, ids().length)] ?? 'x'));
  const str = fc.oneof(fc.constantFrom('', ' ', 'x', 'a@x.com', 'A@X.COM', 'work', 'Work', 'home', 'True', 'false', '2024-03-01T10:00:00Z', 'AAAA', 'de-DE', 'ｆ', '😀'), fc.string({ maxLength: 8 }));
  const scalar = fc.oneof(str, fc.boolean(), fc.integer(), fc.double(), fc.constant(null));
  const subKey = fc.constantFrom('value', 'Value', 'type', 'primary', 'display', 'givenName', 'familyName', 'locality', '$ref', 'nosuch', '__proto__', 'members', 'id');
  const element = fc.dictionary(subKey, fc.oneof(scalar, id), { maxKeys: 4 });
  const member = fc.oneof(id.map((value) => ({ value })), id, fc.record({ value: id, display: str }, { requiredKeys: [] }), element);
  const topKey = fc.oneof(fc.constantFrom(...USER_PATHS, ...GROUP_PATHS), fc.constantFrom('userName', 'displayName').map((k) => recase(k, 0x5a5a)));
  return fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      { weight: 6, arbitrary: str },
      { weight: 2, arbitrary: fc.boolean() },
      scalar,
      element,
      fc.array(element, { maxLength: 4 }),
      fc.array(member, { maxLength: 4 }),
      fc.array(scalar, { maxLength: 3 }),
      fc.dictionary(topKey, tie('v'), { maxKeys: 4 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  })).v;
}

function pathArb(paths: string[], ids: () => string[]): fc.Arbitrary<unknown> {
  const known = fc.tuple(fc.constantFrom(...paths), fc.integer(), fc.nat(3)).map(([p, bits, k]) => {
    const withId = p.replace(/"ID2?"/g, () => JSON.stringify(ids()[bits % Math.max(1, ids().length)] ?? 'x'));
    return k === 0 ? recase(withId, bits) : withId;
  });
  return fc.oneof({ weight: 30, arbitrary: known }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, 7, ['emails'], {}) });
}

function operationArb(paths: string[], ids: () => string[]): fc.Arbitrary<unknown> {
  const op = fc.oneof({ weight: 30, arbitrary: fc.constantFrom('add', 'replace', 'remove', 'Add', 'REPLACE', 'Remove') }, { weight: 1, arbitrary: fc.constantFrom('move', '', 5, undefined) });
  const full = fc.record({ op, path: pathArb(paths, ids), value: valueArb(ids) });
  const partial = fc.record({ op, path: pathArb(paths, ids), value: valueArb(ids) }, { requiredKeys: ['op'] });
  return fc.oneof({ weight: 30, arbitrary: full }, { weight: 2, arbitrary: partial }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
}

function bodyArb(paths: string[], ids: () => string[]): fc.Arbitrary<unknown> {
  const ops = fc.array(operationArb(paths, ids), { minLength: 1, maxLength: 3 });
  const schemas = fc.oneof({ weight: 20, arbitrary: fc.constant([PATCH_OP]) }, { weight: 1, arbitrary: fc.constantFrom<unknown>([PATCH_OP.toUpperCase()], undefined, PATCH_OP, ['urn:other'], [1]) });
  return fc.oneof(
    { weight: 40, arbitrary: fc.tuple(schemas, ops).map(([s, Operations]) => (s === undefined ? { Operations } : { schemas: s, Operations })) },
    { weight: 1, arbitrary: fc.tuple(schemas, ops).map(([s, operations]) => ({ schemas: s, operations })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({ schemas: [PATCH_OP], Operations: [] }, { Operations: 'add' }, null, [], 'x') },
  );
}

/** Canonical documents to start from: normalised the way POST stores them. */
function userDocArb(): fc.Arbitrary<{ doc: Doc; externalId: string | undefined }> {
  return fc
    .record(
      {
        userName: fc.constantFrom('bjensen', 'Alice@Example.com', 'ж@x.ru'),
        displayName: fc.constantFrom('Babs', '', 'Ωmega'),
        externalId: fc.constantFrom('e1', 'E1'),
        active: fc.boolean(),
        name: fc.record({ givenName: fc.constantFrom('Barbara', 'b'), familyName: fc.constantFrom('Jensen', '') }, { requiredKeys: [] }),
        emails: fc.array(fc.record({ value: fc.constantFrom('a@x.com', 'A@X.COM', 'b@y.org', ''), type: fc.constantFrom('work', 'home', 'Work'), primary: fc.boolean() }, { requiredKeys: ['value'] }), { maxLength: 3 }),
        phoneNumbers: fc.array(fc.record({ value: fc.constantFrom('+1', '+2'), type: fc.constantFrom('mobile', 'work') }), { maxLength: 2 }),
        roles: fc.array(fc.record({ value: fc.constantFrom('admin', 'user') }), { maxLength: 2 }),
        [ENT]: fc.record({ department: fc.constantFrom('Sales', 'R&D'), manager: fc.record({ value: fc.constantFrom('m1', 'm2'), displayName: fc.constant('Boss') }) }, { requiredKeys: [] }),
      },
      { requiredKeys: ['userName'] },
    )
    .map((body) => {
      const n = normalizeResource(userResourceType, body);
      return { doc: n.doc, externalId: n.externalId };
    });
}

const groupDocArb = fc
  .record({ displayName: fc.constantFrom('Staff', 'ops', 'Ωmega'), externalId: fc.constantFrom('g1', 'G1') }, { requiredKeys: ['displayName'] })
  .map((body) => {
    const n = normalizeResource(groupResourceType, body);
    return { doc: n.doc, externalId: n.externalId };
  });

/** Outcomes per test, printed and checked so a generator that only produces refusals is noticed. */
const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

/** The engine's contract for one input. */
function checkPatch(rt: ResourceTypeDef, current: { doc: Doc; externalId: string | undefined }, body: unknown): void {
  const before = structuredClone(current);
  let result: ReturnType<typeof applyPatch> | undefined;
  try {
    result = applyPatch(rt, current, body);
  } catch (e) {
    if (!isRollcallError(e)) throw new Error(`not a catalogue error: ${(e as Error)?.stack ?? e}`);
    expect(e.status, `${e.code}: ${e.message}`).toBe(400);
    expect(e.scimType, `${e.code}: ${e.message}`).toBeDefined();
    count(e.code);
  }
  expect(current, 'the input document is not mutated').toEqual(before);
  if (!result) return;
  count(result.changes.length || result.memberOps.length ? 'changed' : 'unchanged');
  // What PATCH stores is what a PUT of it would store.
  const again = normalizeResource(rt, { ...result.doc, ...(result.externalId !== undefined ? { externalId: result.externalId } : {}) });
  expect(again.doc, 'a patched document is canonical').toEqual(result.doc);
  expect(again.externalId).toEqual(result.externalId);
  for (const c of result.changes) expect(c.before, c.path).not.toEqual(c.after);
}

function takeOutcomes(what: string): Map<string, number> {
  const taken = new Map(outcomes);
  outcomes.clear();
  console.log(`${what}: ${[...taken].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k.replace('ROLLCALL_', '')} ${n}`).join(', ')}`);
  return taken;
}

function reportOutcomes(what: string, minChanged: number): void {
  const taken = takeOutcomes(what);
  expect(taken.get('changed') ?? 0, 'enough PATCHes succeed and change something').toBeGreaterThanOrEqual(minChanged);
}

describe.skipIf(onPostgres)('PATCH engine fuzzing (pure)', () => {
  it(`${PURE_RUNS.users} generated PATCH bodies on generated users: a result or a 400 with a scimType`, () => {
    fc.assert(fc.property(userDocArb(), bodyArb(USER_PATHS, () => ['u1', 'u2']), (cur, body) => checkPatch(userResourceType, cur, body)), { numRuns: PURE_RUNS.users, seed: SEED });
    reportOutcomes('PATCH fuzz, users', PURE_RUNS.users * 0.1);
  });

  it('found by fuzzing: an empty string for a sub-attribute unassigns it, as POST does', () => {
    const cur = { doc: { userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' }, addresses: [{ type: 'work', locality: 'Berlin' }] }, externalId: undefined };
    const ops = [
      { op: 'add', path: 'addresses[type eq "home"].locality', value: '' },
      { op: 'replace', path: 'addresses[type eq "work"].locality', value: '' },
      { op: 'replace', path: 'name.givenName', value: '' },
    ];
    const r = applyPatch(userResourceType, cur, { schemas: [PATCH_OP], Operations: ops });
    expect(r.doc).toEqual({ userName: 'bjensen', name: { familyName: 'Jensen' }, addresses: [{ type: 'work' }] });
    checkPatch(userResourceType, cur, { schemas: [PATCH_OP], Operations: ops });
  });

  it(`${PURE_RUNS.groups} generated PATCH bodies on generated groups`, () => {
    fc.assert(fc.property(groupDocArb, bodyArb(GROUP_PATHS, () => ['u1', 'u2']), (cur, body) => checkPatch(groupResourceType, cur, body)), { numRuns: PURE_RUNS.groups, seed: SEED });
    reportOutcomes('PATCH fuzz, groups', PURE_RUNS.groups * 0.05);
  });

  it(`${PURE_RUNS.bodies} arbitrary JSON bodies, including prototype-named keys`, () => {
    const nasty = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v).replace(/"([a-z])"/, '"__proto__"')));
    fc.assert(
      fc.property(userDocArb(), fc.oneof(fc.jsonValue({ maxDepth: 4 }), nasty, nasty.map((v) => ({ schemas: [PATCH_OP], Operations: [{ op: 'add', value: v }] }))), (cur, body) => checkPatch(userResourceType, cur, body)),
      { numRuns: PURE_RUNS.bodies, seed: SEED },
    );
    // Arbitrary JSON is almost never a PATCH body: only the contract per input is checked.
    takeOutcomes('PATCH fuzz, arbitrary bodies');
  });
});

describe('PATCH over HTTP never answers 5xx', () => {
  let t: TestApp;
  let c: ScimClient;
  const userIds: string[] = [];
  const groupIds: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    c = scimClient(t.app, await t.connection('Fuzz PATCH'));
    for (let i = 0; i < 6; i++) {
      const r = await c.post('/Users', { schemas: [CORE_USER], userName: `user${i}@example.com`, displayName: `User ${i}`, emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }], externalId: `x${i}` });
      expect(r.status, r.text).toBe(201);
      userIds.push(r.body.id);
    }
    for (let i = 0; i < 3; i++) {
      const r = await c.post('/Groups', { schemas: [CORE_GROUP], displayName: `Group ${i}`, members: userIds.slice(i, i + 2).map((value) => ({ value })) });
      expect(r.status, r.text).toBe(201);
      groupIds.push(r.body.id);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  function reportHttp(what: string, runs: number) {
    expect(takeOutcomes(what).get('success') ?? 0, 'enough PATCHes succeed').toBeGreaterThanOrEqual(runs * 0.02);
  }

  async function patchOne(kind: 'Users' | 'Groups', pick: number, body: unknown) {
    const ids = kind === 'Users' ? userIds : groupIds;
    const id = ids[pick % ids.length];
    const res = await c.patch(`/${kind}/${id}`, body);
    count(String(expectScimAnswer(res, JSON.stringify(body).slice(0, 300)) ?? res.status));
    if (res.status === 200 || res.status === 204) count('success');
    if (res.status === 200) {
      const get = await c.get(`/${kind}/${id}`);
      expect(get.status).toBe(200);
      // The answer is the stored resource (meta.version and all). The order of a
      // user's `groups` is not kept: reads build it without an ORDER BY
      // (dialect.userGroupsJson), writes answer it sorted by name (groupsOfUsers).
      const unordered = (r: Record<string, unknown>) => ({ ...r, groups: Array.isArray(r.groups) ? [...r.groups].sort((a, b) => String(a.value).localeCompare(String(b.value))) : r.groups });
      expect(unordered(get.body), JSON.stringify(body).slice(0, 300)).toEqual(unordered(res.body));
    }
  }

  it(`${HTTP_RUNS.users} generated PATCH requests to users`, async () => {
    await fc.assert(fc.asyncProperty(fc.nat(), bodyArb(USER_PATHS, () => groupIds), (pick, body) => patchOne('Users', pick, body)), { numRuns: HTTP_RUNS.users, seed: SEED });
    reportHttp('PATCH fuzz over HTTP, users', HTTP_RUNS.users);
  });

  it(`${HTTP_RUNS.groups} generated PATCH requests to groups`, async () => {
    await fc.assert(fc.asyncProperty(fc.nat(), bodyArb(GROUP_PATHS, () => userIds), (pick, body) => patchOne('Groups', pick, body)), { numRuns: HTTP_RUNS.groups, seed: SEED });
    reportHttp('PATCH fuzz over HTTP, groups', HTTP_RUNS.groups);
  });
});
