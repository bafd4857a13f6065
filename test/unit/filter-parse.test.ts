import { DEFAULT_LIMITS } from '../../src/scim/limits.js';
import { describe, it, expect } from 'vitest';
import { parseFilter, parsePatchPath } from '../../src/scim/filter/parse.js';
import type { Filter, AttrPath, CompareOp } from '../../src/scim/filter/ast.js';
import { ScimError } from '../../src/scim/errors.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

const cmp = (attr: string, op: CompareOp, value: string | number | boolean | null, extra: Partial<AttrPath> = {}, raw?: string): Filter => ({
  kind: 'compare',
  path: { ...extra, attr },
  op,
  value: raw === undefined ? { value } : { value, raw },
});

function expectError(fn: () => unknown, scimType: 'invalidFilter' | 'invalidPath', detail?: RegExp): ScimError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    const err = e as ScimError;
    expect(err.status).toBe(400);
    expect(err.scimType).toBe(scimType);
    if (detail) expect(err.detail).toMatch(detail);
    return err;
  }
  throw new Error('expected a ScimError');
}

describe('parseFilter: comparisons', () => {
  it.each(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const)('operator %s', (op) => {
    expect(parseFilter(`userName ${op} "bjensen"`)).toEqual(cmp('userName', op, 'bjensen'));
  });

  it('operators are case-insensitive', () => {
    expect(parseFilter('userName EQ "x"')).toEqual(cmp('userName', 'eq', 'x'));
    expect(parseFilter('userName Eq "x"')).toEqual(cmp('userName', 'eq', 'x'));
    expect(parseFilter('title PR')).toEqual({ kind: 'present', path: { attr: 'title' } });
  });

  it('pr takes no value', () => {
    expect(parseFilter('title pr')).toEqual({ kind: 'present', path: { attr: 'title' } });
    expectError(() => parseFilter('title pr "x"'), 'invalidFilter', /position 10/);
  });

  it('keeps attribute names exactly as written', () => {
    expect(parseFilter('USERNAME eq "x"')).toEqual(cmp('USERNAME', 'eq', 'x'));
    expect(parseFilter('x-custom_1 eq "x"')).toEqual(cmp('x-custom_1', 'eq', 'x'));
  });

  it('sub-attributes', () => {
    expect(parseFilter('name.familyName co "O\'Malley"')).toEqual(cmp('name', 'co', "O'Malley", { sub: 'familyName' }));
    expect(parseFilter('meta.lastModified gt "2011-05-13T04:42:34Z"')).toEqual(
      cmp('meta', 'gt', '2011-05-13T04:42:34Z', { sub: 'lastModified' }),
    );
  });

  it('whitespace: runs of spaces and tabs', () => {
    expect(parseFilter('  userName \t eq   "x"  ')).toEqual(cmp('userName', 'eq', 'x'));
  });

  it('+ is not whitespace', () => {
    expectError(() => parseFilter('userName+eq+"x"'), 'invalidFilter');
  });
});

