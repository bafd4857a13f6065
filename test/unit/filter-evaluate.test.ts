import { describe, it, expect } from 'vitest';
import { parseFilter, parsePatchPath } from '../../src/scim/filter/parse.js';
import { evaluateFilter, matchingIndexes, type EvalOptions } from '../../src/scim/filter/evaluate.js';
import type { AttrPath } from '../../src/scim/filter/ast.js';
import { ScimError } from '../../src/scim/errors.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

const user: Record<string, unknown> = {
  schemas: [CORE, ENT],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: '12345',
  userName: 'Bjensen@Example.com',
  name: { familyName: 'Jensen', givenName: 'Barbara', formatted: 'Ms. Barbara J Jensen III' },
  displayName: 'Babs Jensen',
  nickName: '',
  title: null,
  active: true,
  loginCount: 42,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  phoneNumbers: [],
  groups: [{ value: 'e9e30dba', display: 'Tour Guides' }],
  x509Certificates: [{ value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJ' }],
  tags: ['alpha', 'Beta'],
  meta: {
    resourceType: 'User',
    created: '2010-01-23T04:56:22Z',
    lastModified: '2015-10-10T21:40:00.1234567Z',
  },
  [ENT]: {
    employeeNumber: '701984',
    department: 'Sales',
    manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', displayName: 'John Smith' },
  },
};

const ev = (filter: string, resource: Record<string, unknown> = user, opts?: EvalOptions) =>
  evaluateFilter(parseFilter(filter), resource, opts);

describe('evaluateFilter: operators on strings', () => {
  it.each([
    ['userName eq "bjensen@example.com"', true], // case-insensitive by default
    ['userName eq "someone"', false],
    ['userName ne "someone"', true],
    ['userName ne "BJENSEN@example.com"', false],
    ['userName co "JENSEN"', true],
    ['userName co "xyz"', false],
    ['userName sw "bj"', true],
    ['userName sw "ens"', false],
    ['userName ew ".COM"', true],
    ['userName ew "org"', false],
    ['displayName gt "Babs"', true],
    ['displayName gt "babs jensen"', false],
    ['displayName ge "babs jensen"', true],
    ['displayName lt "c"', true],
    ['displayName lt "Babs Jensen"', false],
    ['displayName le "Babs Jensen"', true],
  ] as const)('%s → %s', (f, expected) => {
    expect(ev(f)).toBe(expected);
  });

  it('caseExact from the options', () => {
    const exact = (p: AttrPath) => p.attr === 'userName';
    expect(ev('userName eq "bjensen@example.com"', user, { caseExact: exact })).toBe(false);
    expect(ev('userName eq "Bjensen@Example.com"', user, { caseExact: exact })).toBe(true);
    expect(ev('userName co "Example"', user, { caseExact: exact })).toBe(true);
    expect(ev('userName co "example"', user, { caseExact: exact })).toBe(false);
    expect(ev('displayName eq "babs jensen"', user, { caseExact: exact })).toBe(true);
  });

  it('attribute names match case-insensitively', () => {
    expect(ev('USERNAME eq "bjensen@example.com"')).toBe(true);
    expect(ev('name.FAMILYNAME eq "jensen"')).toBe(true);
  });
});

describe('evaluateFilter: presence and absence', () => {
  it.each([
    ['userName pr', true],
    ['nickName pr', false], // empty string
    ['title pr', false], // null
    ['nosuch pr', false],
    ['phoneNumbers pr', false], // empty array
    ['emails pr', true],
    ['name pr', true],
    ['name.middleName pr', false],
    ['emails.value pr', true],
    ['emails.display pr', false],
  ] as const)('%s → %s', (f, expected) => {
    expect(ev(f)).toBe(expected);
  });

  it('a complex value with only empty sub-attributes is not present', () => {
    expect(ev('name pr', { name: { givenName: '', familyName: null } })).toBe(false);
  });

  it('ne on an absent attribute is true; eq is false', () => {
    expect(ev('nosuch ne "x"')).toBe(true);
    expect(ev('nosuch eq "x"')).toBe(false);
    expect(ev('nosuch gt "a"')).toBe(false);
  });

  it('eq null means not present, ne null means present', () => {
    expect(ev('title eq null')).toBe(true);
    expect(ev('nickName eq null')).toBe(true);
    expect(ev('nosuch eq null')).toBe(true);
    expect(ev('userName eq null')).toBe(false);
    expect(ev('userName ne null')).toBe(true);
    expect(ev('title ne null')).toBe(false);
    expect(ev('userName gt null')).toBe(false);
  });
});

describe('evaluateFilter: multi-valued attributes', () => {
  it('any element matches via sub-attribute', () => {
    expect(ev('emails.value eq "babs@jensen.org"')).toBe(true);
    expect(ev('emails.type eq "home"')).toBe(true);
    expect(ev('emails.type eq "other"')).toBe(false);
    expect(ev('emails.value co example.com')).toBe(true);
  });

  it('complex multi-valued without a sub-attribute compares value', () => {
    expect(ev('emails co "example.com"')).toBe(true);
    expect(ev('emails eq "BJENSEN@example.com"')).toBe(true);
    expect(ev('groups eq "e9e30dba"')).toBe(true);
    expect(ev('groups eq "Tour Guides"')).toBe(false);
  });

  it('simple multi-valued', () => {
    expect(ev('tags eq "beta"')).toBe(true);
    expect(ev('tags sw "al"')).toBe(true);
    expect(ev('tags eq "gamma"')).toBe(false);
  });

  it('ne is the negation of eq over all values', () => {
    expect(ev('emails.type ne "work"')).toBe(false);
    expect(ev('emails.type ne "other"')).toBe(true);
    expect(ev('phoneNumbers.value ne "x"')).toBe(true);
  });

  it('Okta group lookup: id eq and members eq', () => {
    const group = { id: 'g1', displayName: 'Sales Team', members: [{ value: 'u1' }, { value: 'u2', display: 'Two' }] };
    expect(ev('id eq "g1" and members eq "u2"', group)).toBe(true);
    expect(ev('id eq "g1" and members eq "u3"', group)).toBe(false);
    expect(ev('displayName eq "Sales Team"', group)).toBe(true);
  });
});

describe('evaluateFilter: value paths', () => {
  it('needs ONE element to satisfy the whole inner filter', () => {
    expect(ev('emails[type eq "work" and value co "@example.com"]')).toBe(true);
    // Both conditions hold, but on different elements.
    expect(ev('emails[type eq "home" and value co "@example.com"]')).toBe(false);
    expect(ev('emails[type eq "work" or value co "nowhere"]')).toBe(true);
    expect(ev('emails[not (type eq "work")]')).toBe(true);
    expect(ev('emails[primary eq true]')).toBe(true);
    expect(ev('emails[primary eq false]')).toBe(false);
    expect(ev('phoneNumbers[type eq "work"]')).toBe(false);
    expect(ev('nosuch[type eq "work"]')).toBe(false);
  });

  it('a single complex value acts as a one-element list', () => {
    expect(ev('name[familyName eq "jensen"]')).toBe(true);
    expect(ev(`${ENT}:manager[displayName sw "John"]`)).toBe(true);
  });

  it('simple multi-valued elements are addressed as value', () => {
    expect(ev('tags[value eq "alpha"]')).toBe(true);
  });

  it('combined with top-level terms', () => {
    expect(ev('userName sw "bj" and emails[type eq "home"]')).toBe(true);
    expect(ev('not (emails[type eq "home"]) or active eq false')).toBe(false);
  });

  it('callbacks receive full paths inside a value filter', () => {
    const seen: AttrPath[] = [];
    ev('emails[type eq "WORK"]', user, {
      caseExact: (p) => {
        seen.push(p);
        return true;
      },
    });
    expect(seen).toContainEqual({ attr: 'emails', sub: 'type' });
    expect(ev('emails[type eq "WORK"]', user, { caseExact: (p) => p.sub === 'type' })).toBe(false);
  });
});

describe('evaluateFilter: URN paths', () => {
  it('enterprise extension attributes', () => {
    expect(ev(`${ENT}:department eq "sales"`)).toBe(true);
    expect(ev(`${ENT}:department eq "Marketing"`)).toBe(false);
    expect(ev(`${ENT}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`)).toBe(true);
    expect(ev(`${ENT}:employeeNumber pr`)).toBe(true);
    expect(ev(`${ENT}:costCenter pr`)).toBe(false);
  });

  it('URN key matched case-insensitively', () => {
    expect(ev(`${ENT.toLowerCase()}:department eq "Sales"`)).toBe(true);
  });

  it('core URN means the top level', () => {
    expect(ev(`${CORE}:userName eq "bjensen@example.com"`)).toBe(true);
    expect(ev(`${CORE}:name.givenName sw "Bar"`)).toBe(true);
    expect(ev('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"', { displayName: 'X' })).toBe(true);
  });

  it('the bare extension URN (split at the last colon) names the extension object', () => {
    expect(ev(`${ENT} pr`)).toBe(true);
    expect(ev(`${ENT} pr`, { userName: 'x' })).toBe(false);
  });

  it('unknown extension is absent', () => {
    expect(ev('urn:acme:ext:1.0:User:foo pr')).toBe(false);
  });
});

describe('evaluateFilter: typed comparisons', () => {
  it('numbers compare numerically', () => {
    expect(ev('loginCount gt 9')).toBe(true); // as strings "42" < "9"
    expect(ev('loginCount eq 42')).toBe(true);
    expect(ev('loginCount eq 42.0')).toBe(true);
    expect(ev('loginCount le 41.5')).toBe(false);
    expect(ev('loginCount eq "42"')).toBe(true);
    expect(ev('loginCount eq "abc"')).toBe(false);
    expect(ev('loginCount co 4')).toBe(false);
  });

  it('a string attribute compared with a number uses the raw token', () => {
    expect(ev('externalId eq 12345')).toBe(true);
    expect(ev('code eq 007', { code: '007' })).toBe(true);
    expect(ev('code eq 7', { code: '007' })).toBe(false);
    expect(ev('code eq 1e3', { code: '1e3' })).toBe(true);
  });

  it('declared numeric type on a string-stored value', () => {
    const typeOf = (p: AttrPath) => (p.attr === 'n' ? 'integer' : undefined);
    expect(ev('n gt 9', { n: '42' }, { typeOf })).toBe(true);
    expect(ev('n gt 9', { n: '42' })).toBe(false); // string order without the declaration
  });

  it('booleans, including "True"/"false" strings', () => {
    expect(ev('active eq true')).toBe(true);
    expect(ev('active eq false')).toBe(false);
    expect(ev('active ne false')).toBe(true);
    expect(ev('active eq "true"')).toBe(true);
    expect(ev('active eq True', { active: 'True' })).toBe(true);
    expect(ev('active eq false', { active: 'FALSE' })).toBe(true);
    expect(ev('active eq true', { active: 'yes' })).toBe(false);
    expect(ev('active co true')).toBe(false);
  });

  it('gt/ge/lt/le on booleans is invalidFilter', () => {
    for (const f of ['active gt true', 'active lt false', 'x ge true']) {
      try {
        ev(f, { x: 1 });
        throw new Error(`expected an error for ${f}`);
      } catch (e) {
        expect(e).toBeInstanceOf(ScimError);
        expect((e as ScimError).scimType).toBe('invalidFilter');
        expect((e as ScimError).status).toBe(400);
      }
    }
    // The stored value being boolean is enough, too.
    expect(() => ev('active gt "a"')).toThrow(ScimError);
    // A declared boolean errors even when the attribute is absent (decided from the filter).
    expect(() => ev('flag le "x"', {}, { typeOf: () => 'boolean' })).toThrow(ScimError);
  });

  it('binary: ordering is invalidFilter, equality is case-exact', () => {
    const typeOf = (p: AttrPath) => (p.attr === 'x509Certificates' ? 'binary' : undefined);
    expect(() => ev('x509Certificates gt "A"', user, { typeOf })).toThrow(ScimError);
    expect(ev('x509Certificates eq "MIIDQzCCAqygAwIBAgICEAAwDQYJ"', user, { typeOf })).toBe(true);
    expect(ev('x509Certificates eq "miidqzccaqygawibagiceaawdqyj"', user, { typeOf })).toBe(false);
  });
});

describe('evaluateFilter: dateTime', () => {
  const typeOf = (p: AttrPath) => (p.attr === 'meta' && p.sub !== 'resourceType' ? 'dateTime' : undefined);

  it('gt against an offset timestamp with 7 fractional digits', () => {
    // 2015-10-10T14:38:21.8617979-07:00 is 21:38:21.86Z, before 21:40:00Z.
    expect(ev('meta.lastModified gt 2015-10-10T14:38:21.8617979-07:00', user, { typeOf })).toBe(true);
    expect(ev('meta.lastModified lt 2015-10-10T14:38:21.8617979-07:00', user, { typeOf })).toBe(false);
    // Lexicographically "2015-10-10T21…" > "2015-10-10T14…" either way; use a case where string order is wrong:
    expect(ev('meta.lastModified gt "2015-10-10T22:00:00+02:00"', user, { typeOf })).toBe(true);
    expect(ev('meta.lastModified lt "2015-10-10T16:00:00-07:00"', user, { typeOf })).toBe(true);
  });

  it('instants are inferred for ISO strings without a declared type', () => {
    expect(ev('meta.lastModified gt "2015-10-10T22:00:00+02:00"')).toBe(true);
    expect(ev('meta.created eq "2010-01-23T05:56:22+01:00"')).toBe(true);
  });

  it('sub-millisecond precision is kept', () => {
    const r = { meta: { lastModified: '2015-10-10T21:40:00.1234567Z' } };
    expect(ev('meta.lastModified gt "2015-10-10T21:40:00.1234566Z"', r, { typeOf })).toBe(true);
    expect(ev('meta.lastModified eq "2015-10-10T21:40:00.12345670Z"', r, { typeOf })).toBe(true);
    expect(ev('meta.lastModified lt "2015-10-10T21:40:00.1234568Z"', r, { typeOf })).toBe(true);
    expect(ev('meta.lastModified ge "2015-10-10T21:40:00.123Z"', r, { typeOf })).toBe(true);
  });

  it('unparseable dates match nothing', () => {
    expect(ev('meta.lastModified gt "yesterday"', user, { typeOf })).toBe(false);
    expect(ev('meta.lastModified lt "yesterday"', user, { typeOf })).toBe(false);
    expect(ev('meta.lastModified eq "2015-02-30T00:00:00Z"', user, { typeOf })).toBe(false);
    expect(ev('d gt "2015-01-01T00:00:00Z"', { meta: {}, d: 'not a date' }, { typeOf: () => 'dateTime' })).toBe(false);
  });

  it('sw/co on a dateTime are string operations', () => {
    expect(ev('meta.created sw "2010-01"', user, { typeOf })).toBe(true);
  });
});

describe('evaluateFilter: logic', () => {
  it('and/or/not and precedence', () => {
    expect(ev('userName eq "x" or active eq true and loginCount eq 42')).toBe(true);
    expect(ev('(userName eq "x" or active eq true) and loginCount eq 1')).toBe(false);
    expect(ev('not (userName eq "x")')).toBe(true);
    expect(ev('not (userName pr) or not (active eq true)')).toBe(false);
    expect(ev('userName EQ "bjensen@example.com" AND title Pr')).toBe(false);
  });
});

describe('matchingIndexes', () => {
  const emails = [
    { value: 'a@work.com', type: 'work' },
    { value: 'b@home.org', type: 'home' },
    { value: 'c@work.com', type: 'Work', primary: true },
  ];

  it('selects elements for a PATCH value path', () => {
    const p = parsePatchPath('emails[type eq "work"].value');
    expect(matchingIndexes(p.filter!, emails)).toEqual([0, 2]);
    expect(matchingIndexes(parseFilter('value ew ".org"'), emails)).toEqual([1]);
    expect(matchingIndexes(parseFilter('primary eq true'), emails)).toEqual([2]);
    expect(matchingIndexes(parseFilter('type eq "other"'), emails)).toEqual([]);
  });

  it('members[value eq "x"]', () => {
    const members = [{ value: '2819c223' }, { value: 'other' }, { value: '2819C223' }];
    const p = parsePatchPath('members[value eq "2819c223"]');
    expect(matchingIndexes(p.filter!, members)).toEqual([0, 2]);
    expect(matchingIndexes(p.filter!, members, { caseExact: (path) => path.attr === 'members' }, { attr: 'members' })).toEqual([0]);
  });

  it('scalar elements are addressed as value', () => {
    expect(matchingIndexes(parseFilter('value sw "b"'), ['alpha', 'beta', 'bravo'])).toEqual([1, 2]);
  });
});

describe('fuzz: evaluation throws only ScimError', () => {
  it('random filters over the sample user', () => {
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    const paths = ['userName', 'emails', 'emails.value', 'name.familyName', 'active', 'loginCount', 'meta.lastModified', `${ENT}:manager.value`, 'tags', 'nosuch'];
    const ops = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
    const values = ['"x"', '1', 'true', 'null', '2015-10-10T14:38:21.8617979-07:00', 'jyoung', '"2015-10-10T14:38:21Z"', '-0.5'];
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (let i = 0; i < 2000; i++) {
      const f = `${pick(paths)} ${pick(ops)} ${pick(values)} ${pick(['and', 'or'])} emails[${pick(['type', 'value', 'primary'])} ${pick(ops)} ${pick(values)}]`;
      try {
        expect(typeof ev(f)).toBe('boolean');
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        expect(e.scimType).toBe('invalidFilter');
      }
    }
  });
});
