/**
 * Differential fuzzing of filters through the whole stack (parser, filter → SQL,
 * the database, serialisation) on the backend this project runs on: generated
 * filters over a seeded directory must select exactly the ids the reference
 * evaluator (reference-filter.ts, written from RFC 7644 rather than from our own
 * evaluator) selects over the resources as served, and a filter the reference
 * says must be refused must be a 400 invalidFilter.
 *
 *   FUZZ_SEED=… FUZZ_FILTERS=… npx vitest run test/fuzz/filter-sql.fuzz.test.ts
 *   FUZZ_NE_MODE=someDiffers   the RFC's literal reading of `ne` on multi-valued attributes
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';
import { expectScimAnswer } from './scim-answer.js';
import { filterArb, groupGrammar, styleFrom, userGrammar } from './filter-gen.js';
import {
  CORE_USER_URN,
  ENTERPRISE_URN,
  GROUP_TYPE,
  RefRefusal,
  USER_TYPE,
  referenceSelect,
  renderFilter,
  usesNeOnMultiValued,
  type NeMode,
  type RefFilter,
  type RefResourceType,
} from './reference-filter.js';
import { groupResourceType, userResourceType, resolveAttr } from '../../src/scim/schemas.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1207);
const USER_FILTERS = Number(process.env.FUZZ_FILTERS ?? 2500);
const GROUP_FILTERS = Math.ceil(USER_FILTERS / 4);
const NE_MODE: NeMode = process.env.FUZZ_NE_MODE === 'someDiffers' ? 'someDiffers' : 'noneEquals';

let now = Date.parse('2024-03-01T09:00:00.000Z');
const clock = () => new Date(now);
/** Uneven steps, so created and lastModified differ by odd amounts of milliseconds. */
let step = 0;
const tick = () => {
  now += 997 + ((step++ * 7919) % 86_400_000);
};

let t: TestApp;
let c: ScimClient;
let users: Record<string, unknown>[] = [];
let groups: Record<string, unknown>[] = [];

const GIVEN = ['Alice', 'alice', 'ALICE', 'Bob', 'Élodie', 'élodie', 'Zoë', 'Jörg', 'Straße', 'Ωmega', 'Жанна', '日向', '😀 Smile', "O'Brien", 'Anne-Marie', 'li', 'Ng', 'x', 'quote"d', 'back\\slash'];
const FAMILY = ['Smith', 'smith', 'SMITH', 'Müller', 'MÜLLER', 'García', 'de la Cruz', 'Nguyen', 'Łukasz', 'Ng', 'Østergaard'];
const DOMAINS = ['example.com', 'Example.COM', 'contoso.test', 'müller.de'];
const TITLES = ['Engineer', 'engineer', 'Senior Engineer', 'VP Sales', 'vp sales', '', 'Straße-Planer', undefined, 'Ωmega lead'];
const EMAIL_TYPES = ['work', 'home', 'Work', 'other', undefined, 'HOME'];
const DEPARTMENTS = ['Sales', 'sales', 'R&D', 'Engineering', 'Straße', undefined];