describe('parseFilter: values', () => {
  it('JSON string escapes', () => {
    expect(parseFilter('displayName eq "a \\"b\\""')).toEqual(cmp('displayName', 'eq', 'a "b"'));
    expect(parseFilter('displayName eq "back\\\\slash"')).toEqual(cmp('displayName', 'eq', 'back\\slash'));
    expect(parseFilter('displayName eq "caf\\u00e9"')).toEqual(cmp('displayName', 'eq', 'café'));
    expect(parseFilter('displayName eq "\\/\\b\\f\\n\\r\\t"')).toEqual(cmp('displayName', 'eq', '/\b\f\n\r\t'));
    expect(parseFilter('displayName eq "\\ud83d\\ude00"')).toEqual(cmp('displayName', 'eq', '😀'));
    expect(parseFilter('displayName eq ""')).toEqual(cmp('displayName', 'eq', ''));
  });

  it('quoted strings may contain operators, brackets and parens', () => {
    expect(parseFilter('displayName eq "a) or (b eq ]"')).toEqual(cmp('displayName', 'eq', 'a) or (b eq ]'));
  });

  it('numbers keep their raw text', () => {
    expect(parseFilter('x eq 42')).toEqual(cmp('x', 'eq', 42, {}, '42'));
    expect(parseFilter('x gt -1.5')).toEqual(cmp('x', 'gt', -1.5, {}, '-1.5'));
    expect(parseFilter('x lt 1e3')).toEqual(cmp('x', 'lt', 1000, {}, '1e3'));
    expect(parseFilter('x lt 2.5E-2')).toEqual(cmp('x', 'lt', 0.025, {}, '2.5E-2'));
    expect(parseFilter('x eq 0')).toEqual(cmp('x', 'eq', 0, {}, '0'));
  });

  it('tokens that are not JSON numbers stay strings', () => {
    expect(parseFilter('externalId eq 007')).toEqual(cmp('externalId', 'eq', '007', {}, '007'));
    expect(parseFilter('x eq +5')).toEqual(cmp('x', 'eq', '+5', {}, '+5'));
    expect(parseFilter('x eq 1e400')).toEqual(cmp('x', 'eq', '1e400', {}, '1e400'));
  });

  it('true/false/null, case-insensitive', () => {
    expect(parseFilter('active eq true')).toEqual(cmp('active', 'eq', true, {}, 'true'));
    expect(parseFilter('active eq False')).toEqual(cmp('active', 'eq', false, {}, 'False'));
    expect(parseFilter('title eq NULL')).toEqual(cmp('title', 'eq', null, {}, 'NULL'));
  });

  it('unquoted tokens from real clients', () => {
    expect(parseFilter('externalId eq jyoung')).toEqual(cmp('externalId', 'eq', 'jyoung', {}, 'jyoung'));
    expect(parseFilter('userName sw O')).toEqual(cmp('userName', 'sw', 'O', {}, 'O'));
    expect(parseFilter('meta.created gt 2015-10-10T14:38:21.8617979-07:00')).toEqual(
      cmp('meta', 'gt', '2015-10-10T14:38:21.8617979-07:00', { sub: 'created' }, '2015-10-10T14:38:21.8617979-07:00'),
    );
    expect(parseFilter('emails.value co example.com')).toEqual(
      cmp('emails', 'co', 'example.com', { sub: 'value' }, 'example.com'),
    );
  });

  it('an unquoted token ends at ) and ]', () => {
    expect(parseFilter('(userName eq bob)')).toEqual(cmp('userName', 'eq', 'bob', {}, 'bob'));
    expect(parseFilter('emails[type eq work]')).toEqual({
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: cmp('type', 'eq', 'work', {}, 'work'),
    });
  });
});

