/**
 * Fuzzing the filter and PATCH-path parsers and what consumes their output, with no
 * database: whatever text arrives, parseFilter either returns an AST or refuses
 * with a 400 invalidFilter (parsePatchPath: invalidPath), never another exception;
 * an AST compiles to SQL for both dialects (Kysely's compilers, no database) and
 * runs through the in-memory evaluator, again refusing only with invalidFilter.
 * Generated well-formed filters parse back to the tree they were rendered from.
 *
 * Pure, so it runs in the sqlite project only (like test/unit/); FUZZ_SEED varies the run.
 */
import fc from 'fast-check';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { parseFilter, parsePatchPath } from '../../src/scim/filter/parse.js';
import type { Filter } from '../../src/scim/filter/ast.js';
import { evaluateFilter } from '../../src/scim/filter/evaluate.js';
import { compileFilter } from '../../src/store/filter-sql.js';
import { postgresDialect, sqliteDialect } from '../../src/store/dialect.js';
import { isRollcallError } from '../../src/scim/errors.js';
import { groupResourceType, userResourceType } from '../../src/scim/schemas.js';
import { onPostgres } from '../support/databases.js';
import { filterArb, styleFrom, userGrammar } from './filter-gen.js';
import { renderFilter, type RefFilter } from './reference-filter.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1207);
/** Scales every property's numRuns (1 = the CI budget). */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const compilers = [
  new Kysely<any>({ dialect: { createAdapter: () => new SqliteAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new SqliteIntrospector(db), createQueryCompiler: () => new SqliteQueryCompiler() } }),
  new Kysely<any>({ dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new PostgresIntrospector(db), createQueryCompiler: () => new PostgresQueryCompiler() } }),
];
const dialects = [sqliteDialect, postgresDialect];

/** A resource with a bit of everything for the evaluator to look at. */
const SAMPLE = {
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'bjensen',
  userName: 'Bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  title: '',
  emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@jensen.org', type: 'home' }, 'bare'],
  meta: { created: '2024-03-01T10:00:00.000Z', lastModified: '2024-03-02T10:00:00.123Z' },
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Sales', manager: { value: 'x' } },
  nested: [[1, 2], { a: [{ b: 'c' }] }],
};

/** Runs `fn`; any exception must be a catalogue error, a 400 with one of these scimTypes. */
function refusesOnlyWith(scimTypes: string | string[], fn: () => unknown, input: string): void {
  try {
    fn();
  } catch (e) {
    if (!isRollcallError(e)) throw new Error(`${JSON.stringify(input.slice(0, 200))}: not a catalogue error: ${(e as Error)?.stack ?? e}`);
    const label = `${JSON.stringify(input.slice(0, 200))}: ${e.code} ${e.message}`;
    expect(e.status, label).toBe(400);
    expect([scimTypes].flat(), label).toContain(e.scimType);
  }
}

/** Everything downstream of the parser: SQL for both resource types and dialects, and the evaluator. */
function consume(ast: Filter, input: string): void {
  for (const rt of [userResourceType, groupResourceType]) {
    dialects.forEach((dialect, i) => {
      refusesOnlyWith('invalidFilter', () => {
        const cond = compileFilter({ rt, dialect, connectionId: 'c1' }, ast);
        compilers[i].selectFrom(rt.id === 'User' ? 'users' : 'groups').select('id').where(cond as never).compile();
      }, input);
    });
  }
  refusesOnlyWith('invalidFilter', () => evaluateFilter(ast, SAMPLE), input);
  refusesOnlyWith('invalidFilter', () => evaluateFilter(ast, SAMPLE, { caseExact: () => true, typeOf: (p) => (p.attr.length % 3 === 0 ? 'dateTime' : p.attr.length % 3 === 1 ? 'boolean' : undefined) }), input);
}

