import { describe, expect, it } from 'vitest';
import {
  applyGender,
  applyLanguage,
  applyUserPolicies,
  checkCollective,
  checkDomains,
  groupsFromRules,
  normalizeLanguage,
  resolveProfile,
  settingsChecks,
  validateAttributeMap,
  validateDefaultLanguage,
  validateGroupRules,
} from '../../src/directory/policies/index.js';
import { type ConnectionSettings, SettingsError, mergeSettings, settingsSchema } from '../../src/directory/settings.js';
import { ScimError } from '../../src/scim/errors.js';
import type { Doc } from '../../src/scim/resource.js';
import { ENTERPRISE_USER as ENT, ROLLCALL_USER as RC } from '../../src/scim/schemas.js';

function settings(patch: Record<string, unknown> = {}): ConnectionSettings {
  return settingsSchema.parse(patch);
}

/** The ScimError `fn` throws; fails the test unless it is a 400 invalidValue. */
function refusal(fn: () => unknown): ScimError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ScimError);
  const err = thrown as ScimError;
  expect(err.status).toBe(400);
  expect(err.scimType).toBe('invalidValue');
  return err;
}

function user(extra: Doc = {}): Doc {
  return { userName: 'alice@acme.com', emails: [{ value: 'alice@acme.com', type: 'work', primary: true }], ...extra };
}

describe('checkDomains', () => {
  const s = settings({ domains: ['acme.com', 'acme.de'] });

  it('accepts addresses at listed domains, in any case', () => {
    expect(() => checkDomains(s, user())).not.toThrow();
    expect(() => checkDomains(s, { userName: 'Bob@ACME.De', emails: [{ value: 'bob@Acme.COM' }] })).not.toThrow();
  });

  it('does nothing without configured domains', () => {
    expect(() => checkDomains(settings(), { userName: 'x@anything.org' })).not.toThrow();
  });

  it('ignores a userName that is not an address, but still checks emails', () => {
    expect(() => checkDomains(s, { userName: 'alice', emails: [{ value: 'alice@acme.com' }] })).not.toThrow();
    const err = refusal(() => checkDomains(s, { userName: 'alice', emails: [{ value: 'alice@gmail.com' }] }));
    expect(err.detail).toContain("'alice@gmail.com' (emails[0].value)");
  });

  it('names the address, its domain and the allowed domains', () => {
    const err = refusal(() => checkDomains(s, user({ userName: 'alice@evil.com' })));
    expect(err.detail).toContain("'alice@evil.com' (userName)");
    expect(err.detail).toContain("domain 'evil.com'");
    expect(err.detail).toContain('acme.com, acme.de');
  });

  it('checks every email, not only the primary', () => {
    const doc = user({ emails: [{ value: 'alice@acme.com', primary: true }, { value: 'alice@private.example', type: 'home' }] });
    expect(refusal(() => checkDomains(s, doc)).detail).toContain('emails[1].value');
  });

  it('refuses subdomains and look-alike domains unless listed', () => {
    for (const addr of ['a@eu.acme.com', 'a@acme.com.evil.com', 'a@notacme.com', 'a@acme.co', 'a@acme.com.']) {
      refusal(() => checkDomains(s, { userName: addr }));
    }
    expect(() => checkDomains(settings({ domains: ['acme.com', 'eu.acme.com'] }), { userName: 'a@eu.acme.com' })).not.toThrow();
  });

  it('uses the last @, where the mail is delivered', () => {
    refusal(() => checkDomains(s, { userName: 'alice@acme.com@evil.com' }));
    refusal(() => checkDomains(s, { userName: 'Alice <alice@evil.com>' }));
    refusal(() => checkDomains(s, { userName: 'alice+acme.com@evil.com' }));
    refusal(() => checkDomains(s, { userName: 'alice@acme.com+x' }));
    refusal(() => checkDomains(s, { userName: 'alice@evil.com', emails: [{ value: 'alice@acme.com', primary: true }] }));
    expect(() => checkDomains(s, { userName: '"alice@evil.com"@acme.com' })).not.toThrow();
  });

  it('refuses an email value without a domain', () => {
    expect(refusal(() => checkDomains(s, { userName: 'a', emails: [{ value: 'alice' }] })).detail).toContain('not an e-mail address');
    refusal(() => checkDomains(s, { userName: 'a', emails: [{ value: 'alice@' }] }));
  });

  it('skips empty email values (IdPs send "" for unset)', () => {
    expect(() => checkDomains(s, { userName: 'a@acme.com', emails: [{ value: '', type: 'home' }] })).not.toThrow();
  });

  it('matches internationalised domains against their punycode form', () => {
    const idn = settings({ domains: ['xn--mller-kva.de'] });
    expect(() => checkDomains(idn, { userName: 'max@müller.de' })).not.toThrow();
    expect(() => checkDomains(idn, { userName: 'max@MÜLLER.de' })).not.toThrow();
    refusal(() => checkDomains(idn, { userName: 'max@muller.de' }));
  });
});