describe('parseFilter: logic', () => {
  const a = cmp('a', 'eq', 1, {}, '1');
  const b = cmp('b', 'eq', 2, {}, '2');
  const c = cmp('c', 'eq', 3, {}, '3');

  it('and binds tighter than or', () => {
    expect(parseFilter('a eq 1 or b eq 2 and c eq 3')).toEqual({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } });
    expect(parseFilter('a eq 1 and b eq 2 or c eq 3')).toEqual({ kind: 'or', left: { kind: 'and', left: a, right: b }, right: c });
  });

  it('left-associative', () => {
    expect(parseFilter('a eq 1 and b eq 2 and c eq 3')).toEqual({ kind: 'and', left: { kind: 'and', left: a, right: b }, right: c });
    expect(parseFilter('a eq 1 or b eq 2 or c eq 3')).toEqual({ kind: 'or', left: { kind: 'or', left: a, right: b }, right: c });
  });

  it('parentheses override precedence', () => {
    expect(parseFilter('(a eq 1 or b eq 2) and c eq 3')).toEqual({ kind: 'and', left: { kind: 'or', left: a, right: b }, right: c });
    expect(parseFilter('((a eq 1))')).toEqual(a);
    expect(parseFilter('a eq 1 and(b eq 2)')).toEqual({ kind: 'and', left: a, right: b });
  });

  it('not binds tighter than and', () => {
    expect(parseFilter('not (a eq 1) and b eq 2')).toEqual({ kind: 'and', left: { kind: 'not', filter: a }, right: b });
    expect(parseFilter('not(a eq 1 or b eq 2)')).toEqual({ kind: 'not', filter: { kind: 'or', left: a, right: b } });
    expect(parseFilter('NOT (a eq 1)')).toEqual({ kind: 'not', filter: a });
  });

  it('keywords are case-insensitive', () => {
    expect(parseFilter('userName EQ "x" AND title Pr')).toEqual({
      kind: 'and',
      left: cmp('userName', 'eq', 'x'),
      right: { kind: 'present', path: { attr: 'title' } },
    });
    expect(parseFilter('a eq 1 Or b eq 2')).toEqual({ kind: 'or', left: a, right: b });
  });

  it('RFC 7644 example with not and or', () => {
    expect(parseFilter('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")')).toEqual({
      kind: 'and',
      left: cmp('userType', 'ne', 'Employee'),
      right: {
        kind: 'not',
        filter: { kind: 'or', left: cmp('emails', 'co', 'example.com'), right: cmp('emails', 'co', 'example.org', { sub: 'value' }) },
      },
    });
  });

  it('an attribute may be named like a keyword', () => {
    expect(parseFilter('not eq "x"')).toEqual(cmp('not', 'eq', 'x'));
    expect(parseFilter('and pr')).toEqual({ kind: 'present', path: { attr: 'and' } });
  });
});

describe('parseFilter: value paths', () => {
  it('complex value filter', () => {
    expect(parseFilter('emails[type eq "work" and value co "@acme.com"]')).toEqual({
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: { kind: 'and', left: cmp('type', 'eq', 'work'), right: cmp('value', 'co', '@acme.com') },
    });
  });

  it('combined with other expressions, parens and not inside', () => {
    expect(parseFilter('userType eq "Employee" and emails[type eq "work" and not (value ew ".org")] or x pr')).toEqual({
      kind: 'or',
      left: {
        kind: 'and',
        left: cmp('userType', 'eq', 'Employee'),
        right: {
          kind: 'valuePath',
          path: { attr: 'emails' },
          filter: { kind: 'and', left: cmp('type', 'eq', 'work'), right: { kind: 'not', filter: cmp('value', 'ew', '.org') } },
        },
      },
      right: { kind: 'present', path: { attr: 'x' } },
    });
  });

  it('$ref as a sub-attribute name', () => {
    expect(parseFilter('members[$ref eq "https://x/Users/1"]')).toEqual({
      kind: 'valuePath',
      path: { attr: 'members' },
      filter: cmp('$ref', 'eq', 'https://x/Users/1'),
    });
    expect(parseFilter('members.$ref pr')).toEqual({ kind: 'present', path: { attr: 'members', sub: '$ref' } });
  });

  it('URN-qualified value path', () => {
    expect(parseFilter(`${CORE}:emails[type eq "work"]`)).toEqual({
      kind: 'valuePath',
      path: { uri: CORE, attr: 'emails' },
      filter: cmp('type', 'eq', 'work'),
    });
  });

  it('reads a sub-attribute after ] (Entra ID) as one more condition inside the brackets', () => {
    expect(parseFilter('emails[type eq "work"].value eq "x"')).toEqual(parseFilter('emails[type eq "work" and value eq "x"]'));
    expect(parseFilter('emails[type eq "work"].value pr')).toEqual(parseFilter('emails[type eq "work" and value pr]'));
    expectError(() => parseFilter('emails[type eq "work"].value'), 'invalidFilter', /operator/);
    expectError(() => parseFilter('emails[type eq "work"]. eq "x"'), 'invalidFilter', /sub-attribute name/);
  });

  it('rejects nested value paths and qualified inner paths', () => {
    expectError(() => parseFilter('emails[a[b eq 1]]'), 'invalidFilter', /nested/);
    expectError(() => parseFilter('emails[emails.type eq "work"]'), 'invalidFilter', /sub-attribute/);
    expectError(() => parseFilter(`emails[${CORE}:type eq "work"]`), 'invalidFilter');
    expectError(() => parseFilter('name.givenName[value eq "x"]'), 'invalidFilter');
    expectError(() => parseFilter('emails[]'), 'invalidFilter', /empty value filter/);
  });
});