function fuzzFilterText(text: string): void {
  let ast: Filter | undefined;
  refusesOnlyWith('invalidFilter', () => (ast = parseFilter(text)), text);
  if (ast) consume(ast, text);
  // A path's value filter may be refused as a filter (too complex) rather than as a path.
  refusesOnlyWith(['invalidPath', 'invalidFilter'], () => parsePatchPath(text), text);
}

/** Pieces of filter syntax, right and wrong, so random sequences get deep into the parser. */
const TOKENS = [
  ' ', ' ', ' ', '\t', '\n', '(', ')', '[', ']', '"', '"x"', '"a\\"b"', '"\\u00e9"', '"\\u12"', '"\\q"', '\\', '.', ':', ',',
  'userName', 'emails', 'type', 'value', 'primary', 'name', 'givenName', 'meta', 'created', 'lastModified', 'members', 'groups', 'display', '$ref',
  'active', 'title', 'externalId', 'id', 'urn:ietf:params:scim:schemas:core:2.0:User:', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'manager', 'department', 'nosuch', 'x509Certificates', 'addresses',
  'eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr', 'EQ', 'Pr', 'and', 'or', 'not', 'AND', 'Not',
  'true', 'False', 'null', '0', '-1', '1e400', '007', '3.14', '2024-03-01T10:00:00Z', '2024-03-01T10:00:00.1234567+02:00', '2024-02-30',
  'jyoung', '😀', 'é', '\u0000', '\u2028', 'ﬀ', 'İ',
];
const tokenText = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join(''));

