/**
 * Fuzzing what POST, PUT and .search bodies go through. Pure part: resource
 * normalisation (scim/resource.ts normalizeResource) and list/search parameters
 * (http/list-params.ts parseListRequest) called directly with generated bodies —
 * schema-shaped ones with wrong types, recased and URN-qualified keys, and
 * arbitrary JSON: a result or a 400 with a scimType, and normalising a normalised
 * document changes nothing.
 *
 * HTTP part, on the backend this project runs on: generated bodies, raw text that
 * is not JSON and odd content types sent to POST/PUT /Users and /Groups and the
 * .search endpoints: never a 5xx, refusals SCIM-shaped, and a created resource
 * reads back as it was answered.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeResource } from '../../src/scim/resource.js';
import { isRollcallError } from '../../src/scim/errors.js';
import { groupResourceType, userResourceType, type ResourceTypeDef } from '../../src/scim/schemas.js';
import { parseListRequest } from '../../src/http/list-params.js';
import { onPostgres } from '../support/databases.js';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';
import { expectScimAnswer } from './scim-answer.js';
import { recase } from './filter-gen.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1207);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const PURE_RUNS = { users: runs(10_000), groups: runs(3_000), lists: runs(6_000) };
const HTTP_RUNS = runs(400);

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const RC = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const scalar = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(fc.constantFrom('x', '', ' ', 'True', 'false', '2024-03-01T10:00:00Z', 'de-DE', 'ж', '😀', 'a@x.com'), fc.string({ maxLength: 10 })) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const subKeys = fc.constantFrom('value', 'type', 'primary', 'display', 'givenName', 'familyName', 'formatted', 'locality', '$ref', 'displayName', 'nosuch', 'VALUE');
const complex = fc.dictionary(subKeys, scalar, { maxKeys: 4 });
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: complex },
  { weight: 2, arbitrary: fc.array(fc.oneof(complex, scalar), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const USER_KEYS = [
  'userName', 'displayName', 'nickName', 'title', 'active', 'name', 'emails', 'phoneNumbers', 'addresses', 'roles', 'x509Certificates', 'photos',
  'groups', 'password', 'preferredLanguage', 'locale', 'timezone', 'profileUrl', 'userType', 'id', 'meta', 'externalId', 'schemas', 'nosuch', '__proto__',
];

function bodyArb(rt: ResourceTypeDef): fc.Arbitrary<unknown> {
  const keys = rt.id === 'User' ? USER_KEYS : ['displayName', 'members', 'externalId', 'id', 'meta', 'schemas', 'nosuch'];
  const key = fc.tuple(fc.constantFrom(...keys), fc.integer(), fc.boolean()).map(([k, bits, flip]) => (flip ? recase(k, bits) : k));
  const required = rt.id === 'User' ? 'userName' : 'displayName';
  const ext = fc.dictionary(fc.constantFrom('department', 'manager', 'employeeNumber', 'gender', 'academicDegree', 'nosuch'), anyValue, { maxKeys: 3 });
  const shaped = fc
    .tuple(
      fc.dictionary(key, anyValue, { maxKeys: 6 }),
      fc.oneof(fc.constantFrom('bjensen', 'Alice@Example.com', '', '  '), fc.string({ maxLength: 6 })),
      fc.option(fc.constantFrom(ENT, RC, CORE_USER, CORE_GROUP, ENT.toUpperCase(), 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User', 'urn:acme:1.0')),
      ext,
      fc.constantFrom<unknown>(undefined, [rt.id === 'User' ? CORE_USER : CORE_GROUP], [CORE_USER, ENT], 'urn:x', [1], null),
    )
    .map(([attrs, name, extUri, extBody, schemas]) => {
      // Built with JSON.parse so a `__proto__` key is an own property, as a parsed request body's would be.
      const body = JSON.parse(JSON.stringify({ ...attrs, [required]: name }));
      if (extUri) body[extUri] = extUri === CORE_USER || extUri === CORE_GROUP ? { ...extBody, [required]: name, [extUri]: { x: 1 } } : extBody;
      if (schemas !== undefined) body.schemas = schemas;
      return body;
    });
  return fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}

function refusesOnlyWith400(fn: () => unknown, input: unknown): unknown {
  try {
    return fn();
  } catch (e) {
    const label = JSON.stringify(input)?.slice(0, 300);
    if (!isRollcallError(e)) throw new Error(`${label}: not a catalogue error: ${(e as Error)?.stack ?? e}`);
    expect(e.status, `${label}: ${e.code}`).toBe(400);
    expect(e.scimType, `${label}: ${e.code}`).toBeDefined();
    return undefined;
  }
}

function checkNormalize(rt: ResourceTypeDef, body: unknown, tally: { ok: number }): void {
  const n = refusesOnlyWith400(() => normalizeResource(rt, body), body) as ReturnType<typeof normalizeResource> | undefined;
  if (!n) return;
  tally.ok++;
  const again = normalizeResource(rt, { ...n.doc, ...(n.externalId !== undefined ? { externalId: n.externalId } : {}), ...(n.members ? { members: n.members } : {}) });
  expect(again.doc, 'normalising is idempotent').toEqual(n.doc);
  expect(again.externalId).toEqual(n.externalId);
  if (n.members) expect(again.members).toEqual(n.members);
}

const listSource = fc.dictionary(
  fc.constantFrom('filter', 'startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes', 'FILTER', 'Count', 'schemas', 'nosuch'),
  fc.oneof(
    fc.constantFrom('userName pr', 'emails[type eq "work"]', 'bad ((', '1', '-5', '1e3', '99999999999', '', 'ascending', 'DESCENDING', 'up', 'userName', 'name.givenName', 'emails', 'meta', 'urn:ietf:params:scim:schemas:core:2.0:User:userName', 'userName,displayName', 'nosuch'),
    scalar,
    fc.array(fc.constantFrom('userName', 'emails.value', 'x'), { maxLength: 3 }),
    fc.jsonValue({ maxDepth: 1 }),
  ),
  { maxKeys: 5 },
);

describe.skipIf(onPostgres)('body validation fuzzing (pure)', () => {
  it(`${PURE_RUNS.users} generated User bodies normalise or are refused with a 400 scimType`, () => {
    const tally = { ok: 0 };
    fc.assert(fc.property(bodyArb(userResourceType), (body) => checkNormalize(userResourceType, body, tally)), { numRuns: PURE_RUNS.users, seed: SEED });
    expect(tally.ok, 'enough bodies are accepted').toBeGreaterThan(PURE_RUNS.users * 0.1);
  });

  it(`${PURE_RUNS.groups} generated Group bodies normalise or are refused with a 400 scimType`, () => {
    const tally = { ok: 0 };
    fc.assert(fc.property(bodyArb(groupResourceType), (body) => checkNormalize(groupResourceType, body, tally)), { numRuns: PURE_RUNS.groups, seed: SEED });
    expect(tally.ok, 'enough bodies are accepted').toBeGreaterThan(PURE_RUNS.groups * 0.1);
  });

  it(`${PURE_RUNS.lists} generated list and .search parameters parse or are refused with a 400 scimType`, () => {
    fc.assert(
      fc.property(fc.constantFrom(userResourceType, groupResourceType, undefined), listSource, (rt, source) => {
        refusesOnlyWith400(() => parseListRequest(rt, source), source);
      }),
      { numRuns: PURE_RUNS.lists, seed: SEED },
    );
  });
});

describe('POST, PUT and .search bodies over HTTP never answer 5xx', () => {
  let t: TestApp;
  let c: ScimClient;
  let userId = '';
  let groupId = '';

  beforeAll(async () => {
    t = await startTestApp();
    c = scimClient(t.app, await t.connection('Fuzz bodies'));
    userId = (await c.post('/Users', { schemas: [CORE_USER], userName: 'fixed@example.com' })).body.id;
    groupId = (await c.post('/Groups', { schemas: [CORE_GROUP], displayName: 'Fixed' })).body.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  const rawText = fc.oneof(
    fc.constantFrom('', ' ', '{', '{"userName":', '[]', 'null', '"x"', '{"userName":"a","userName":"b"}', '{"__proto__":{"admin":true},"userName":"p"}', '{"constructor":{"prototype":{}},"userName":"q"}', '\u0000', '{"userName":"\\ud800"}', '1e999999'),
    fc.string({ maxLength: 30 }),
  );
  const contentType = fc.constantFrom('application/scim+json', 'application/scim+json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/scim+json; charset=latin1', '');
  const target = fc.constantFrom(
    ['POST', '/Users', 'User'],
    ['PUT', '/Users/ID', 'User'],
    ['POST', '/Groups', 'Group'],
    ['PUT', '/Groups/GID', 'Group'],
    ['POST', '/Users/.search', 'Search'],
    ['POST', '/Groups/.search', 'Search'],
    ['POST', '/.search', 'Search'],
  );
  const searchBody = fc.oneof(listSource.map((s) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], ...s })), listSource);

  it(`${HTTP_RUNS} generated requests`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        target,
        fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: rawText }),
        fc.oneof({ weight: 5, arbitrary: fc.constant('application/scim+json') }, { weight: 1, arbitrary: contentType }),
        bodyArb(userResourceType),
        bodyArb(groupResourceType),
        searchBody,
        async ([method, path, kind], raw, type, userBody, groupBody, search) => {
          const body = raw ?? JSON.stringify(kind === 'User' ? userBody : kind === 'Group' ? groupBody : search);
          const url = path.replace('GID', groupId).replace('ID', userId);
          const res = await c.request(method, url, body, { 'content-type': type });
          expectScimAnswer(res, `${method} ${url} (${type}) ${body.slice(0, 200)}`);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 201) {
            const get = await c.get(`${path}/${res.body.id}`);
            expect(get.status).toBe(200);
            expect(get.body).toEqual(res.body);
          }
        },
      ),
      { numRuns: HTTP_RUNS, seed: SEED },
    );
    console.log(`body fuzz over HTTP: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    expect([...statuses.keys()].some((s) => s < 300), 'some requests succeed').toBe(true);
  });
});