describe('parseFilter: URN paths', () => {
  it('enterprise department', () => {
    expect(parseFilter(`${ENT}:department eq "Sales"`)).toEqual(cmp('department', 'eq', 'Sales', { uri: ENT }));
  });

  it('enterprise manager.value', () => {
    expect(parseFilter(`${ENT}:manager.value eq "26118915"`)).toEqual(cmp('manager', 'eq', '26118915', { uri: ENT, sub: 'value' }));
  });

  it('core URN userName and name.familyName', () => {
    expect(parseFilter(`${CORE}:userName sw "J"`)).toEqual(cmp('userName', 'sw', 'J', { uri: CORE }));
    expect(parseFilter(`${CORE}:name.familyName pr`)).toEqual({
      kind: 'present',
      path: { uri: CORE, attr: 'name', sub: 'familyName' },
    });
  });

  it('a bare extension URN splits at the last colon', () => {
    expect(parseFilter(`${ENT} pr`)).toEqual({ kind: 'present', path: { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attr: 'User' } });
  });

  it('rejects a URN with nothing after the last colon', () => {
    expectError(() => parseFilter(`${ENT}: eq "x"`), 'invalidFilter', /invalid attribute path/);
    expectError(() => parseFilter(':userName eq "x"'), 'invalidFilter');
  });
});

describe('parseFilter: real IdP filters', () => {
  it('Entra ID / Okta', () => {
    expect(parseFilter('userName eq "7b9e2f4a-3c1d-4e8f-9a2b-5d6c7e8f9a0b"')).toEqual(
      cmp('userName', 'eq', '7b9e2f4a-3c1d-4e8f-9a2b-5d6c7e8f9a0b'),
    );
    expect(parseFilter('externalId eq jyoung')).toEqual(cmp('externalId', 'eq', 'jyoung', {}, 'jyoung'));
    expect(parseFilter('displayName eq "Sales Team"')).toEqual(cmp('displayName', 'eq', 'Sales Team'));
    expect(parseFilter('id eq "x" and members eq "y"')).toEqual({
      kind: 'and',
      left: cmp('id', 'eq', 'x'),
      right: cmp('members', 'eq', 'y'),
    });
    expect(parseFilter('userName eq "bjensen@example.com" and active eq true')).toEqual({
      kind: 'and',
      left: cmp('userName', 'eq', 'bjensen@example.com'),
      right: cmp('active', 'eq', true, {}, 'true'),
    });
  });
});