describe('checkCollective', () => {
  const on = settings();

  it('is on by default and accepts personal addresses', () => {
    expect(() => checkCollective(on, user())).not.toThrow();
    expect(() => checkCollective(on, { userName: 'info.tech.lead@acme.com', emails: [{ value: 'sales.person@acme.com' }] })).not.toThrow();
  });

  it('refuses role mailboxes and names the address', () => {
    for (const local of ['info', 'sales', 'support', 'team', 'office', 'admin', 'hr', 'noreply', 'postmaster', 'billing', 'kontakt']) {
      const err = refusal(() => checkCollective(on, { userName: `${local}@acme.com` }));
      expect(err.detail).toContain(`'${local}@acme.com' (userName)`);
      expect(err.detail).toContain('rejectCollectiveAddresses');
    }
  });

  it('sees through case, plus-addressing, quoting and separators', () => {
    for (const addr of ['INFO@acme.com', 'Info+alice@acme.com', 'info+@acme.com', '"info"@acme.com', ' info@acme.com ',
      'no-reply@acme.com', 'no.reply@acme.com', 'no_reply@acme.com', 'No.Reply+x@acme.com', 'do.not.reply@acme.com', 'do_not_reply@acme.com', 'customer.service@acme.com']) {
      refusal(() => checkCollective(on, { userName: 'alice@acme.com', emails: [{ value: addr }] }));
    }
  });

  it('checks every email', () => {
    const doc = user({ emails: [{ value: 'alice@acme.com' }, { value: 'support+tickets@acme.com' }] });
    const err = refusal(() => checkCollective(on, doc));
    expect(err.detail).toContain("'support+tickets@acme.com' (emails[1].value)");
    expect(err.detail).toContain("('support')");
  });

  it('ignores a userName that is not an address', () => {
    expect(() => checkCollective(on, { userName: 'info' })).not.toThrow();
  });

  it('adds collectiveLocalParts, normalised the same way', () => {
    const s = settings({ collectiveLocalParts: ['Front-Office', 'dispatch'] });
    refusal(() => checkCollective(s, { userName: 'front.office@acme.com' }));
    refusal(() => checkCollective(s, { userName: 'frontoffice+1@acme.com' }));
    refusal(() => checkCollective(s, { userName: 'DISPATCH@acme.com' }));
  });

  it('does nothing when switched off', () => {
    expect(() => checkCollective(settings({ rejectCollectiveAddresses: false }), { userName: 'info@acme.com' })).not.toThrow();
  });

  it('settings refuse entries that are not local parts', () => {
    expect(() => mergeSettings({}, { collectiveLocalParts: ['info@acme.com'] }, settingsChecks)).toThrow(/collectiveLocalParts\[0\].*without '@'/);
    expect(() => mergeSettings({}, { collectiveLocalParts: ['info+x'] }, settingsChecks)).toThrow(/must not contain '\+'/);
    expect(() => mergeSettings({}, { collectiveLocalParts: ['...'] }, settingsChecks)).toThrow(/no letters or digits/);
  });
});