function userBody(i: number, earlierIds: string[]): Record<string, unknown> {
  const given = GIVEN[i % GIVEN.length];
  const family = FAMILY[(i * 7) % FAMILY.length];
  const domain = DOMAINS[(i * 3) % DOMAINS.length];
  const local = `${given}.${family}`.replace(/[^A-Za-z0-9À-ɏͰ-ӿ.'-]/g, '');
  const body: Record<string, unknown> = { schemas: [CORE_USER_URN], userName: i % 9 === 4 ? `${given}${i}` : `${local}${i}@${domain}` };
  if (i % 6 !== 0) body.displayName = i % 11 === 5 ? '' : `${given} ${family}`;
  if (i % 4 !== 0) body.externalId = i % 3 === 0 ? `EXT-${i}` : `ext-${i}`;
  const title = TITLES[i % TITLES.length];
  if (title !== undefined) body.title = title;
  if (i % 5 === 1) body.nickName = given.toLowerCase();
  if (i % 7 === 3) body.userType = i % 2 ? 'Employee' : 'employee';
  if (i % 5 !== 0) body.active = i % 3 !== 0;
  if (i % 8 !== 7) {
    const name: Record<string, unknown> = { familyName: family };
    if (i % 3 !== 2) name.givenName = given;
    if (i % 4 === 1) name.formatted = `${given} ${family}`;
    body.name = name;
  }
  const emailCount = i % 4;
  if (emailCount) {
    body.emails = Array.from({ length: emailCount }, (_, k) => {
      const e: Record<string, unknown> = { value: k === 0 ? String(body.userName).includes('@') ? String(body.userName) : `${local}${i}@${domain}` : `${local}.${k}${i}@${DOMAINS[(i + k) % DOMAINS.length]}` };
      const type = EMAIL_TYPES[(i + k) % EMAIL_TYPES.length];
      if (type) e.type = type;
      if (k === 0 && i % 3 === 0) e.primary = true;
      if (k === 1 && i % 5 === 2) e.primary = false;
      return e;
    });
  }
  if (i % 3 === 1) body.phoneNumbers = [{ value: `+49 30 ${1000 + i}`, type: i % 2 ? 'work' : 'Mobile' }];
  const dept = DEPARTMENTS[i % DEPARTMENTS.length];
  if (dept !== undefined || i % 4 === 2) {
    const ent: Record<string, unknown> = {};
    if (dept !== undefined) ent.department = dept;
    if (i % 4 === 2) ent.employeeNumber = i % 8 === 2 ? `00${i}` : String(i);
    if (earlierIds.length && i % 3 === 2) ent.manager = { value: earlierIds[(i * 5) % earlierIds.length] };
    body[ENTERPRISE_URN] = ent;
  }
  return body;
}

const GROUP_NAMES = ['Engineering', 'engineering-emea', 'Ωmega team', 'Sales "EU"', 'empty', 'Straße'];

beforeAll(async () => {
  t = await startTestApp({ clock });
  c = scimClient(t.app, await t.connection('Fuzz filters'));
  const ids: string[] = [];
  for (let i = 0; i < 52; i++) {
    tick();
    const res = await c.post('/Users', userBody(i, ids));
    expect(res.status, res.text).toBe(201);
    ids.push(res.body.id);
  }
  for (let k = 0; k < GROUP_NAMES.length; k++) {
    tick();
    const members = GROUP_NAMES[k] === 'empty' ? [] : ids.filter((_, i) => (i + k) % (k + 2) === 0).map((value) => ({ value }));
    const body: Record<string, unknown> = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: GROUP_NAMES[k], members };
    if (k % 2 === 0) body.externalId = `grp-${k}`;
    const res = await c.post('/Groups', body);
    expect(res.status, res.text).toBe(201);
  }
  // Some later changes, so lastModified differs from created; two users are deleted.
  for (let i = 0; i < ids.length; i += 5) {
    tick();
    const res = await c.patch(`/Users/${ids[i]}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'nickName', value: `nick${i}` }] });
    expect(res.status, res.text).toBe(200);
  }
  for (const id of [ids[10], ids[33]]) expect((await c.delete(`/Users/${id}`)).status).toBe(204);
  users = (await c.get('/Users?count=1000')).body.Resources;
  groups = (await c.get('/Groups?count=1000')).body.Resources;
});

afterAll(async () => {
  await t?.close();
});

const sorted = (ids: string[]) => [...ids].sort();

async function differential(rt: RefResourceType, endpoint: string, data: () => Record<string, unknown>[], arb: () => fc.Arbitrary<RefFilter>, numRuns: number) {
  const stats = { selected: 0, refused: 0, neMulti: 0 };
  await fc.assert(
    fc.asyncProperty(arb(), fc.integer(), async (filter, styleSeed) => {
      const text = renderFilter(filter, styleFrom(styleSeed));
      let expected: string[] | RefRefusal;
      try {
        // Reading 2 of reference-filter.ts: Rollcall's `ne` on multi-valued attributes
        // is "no value equals" where RFC 7644 read literally says "some value differs".
        // FUZZ_NE_MODE=someDiffers runs the literal reading and shows where they part.
        expected = referenceSelect(rt, filter, data(), { neOnMultiValued: NE_MODE });
      } catch (e) {
        if (!(e instanceof RefRefusal)) throw e;
        expected = e;
      }
      if (usesNeOnMultiValued(rt, filter)) stats.neMulti++;
      const res = await c.get(`${endpoint}?filter=${encodeURIComponent(text)}&count=1000&attributes=id`);
      expectScimAnswer(res, text);
      if (expected instanceof RefRefusal) {
        stats.refused++;
        expect(res.status, `${text} should be refused (${expected.message}): ${res.text}`).toBe(400);
        expect(res.body.scimType).toBe('invalidFilter');
        return;
      }
      expect(res.status, `${text}: ${res.text}`).toBe(200);
      const got = (res.body.Resources ?? []).map((r: { id: string }) => r.id);
      expect(sorted(got), text).toEqual(sorted(expected));
      expect(res.body.totalResults, text).toBe(expected.length);
      if (expected.length) stats.selected++;
    }),
    { numRuns, seed: SEED },
  );
  return stats;
}

describe('generated filters select what the RFC reference selects', () => {
  it('the data set has the variety the generator relies on', () => {
    expect(users.length).toBe(50);
    expect(groups.length).toBe(GROUP_NAMES.length);
    expect(users.some((u) => u.displayName === undefined)).toBe(true);
    expect(users.some((u) => u.displayName === '')).toBe(true);
    expect(users.some((u) => u.active === undefined || u.active === false)).toBe(true);
    expect(users.some((u) => Array.isArray(u.emails) && u.emails.length === 3)).toBe(true);
    expect(users.some((u) => Array.isArray(u.groups) && u.groups.length > 1)).toBe(true);
    expect(users.some((u) => (u.meta as any).created !== (u.meta as any).lastModified)).toBe(true);
    expect(users.some((u) => /[^\x00-\x7f]/.test(String(u.userName)))).toBe(true);
  });

  it('the reference attribute table agrees with the served schema on type and caseExact', () => {
    const check = (rt: typeof userResourceType, table: RefResourceType['attrs'], uri?: string) => {
      for (const [name, def] of Object.entries(table)) {
        const r = resolveAttr(rt, { uri, attr: name });
        expect(r, name).toBeDefined();
        expect([r!.def.type, r!.def.multiValued], name).toEqual([def.type, !!def.multi]);
        if (def.type !== 'complex') expect(r!.def.caseExact, name).toBe(def.caseExact);
        for (const [sub, sd] of Object.entries(def.subs ?? {})) {
          const rs = resolveAttr(rt, { uri, attr: name, sub });
          expect([rs?.subDef?.type, rs?.subDef?.caseExact], `${name}.${sub}`).toEqual([sd.type, sd.caseExact]);
        }
      }
    };
    check(userResourceType, USER_TYPE.attrs);
    check(userResourceType, USER_TYPE.extensions[ENTERPRISE_URN.toLowerCase()], ENTERPRISE_URN);
    check(groupResourceType, GROUP_TYPE.attrs);
  });

  it(`Users: ${USER_FILTERS} generated filters`, async () => {
    const stats = await differential(USER_TYPE, '/Users', () => users, () => filterArb(userGrammar(users)), USER_FILTERS);
    console.log(`filter-sql fuzz, Users: ${USER_FILTERS} filters, ${stats.selected} selected something, ${stats.refused} refused, ${stats.neMulti} used ne on a multi-valued attribute`);
    // Enough filters select something and enough are refused, or the comparison proves little.
    expect(stats.selected).toBeGreaterThan(USER_FILTERS * 0.3);
    expect(stats.refused).toBeGreaterThan(0);
  });

  it(`Groups: ${GROUP_FILTERS} generated filters`, async () => {
    const stats = await differential(GROUP_TYPE, '/Groups', () => groups, () => filterArb(groupGrammar(groups)), GROUP_FILTERS);
    console.log(`filter-sql fuzz, Groups: ${GROUP_FILTERS} filters, ${stats.selected} selected something, ${stats.refused} refused`);
    expect(stats.selected).toBeGreaterThan(GROUP_FILTERS * 0.3);
  });
});