describe('parseFilter: errors', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['(userName eq "x"', /missing '\)'.*position 1/],
    ['userName eq "x")', /unbalanced '\)' at position 16/],
    ['emails[type eq "x"', /missing '\]'/],
    ['userName eq "x"]', /unbalanced '\]'/],
    ['userName xx "x"', /unknown operator 'xx'.*at position 10/],
    ['userName eq', /missing value after 'eq'/],
    ['userName eq )', /missing value/],
    ['(userName eq)', /missing value/],
    ['userName', /expected an operator/],
    ['userName eq "x" foo', /found 'foo'/],
    ['userName eq "x" and', /ended/],
    ['userName eq "x" or or b pr', /unknown operator 'b'/],
    ['userName eq "abc', /unterminated string starting at position 13/],
    ['userName eq "abc\\', /unterminated string/],
    ['userName eq "a\\qb"', /invalid escape/],
    ['userName eq "\\u12"', /invalid unicode escape/],
    ['not userName eq "x"', /'not' must be followed by '\('/],
    ['not', /'not' must be followed/],
    ['()', /unexpected '\)'/],
    ['userName eq "x" and ()', /unexpected '\)'/],
    ['1abc eq "x"', /invalid attribute path '1abc'/],
    ['a.b.c eq "x"', /invalid attribute path 'a\.b\.c'/],
    ['user!name eq "x"', /invalid attribute path/],
    ['"x" eq userName', /expected an attribute name/],
    ['userName eq "x" "y"', /expected 'and', 'or'/],
    ['userName eq a(b)', /expected 'and', 'or'/],
    ['userName eqx "a"', /unknown operator 'eqx'/],
    [']', /unexpected '\]'/],
  ];
  it.each(cases)('%j', (text, detail) => {
    expectError(() => parseFilter(text), 'invalidFilter', detail);
  });

  it('caps length', () => {
    const long = `userName eq "${'x'.repeat(10_000)}"`;
    expectError(() => parseFilter(long), 'invalidFilter', /longer than 10000/);
    // Just under the cap is fine, including a long and-chain.
    const chain = Array.from({ length: 800 }, (_, i) => `a${i} pr`).join(' and ');
    expect(chain.length).toBeLessThan(10_000);
    expect(parseFilter(chain, { ...DEFAULT_LIMITS, filterTerms: 1000 }).kind).toBe('and');
    expectError(() => parseFilter(`userName eq "${'x'.repeat(300)}"`, { ...DEFAULT_LIMITS, filterLength: 256 }), 'invalidFilter', /longer than 256/);
  });

  it('refuses a \\u0000 escape (PostgreSQL cannot compare U+0000), in filters and PATCH paths alike', () => {
    expectError(() => parseFilter('userName eq "a\\u0000b"'), 'invalidFilter', /U\+0000/);
    expectError(() => parsePatchPath('emails[value eq "\\u0000"]'), 'invalidPath', /U\+0000/);
    expect(parseFilter('userName eq "a\\u0001b"')).toMatchObject({ value: { value: 'a\u0001b' } });
  });

  it("a PATCH path's value filter over the bounds is an invalid path", () => {
    expectError(() => parsePatchPath(`emails[${'('.repeat(30)}value pr${')'.repeat(30)}]`), 'invalidPath', /deeper than 20/);
  });

  it('caps the number of terms over the whole filter, value paths included', () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `a${i} eq "x"`);
    expect(parseFilter(terms(100).join(' or ')).kind).toBe('or');
    expectError(() => parseFilter(terms(101).join(' or ')), 'invalidFilter', /more than 100 terms/);
    // Terms inside brackets count too: 50 value paths of two terms each is 100.
    const paths = Array.from({ length: 50 }, (_, i) => `emails[type eq "w${i}" and value co "x"]`);
    expect(parseFilter(paths.join(' or ')).kind).toBe('or');
    expectError(() => parseFilter([...paths, 'userName pr'].join(' and ')), 'invalidFilter', /more than 100 terms/);
    expectError(() => parseFilter(terms(6).join(' and '), { ...DEFAULT_LIMITS, filterTerms: 5 }), 'invalidFilter', /more than 5 terms/);
  });

  it('caps nesting depth', () => {
    const ok = `${'('.repeat(20)}a pr${')'.repeat(20)}`;
    expect(parseFilter(ok)).toEqual({ kind: 'present', path: { attr: 'a' } });
    expectError(() => parseFilter(`${'('.repeat(21)}a pr${')'.repeat(21)}`), 'invalidFilter', /deeper than 20/);
    expectError(() => parseFilter(`${'not ('.repeat(60)}a pr${')'.repeat(60)}`), 'invalidFilter', /deeper than 20/);
    expectError(() => parseFilter('('.repeat(5000)), 'invalidFilter', /deeper than 20/);
    const deep = `${'('.repeat(50)}a pr${')'.repeat(50)}`;
    expect(parseFilter(deep, { ...DEFAULT_LIMITS, filterDepth: 50 }).kind).toBe('present');
  });

  it('rejects non-string input with a ScimError', () => {
    expectError(() => parseFilter(undefined as unknown as string), 'invalidFilter');
  });
});