describe('normalizeLanguage', () => {
  it.each([
    ['de', 'de', 'de'],
    ['DE', 'de', 'de'],
    ['de-de', 'de-DE', 'de'],
    ['de_DE', 'de-DE', 'de'],
    ['EN-us', 'en-US', 'en'],
    ['en_US', 'en-US', 'en'],
    ['en-US', 'en-US', 'en'],
    ['es-419', 'es-419', 'es'],
    ['xh', 'xh', 'xh'],
    ['xh-ZA', 'xh-ZA', 'xh'],
    [' fr-ch ', 'fr-CH', 'fr'],
    ['en-UK', 'en-GB', 'en'],
    ['iw-IL', 'he-IL', 'he'],
  ])('%s → %s', (input, tag, primary) => {
    expect(normalizeLanguage(input)).toEqual({ tag, primary });
  });

  it.each([
    ['xx', 'not an ISO 639-1 language code'],
    ['qq', 'not an ISO 639-1 language code'],
    ['e', 'not a two-letter ISO 639-1'],
    ['deu', 'three-letter code'],
    ['de-XX', 'not an ISO 3166-1 alpha-2'],
    ['de-DEU', 'three-letter country code'],
    ['de-ZZ', 'not an ISO 3166-1 alpha-2'],
    ['de-EU', 'not an ISO 3166-1 alpha-2'],
    ['es-999', 'not a UN M.49 area code'],
    ['zh-Hant-TW', 'no script or variant'],
    ['de-', 'not a region'],
    ['', 'it is empty'],
    ['   ', 'it is empty'],
  ])('refuses %j (%s)', (input, why) => {
    const err = refusal(() => normalizeLanguage(input));
    expect(err.detail).toContain(`'${input}'`);
    expect(err.detail).toContain(why);
    expect(err.detail).toContain("'de-DE'"); // says what is accepted
  });

  it('refuses non-strings', () => {
    expect(refusal(() => normalizeLanguage(42)).detail).toContain('must be a string');
    refusal(() => normalizeLanguage(null));
  });
});

describe('applyLanguage', () => {
  it("rewrites the user's language and returns it", () => {
    const doc: Doc = { userName: 'a', preferredLanguage: 'de_de' };
    expect(applyLanguage(settings({ defaultLanguage: 'en' }), doc)).toEqual({ tag: 'de-DE', primary: 'de' });
    expect(doc.preferredLanguage).toBe('de-DE');
  });

  it('falls back to the normalised default, then null', () => {
    expect(applyLanguage(settings({ defaultLanguage: 'EN_gb' }), { userName: 'a' })).toEqual({ tag: 'en-GB', primary: 'en' });
    expect(applyLanguage(settings(), { userName: 'a' })).toEqual({ tag: null, primary: null });
  });

  it('treats an empty preferredLanguage as unset', () => {
    const doc: Doc = { userName: 'a', preferredLanguage: ' ' };
    expect(applyLanguage(settings({ defaultLanguage: 'fr' }), doc)).toEqual({ tag: 'fr', primary: 'fr' });
    expect('preferredLanguage' in doc).toBe(false);
  });

  it('with strictLanguage refuses an unsupported preferredLanguage, naming the attribute', () => {
    const err = refusal(() => applyLanguage(settings({ defaultLanguage: 'en', strictLanguage: true }), { userName: 'a', preferredLanguage: 'deu' }));
    expect(err.detail).toMatch(/^preferredLanguage 'deu'/);
  });

  it('by default keeps an unsupported preferredLanguage and reports it, with the default as the language', () => {
    const doc: Doc = { userName: 'a', preferredLanguage: 'deu' };
    expect(applyLanguage(settings({ defaultLanguage: 'en' }), doc)).toEqual({ tag: 'en', primary: 'en', unsupported: 'deu' });
    expect(doc.preferredLanguage).toBe('deu');
    // Not a string at all is a schema error either way.
    expect(refusal(() => applyLanguage(settings(), { userName: 'a', preferredLanguage: 42 })).detail).toMatch(/preferredLanguage/);
  });

  it('validateDefaultLanguage reports bad defaults', () => {
    expect(validateDefaultLanguage(settings())).toEqual([]);
    expect(validateDefaultLanguage(settings({ defaultLanguage: 'de-AT' }))).toEqual([]);
    const [problem] = validateDefaultLanguage(settings({ defaultLanguage: 'german' }));
    expect(problem).toMatch(/^defaultLanguage: 'german'/);
    expect(() => mergeSettings({}, { defaultLanguage: 'xx' }, settingsChecks)).toThrow(SettingsError);
  });
});