/** Small made-up documents: pools for the generator, so rendered filters cover every field. */
const POOL_DOCS = [
  { id: 'a1', userName: 'Alice@Example.com', displayName: 'Alice', externalId: 'E1', title: 'Engineer', emails: [{ value: 'a@x.com', type: 'work' }], phoneNumbers: [{ value: '+1', type: 'work' }], groups: [{ value: 'g1', display: 'Staff' }], name: { givenName: 'Ålice', familyName: 'Smith', formatted: 'A S' }, meta: { created: '2024-03-01T10:00:00.000Z', lastModified: '2024-03-02T11:00:00.500Z' }, nickName: 'al', userType: 'Employee', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D', employeeNumber: '007', manager: { value: 'a0' } } },
  { id: 'b2', userName: 'bob', emails: [{ value: 'b@y.org', type: 'home' }], meta: { created: '2023-12-31T23:59:59.999Z', lastModified: '2024-01-01T00:00:00.000Z' } },
];

/** The parser's AST, with and/or chains flattened (they are associative) and names lower-cased (they are case-insensitive). */
type Norm = { k: string; [key: string]: unknown };
function normParsed(f: Filter): Norm {
  const path = (p: { uri?: string; attr: string; sub?: string }) => [p.uri ?? '', p.attr.toLowerCase(), p.sub?.toLowerCase() ?? ''].join('|');
  switch (f.kind) {
    case 'and':
    case 'or':
      return { k: f.kind, items: [f.left, f.right].flatMap((x) => { const n = normParsed(x); return n.k === f.kind ? (n.items as Norm[]) : [n]; }) };
    case 'not':
      return { k: 'not', f: normParsed(f.filter) };
    case 'present':
      return { k: 'pr', path: path(f.path) };
    case 'compare':
      return { k: 'cmp', path: path(f.path), op: f.op, value: f.value.value };
    case 'valuePath':
      return { k: 'vp', path: path(f.path), f: normParsed(f.filter) };
  }
}
function normRef(f: RefFilter): Norm {
  const path = (p: { uri?: string; attr: string; sub?: string }) => [p.uri ?? '', p.attr.toLowerCase(), p.sub?.toLowerCase() ?? ''].join('|');
  switch (f.t) {
    case 'and':
    case 'or':
      return { k: f.t, items: [f.l, f.r].flatMap((x) => { const n = normRef(x); return n.k === f.t ? (n.items as Norm[]) : [n]; }) };
    case 'not':
      return { k: 'not', f: normRef(f.f) };
    case 'pr':
      return { k: 'pr', path: path(f.path) };
    case 'cmp':
      return { k: 'cmp', path: path(f.path), op: f.op, value: f.value };
    case 'vp':
      return { k: 'vp', path: path(f.path), f: normRef(f.f) };
  }
}

/** One edit of a text: delete, duplicate or insert a character, or swap two. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.array(fc.tuple(fc.nat(3), fc.nat(), fc.constantFrom(...'()[]"\\ .:eoa'.split(''))), { minLength: 1, maxLength: 4 })).map(([text, edits]) => {
    let s = text;
    for (const [kind, at, ch] of edits) {
      const i = s.length ? at % s.length : 0;
      if (kind === 0) s = s.slice(0, i) + s.slice(i + 1);
      else if (kind === 1) s = s.slice(0, i) + s[i] + s.slice(i);
      else if (kind === 2) s = s.slice(0, i) + ch + s.slice(i);
      else s = s.slice(0, i) + (s[i + 1] ?? '') + (s[i] ?? '') + s.slice(i + 2);
    }
    return s;
  });

const wellFormed = fc.tuple(filterArb(userGrammar(POOL_DOCS), 4), fc.integer()).map(([f, seed]) => ({ f, text: renderFilter(f, styleFrom(seed)) }));

const PARSE_RUNS = { tokens: runs(25_000), unicode: runs(8_000), roundTrip: runs(10_000), mutated: runs(8_000), nesting: runs(1_500) };

describe.skipIf(onPostgres)('filter parser fuzzing (pure)', () => {
  it(`${PARSE_RUNS.tokens} sequences of filter tokens parse or are refused as invalidFilter`, () => {
    fc.assert(fc.property(tokenText, fuzzFilterText), { numRuns: PARSE_RUNS.tokens, seed: SEED });
  });

  it(`${PARSE_RUNS.unicode} arbitrary strings (any code unit, lone surrogates too) parse or are refused`, () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 })), fuzzFilterText), { numRuns: PARSE_RUNS.unicode, seed: SEED });
  });

  it(`${PARSE_RUNS.roundTrip} generated filters parse back to the tree they were rendered from`, () => {
    fc.assert(
      fc.property(wellFormed, ({ f, text }) => {
        const ast = parseFilter(text);
        expect(normParsed(ast), text).toEqual(normRef(f));
        consume(ast, text);
      }),
      { numRuns: PARSE_RUNS.roundTrip, seed: SEED },
    );
  });

  it(`${PARSE_RUNS.mutated} generated filters with a few characters changed parse or are refused`, () => {
    fc.assert(fc.property(mutated(wellFormed.map((w) => w.text)), fuzzFilterText), { numRuns: PARSE_RUNS.mutated, seed: SEED });
  });

  it(`${PARSE_RUNS.nesting} deep nestings, long chains and over-long filters are refused as invalidFilter, not a crash`, () => {
    const shapes = fc.oneof(
      fc.nat(120).map((n) => `${'('.repeat(n)}userName pr${')'.repeat(n)}`),
      fc.nat(120).map((n) => `${'not ('.repeat(n)}userName pr${')'.repeat(n)}`),
      fc.nat(80).map((n) => `emails[${'('.repeat(n)}value pr${')'.repeat(n)}]`),
      fc.integer({ min: 1, max: 700 }).map((n) => Array.from({ length: n }, (_, i) => `id eq "${i}"`).join(n % 2 ? ' or ' : ' and ')),
      fc.integer({ min: 9_990, max: 10_010 }).map((n) => `userName eq "${'x'.repeat(Math.max(0, n - 15))}"`),
      fc.integer({ min: 1, max: 3000 }).map((n) => Array.from({ length: n }, () => 'title pr').join(' or ')),
    );
    fc.assert(fc.property(shapes, fuzzFilterText), { numRuns: PARSE_RUNS.nesting, seed: SEED });
  });
});