describe('parsePatchPath', () => {
  it('attribute and sub-attribute', () => {
    expect(parsePatchPath('displayName')).toEqual({ path: { attr: 'displayName' } });
    expect(parsePatchPath('name.familyName')).toEqual({ path: { attr: 'name', sub: 'familyName' } });
    expect(parsePatchPath('members')).toEqual({ path: { attr: 'members' } });
  });

  it('URN-qualified', () => {
    expect(parsePatchPath(`${ENT}:manager`)).toEqual({ path: { uri: ENT, attr: 'manager' } });
    expect(parsePatchPath(`${ENT}:manager.value`)).toEqual({ path: { uri: ENT, attr: 'manager', sub: 'value' } });
    expect(parsePatchPath(`${CORE}:userName`)).toEqual({ path: { uri: CORE, attr: 'userName' } });
  });

  it('value paths', () => {
    expect(parsePatchPath('members[value eq "2819c223"]')).toEqual({
      path: { attr: 'members' },
      filter: cmp('value', 'eq', '2819c223'),
    });
    expect(parsePatchPath('emails[type eq "work"]')).toEqual({ path: { attr: 'emails' }, filter: cmp('type', 'eq', 'work') });
    expect(parsePatchPath('emails[type eq "work"].value')).toEqual({
      path: { attr: 'emails' },
      filter: cmp('type', 'eq', 'work'),
      subAfterFilter: 'value',
    });
    expect(parsePatchPath('addresses[type eq "work" and primary eq true].streetAddress')).toEqual({
      path: { attr: 'addresses' },
      filter: { kind: 'and', left: cmp('type', 'eq', 'work'), right: cmp('primary', 'eq', true, {}, 'true') },
      subAfterFilter: 'streetAddress',
    });
  });

  it('bare extension URN: last-colon split (consumer re-joins), or whole URN when the tail is not a name', () => {
    expect(parsePatchPath(ENT)).toEqual({ path: { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attr: 'User' } });
    expect(parsePatchPath('urn:acme:scim:ext:1.0')).toEqual({ path: { uri: 'urn:acme:scim:ext:1.0', attr: '' } });
  });

  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['  ', /empty/],
    ['emails[type eq "work"', /missing '\]'/],
    ['emails[type eq "work"]]', /unexpected/],
    ['emails[type eq "work"].', /invalid sub-attribute/],
    ['emails[type eq "work"].value.x', /invalid sub-attribute/],
    ['emails[type xx "work"]', /unknown operator/],
    ['emails[]', /empty value filter/],
    ['emails[a[b eq 1]]', /nested/],
    ['name.givenName[value eq "x"]', /multi-valued/],
    ['a.b.c', /invalid attribute path/],
    ['1abc', /invalid attribute path/],
    ['displayName eq "x"', /unexpected 'eq'/],
    ['(displayName)', /expected an attribute name/],
    [`${ENT}:`, /invalid attribute path/],
    ['urn:acme:scim:ext:1.0[value eq "x"]', /multi-valued/],
  ];
  it.each(bad)('rejects %j', (text, detail) => {
    expectError(() => parsePatchPath(text), 'invalidPath', detail);
  });
});