describe('applyGender', () => {
  const s = settings({ genderValues: { m: 'male', W: 'female', ' x ': 'diverse' } });

  it('translates case-insensitively and trimmed', () => {
    for (const [sent, stored] of [['m', 'male'], ['M', 'male'], [' w ', 'female'], ['X', 'diverse']]) {
      const doc: Doc = { userName: 'a', [RC]: { gender: sent } };
      expect(applyGender(s, doc)).toEqual({});
      expect((doc[RC] as Doc).gender).toBe(stored);
    }
  });

  it('accepts values that are already translated', () => {
    const doc: Doc = { userName: 'a', [RC]: { gender: 'Female' } };
    expect(applyGender(s, doc)).toEqual({});
    expect((doc[RC] as Doc).gender).toBe('female');
  });

  it('keeps and reports an unmapped value', () => {
    const doc: Doc = { userName: 'a', [RC]: { gender: 'Unknown' } };
    expect(applyGender(s, doc)).toEqual({ unmappedGender: 'Unknown' });
    expect((doc[RC] as Doc).gender).toBe('Unknown');
  });

  it('translates nothing and flags nothing without a map', () => {
    const doc: Doc = { userName: 'a', [RC]: { gender: 'f' } };
    expect(applyGender(settings(), doc)).toEqual({});
    expect((doc[RC] as Doc).gender).toBe('f');
  });

  it('trims academicDegree and drops empty values and empty extensions', () => {
    const doc: Doc = { userName: 'a', [RC]: { gender: 'm', academicDegree: '  Prof. Dr. ' } };
    applyGender(s, doc);
    expect(doc[RC]).toEqual({ gender: 'male', academicDegree: 'Prof. Dr.' });
    const empty: Doc = { userName: 'a', [RC]: { academicDegree: '  ', gender: '' } };
    applyGender(s, empty);
    expect(RC in empty).toBe(false);
  });

  it('settings refuse keys that collide once normalised', () => {
    expect(() => mergeSettings({}, { genderValues: { m: 'male', ' M': 'man' } }, settingsChecks)).toThrow(/genderValues: keys "m" and " M"/);
  });
});