/** Deterministic PRNG so a failure reproduces. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzz', () => {
  const pieces = [
    'userName', 'emails', 'value', 'type', '$ref', '.', ':', 'urn:ietf:params:scim:schemas:core:2.0:User:', ENT + ':',
    '[', ']', '(', ')', ' ', ' ', ' ', '\t', '"', '"x"', '\\', '\\u', '00e9', 'eq', 'EQ', 'ne', 'co', 'sw', 'gt', 'pr',
    'and', 'or', 'not', 'NOT', '1', '-', '1.5e3', 'true', 'null', 'é', '\u0000', '+', '😀', '\ud800',
  ];

  it('parseFilter and parsePatchPath throw only ScimError on random input', () => {
    const rand = mulberry32(7);
    let parsed = 0;
    for (let i = 0; i < 4000; i++) {
      const n = 1 + Math.floor(rand() * 14);
      let s = '';
      for (let j = 0; j < n; j++) {
        s += rand() < 0.1 ? String.fromCharCode(Math.floor(rand() * 128)) : pieces[Math.floor(rand() * pieces.length)];
      }
      for (const fn of [parseFilter, parsePatchPath]) {
        try {
          fn(s);
          parsed++;
        } catch (e) {
          if (!(e instanceof ScimError)) throw new Error(`non-ScimError for ${JSON.stringify(s)}: ${String(e)}`);
          expect(e.status).toBe(400);
          expect(['invalidFilter', 'invalidPath']).toContain(e.scimType);
        }
      }
    }
    // The alphabet is grammar-ish enough that some inputs must be valid.
    expect(parsed).toBeGreaterThan(0);
  });

  /** Print an AST fully parenthesised, so the text must parse back to the same tree. */
  function print(f: Filter): string {
    const path = (p: AttrPath) => `${p.uri ? p.uri + ':' : ''}${p.attr}${p.sub ? '.' + p.sub : ''}`;
    switch (f.kind) {
      case 'compare': {
        const v = f.value.raw ?? JSON.stringify(f.value.value);
        return `${path(f.path)} ${f.op} ${v}`;
      }
      case 'present': return `${path(f.path)} pr`;
      case 'and': return `(${print(f.left)}) and (${print(f.right)})`;
      case 'or': return `(${print(f.left)}) or (${print(f.right)})`;
      case 'not': return `not (${print(f.filter)})`;
      case 'valuePath': return `${path(f.path)}[${print(f.filter)}]`;
    }
  }

  it('random ASTs round-trip through print and parse', () => {
    const rand = mulberry32(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const ops: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
    const values = [
      { value: 'plain' }, { value: 'with "quotes" and \\ and ] )' }, { value: 'é😀\n' },
      { value: 12, raw: '12' }, { value: -0.5, raw: '-0.5' }, { value: true, raw: 'true' }, { value: null, raw: 'null' },
      { value: 'jyoung', raw: 'jyoung' },
    ];
    const leaf = (inner: boolean): Filter => {
      const path: AttrPath = inner ? { attr: pick(['type', 'value', '$ref']) } : pick([
        { attr: 'userName' }, { attr: 'name', sub: 'familyName' }, { uri: ENT, attr: 'department' }, { uri: ENT, attr: 'manager', sub: 'value' },
      ]);
      return rand() < 0.2 ? { kind: 'present', path } : { kind: 'compare', path, op: pick(ops), value: pick(values) };
    };
    const gen = (depth: number, inner: boolean): Filter => {
      const r = rand();
      if (depth === 0 || r < 0.3) return leaf(inner);
      if (r < 0.5) return { kind: 'and', left: gen(depth - 1, inner), right: gen(depth - 1, inner) };
      if (r < 0.7) return { kind: 'or', left: gen(depth - 1, inner), right: gen(depth - 1, inner) };
      if (r < 0.85 || inner) return { kind: 'not', filter: gen(depth - 1, inner) };
      return { kind: 'valuePath', path: { attr: 'emails' }, filter: gen(depth - 1, true) };
    };
    for (let i = 0; i < 500; i++) {
      const ast = gen(5, false);
      expect(parseFilter(print(ast))).toEqual(ast);
    }
  });
});