describe('validateAttributeMap', () => {
  const problems = (map: Record<string, string>) => validateAttributeMap(settings({ attributeMap: map }));

  it('accepts simple attributes in every path form', () => {
    expect(problems({
      jobTitle: 'title',
      firstName: 'name.givenName',
      department: `${ENT}:department`,
      managerId: `${ENT}:manager.value`,
      gender: `${RC}:gender`,
      degree: `${RC}:academicDegree`,
      workEmail: 'emails[type eq "work"].value',
      mobile: 'phoneNumbers[type eq "mobile"].value',
      email: 'emails.value',
      city: 'addresses[type eq "work"].locality',
      active: 'active',
      core: 'urn:ietf:params:scim:schemas:core:2.0:User:displayName',
      mixedCase: 'NAME.FAMILYNAME',
    })).toEqual([]);
  });

  it.each([
    ['title2', 'names no attribute of the User schema'],
    ['name', "is a complex attribute; name one of its sub-attributes, e.g. 'name.formatted'"],
    ['addresses', "e.g. 'addresses[type eq \"work\"].formatted'"],
    ['emails', 'is a complex attribute'],
    ['emails[type eq "work"]', 'is a complex attribute'],
    [`${ENT}:manager`, `e.g. '${ENT}:manager.value'`],
    [`${ENT}:manager.displayName`, 'read-only'],
    [ENT, 'whole schema extension'],
    ['urn:acme:ext:1.0:User:foo', "unknown schema 'urn:acme:ext:1.0:User'"],
    ['photos', 'photos are not mapped'],
    ['photos.value', 'photos are not mapped'],
    ['photos[type eq "thumbnail"].value', 'photos are not mapped'],
    ['birthDate', 'birth date'],
    [`${ENT}:dateOfBirth`, 'birth date'],
    ['name.BIRTHname', 'birth date'],
    ['password', 'passwords are write-only'],
    ['x509Certificates.value', 'certificates are not mapped'],
    ['groups.display', 'read-only'],
    ['externalId', 'kept outside'],
    ['meta.created', 'kept outside'],
    ['title.value', 'which has none'],
    ['name.nickname', "not a sub-attribute of 'name'"],
    ['name[givenName eq "x"].familyName', 'only to multi-valued'],
    ['emails[kind eq "work"].value', "'kind', which is not a sub-attribute of 'emails'"],
    ['emails[primary gt true].value', 'cannot be ordered'],
    ['emails[type eq "work"', 'not a valid SCIM attribute path'],
  ])('refuses %s', (path, why) => {
    const [problem, ...rest] = problems({ field: path });
    expect(rest).toEqual([]);
    expect(problem).toContain(`attributeMap.field: '${path}'`);
    expect(problem).toContain(why);
  });

  it('reports every bad field through mergeSettings', () => {
    let message = '';
    try {
      mergeSettings({}, { attributeMap: { a: 'name', b: 'title', c: 'photos' } }, settingsChecks);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('attributeMap.a:');
    expect(message).toContain('attributeMap.c:');
    expect(message).not.toContain('attributeMap.b:');
  });
});

describe('resolveProfile', () => {
  const doc: Doc = {
    userName: 'alice@acme.com',
    name: { givenName: 'Alice', familyName: 'Smith' },
    title: 'Engineer',
    active: true,
    emails: [
      { value: 'alice.private@example.com', type: 'home' },
      { value: 'alice@acme.com', type: 'work', primary: true },
      { value: 'a.smith@acme.com', type: 'work' },
    ],
    phoneNumbers: [{ value: '+49 170 1', type: 'mobile' }, { value: '+49 30 2', type: 'work' }],
    addresses: [{ locality: 'Berlin', type: 'work' }],
    [ENT]: { department: 'R&D', manager: { value: 'm-1' } },
    [RC]: { gender: 'female', academicDegree: 'Dr.' },
  };

  it('reads every path form, null when absent', () => {
    const s = settings({
      attributeMap: {
        title: 'title',
        first: 'name.givenName',
        middle: 'name.middleName',
        dept: `${ENT}:department`,
        cost: `${ENT}:costCenter`,
        manager: `${ENT}:manager.value`,
        gender: `${RC}:gender`,
        degree: `${RC}:academicDegree`,
        workEmail: 'emails[type eq "work"].value',
        homeEmail: 'EMAILS[TYPE EQ "HOME"].VALUE',
        otherEmail: 'emails[type eq "other"].value',
        email: 'emails.value',
        mobile: 'phoneNumbers[type eq "mobile"].value',
        phone: 'phoneNumbers.value',
        fax: 'phoneNumbers[type eq "fax"].value',
        city: 'addresses[type eq "work"].locality',
        active: 'active',
        nick: 'nickName',
      },
    });
    expect(resolveProfile(s, doc)).toEqual({
      title: 'Engineer',
      first: 'Alice',
      middle: null,
      dept: 'R&D',
      cost: null,
      manager: 'm-1',
      gender: 'female',
      degree: 'Dr.',
      workEmail: 'alice@acme.com',
      homeEmail: 'alice.private@example.com',
      otherEmail: null,
      email: 'alice@acme.com', // the primary, though not first
      mobile: '+49 170 1',
      phone: '+49 170 1', // no primary: the first
      fax: null,
      city: 'Berlin',
      active: true,
      nick: null,
    });
  });

  it('is empty without a map and null for a user without the extension', () => {
    expect(resolveProfile(settings(), doc)).toEqual({});
    expect(resolveProfile(settings({ attributeMap: { d: `${ENT}:department` } }), { userName: 'x' })).toEqual({ d: null });
  });

  it('yields null for a path that no longer validates instead of failing the write', () => {
    const s = { ...settings(), attributeMap: { bad: 'name' } };
    expect(resolveProfile(s, doc)).toEqual({ bad: null });
  });
});

describe('group rules', () => {
  const s = settings({
    groupRules: [
      { when: { attribute: `${ENT}:department`, in: ['R&D', 'Engineering'] }, addTo: 'Engineers' },
      { when: { attribute: 'userType', in: ['Contractor'] }, addTo: 'Externals' },
      { when: { attribute: 'roles.value', in: ['approver'] }, addTo: 'Approvers' },
      { when: { attribute: `${ENT}:division`, in: ['rnd'] }, addTo: 'engineers' },
      { when: { attribute: 'active', in: ['true'] }, addTo: 'Everyone' },
    ],
  });

  it('validates attribute paths with the attributeMap rules', () => {
    expect(validateGroupRules(s)).toEqual([]);
    const bad = settings({ groupRules: [{ when: { attribute: 'title', in: ['x'] }, addTo: 'A' }, { when: { attribute: 'emails', in: ['x'] }, addTo: 'B' }] });
    const problems = validateGroupRules(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^groupRules\[1\]\.when\.attribute: 'emails' is a complex attribute/);
    expect(() => mergeSettings({}, { groupRules: [{ when: { attribute: 'birthday', in: ['x'] }, addTo: 'A' }] }, settingsChecks)).toThrow(/birth date/);
  });

  it('matches trimmed and case-insensitively, in rule order, deduplicated', () => {
    const doc: Doc = {
      userName: 'a@acme.com',
      active: true,
      userType: ' contractor ',
      roles: [{ value: 'viewer' }, { value: 'APPROVER' }],
      [ENT]: { department: 'r&d', division: 'RND' },
    };
    expect(groupsFromRules(s, doc)).toEqual(['Engineers', 'Externals', 'Approvers', 'Everyone']);
  });

  it('matches nothing for absent attributes', () => {
    expect(groupsFromRules(s, { userName: 'a@acme.com' })).toEqual([]);
    expect(groupsFromRules(settings(), { userName: 'a@acme.com', active: true })).toEqual([]);
  });

  it('uses value filters', () => {
    const r = settings({ groupRules: [{ when: { attribute: 'emails[type eq "work"].value', in: ['boss@acme.com'] }, addTo: 'Bosses' }] });
    expect(groupsFromRules(r, { userName: 'x', emails: [{ value: 'boss@acme.com', type: 'home' }] })).toEqual([]);
    expect(groupsFromRules(r, { userName: 'x', emails: [{ value: 'Boss@acme.com', type: 'work' }] })).toEqual(['Bosses']);
  });
});

describe('applyUserPolicies', () => {
  const s = settings({
    domains: ['acme.com'],
    defaultLanguage: 'en',
    defaultRole: 'viewer',
    genderValues: { w: 'female' },
    attributeMap: { gender: `${RC}:gender`, lang: 'preferredLanguage', email: 'emails.value' },
  });

  it('normalises a clone and never touches the input', () => {
    const input: Doc = {
      userName: 'alice@acme.com',
      preferredLanguage: 'de_at',
      emails: [{ value: 'alice@acme.com', primary: true }],
      [RC]: { gender: 'W', academicDegree: ' Dr. ' },
    };
    const snapshot = structuredClone(input);
    const { doc, app } = applyUserPolicies(s, input);
    expect(input).toEqual(snapshot);
    expect(doc).not.toBe(input);
    expect(doc.emails).not.toBe(input.emails);
    expect(doc.preferredLanguage).toBe('de-AT');
    expect(doc[RC]).toEqual({ gender: 'female', academicDegree: 'Dr.' });
    expect(app).toEqual({
      role: 'viewer',
      language: 'de-AT',
      primaryLanguage: 'de',
      profile: { gender: 'female', lang: 'de-AT', email: 'alice@acme.com' },
      flags: [],
    });
  });

  it('flags an unmapped gender and applies the default language', () => {
    const { app } = applyUserPolicies(s, { userName: 'bob@acme.com', [RC]: { gender: 'd' } });
    expect(app.flags).toEqual(['unmapped-gender:d']);
    expect(app.language).toBe('en');
    expect(app.primaryLanguage).toBe('en');
    expect(app.profile.lang).toBeNull(); // the profile is what the user has, not the default
  });

  it('refuses collective addresses before domains, and nothing is mutated on refusal', () => {
    const input: Doc = { userName: 'info@elsewhere.com', preferredLanguage: 'de_de' };
    const err = refusal(() => applyUserPolicies(s, input));
    expect(err.detail).toContain('role mailbox');
    expect(input.preferredLanguage).toBe('de_de');
    expect(refusal(() => applyUserPolicies(s, { userName: 'carol@elsewhere.com' })).detail).toContain('verified domains');
    expect(refusal(() => applyUserPolicies({ ...s, strictLanguage: true }, { userName: 'carol@acme.com', preferredLanguage: 'xx' })).detail).toContain('preferredLanguage');
    expect(applyUserPolicies(s, { userName: 'carol@acme.com', preferredLanguage: 'xx' }).app.flags).toEqual(['unsupported-language:xx']);
  });
});

describe('settingsChecks', () => {
  it('pass on defaults and on a full valid configuration', () => {
    expect(() => mergeSettings({}, {}, settingsChecks)).not.toThrow();
    const full = mergeSettings({}, {
      domains: ['acme.com'],
      collectiveLocalParts: ['dispatch'],
      defaultLanguage: 'de-DE',
      genderValues: { m: 'male', w: 'female', x: 'diverse' },
      attributeMap: { dept: `${ENT}:department`, mobile: 'phoneNumbers[type eq "mobile"].value' },
      groupRules: [{ when: { attribute: `${ENT}:department`, in: ['Sales'] }, addTo: 'Sales' }],
    }, settingsChecks);
    expect(full.defaultLanguage).toBe('de-DE');
  });
});
