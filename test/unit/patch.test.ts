import { DEFAULT_LIMITS, type ScimLimits } from '../../src/scim/limits.js';
import { describe, expect, it } from 'vitest';
import { applyPatch, type PatchResult } from '../../src/scim/patch.js';
import { ScimError, type ScimType } from '../../src/scim/errors.js';
import { ENTERPRISE_USER as ENT, PATCH_OP, groupResourceType, userResourceType, type ResourceTypeDef } from '../../src/scim/schemas.js';
import type { Doc } from '../../src/scim/resource.js';

type Current = { doc: Doc; externalId: string | undefined };

function baseUser(): Current {
  return {
    doc: {
      userName: 'alice@example.com',
      name: { givenName: 'Alice', familyName: 'Smith' },
      displayName: 'Alice Smith',
      active: true,
      emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
      phoneNumbers: [{ value: '+1 555 0100', type: 'mobile' }],
      [ENT]: { department: 'Eng', employeeNumber: '42', manager: { value: 'm-1', $ref: '../Users/m-1' } },
    },
    externalId: 'ext-1',
  };
}

function baseGroup(): Current {
  return { doc: { displayName: 'Engineering' }, externalId: 'g-ext' };
}

function patch(ops: unknown[], current: Current = baseUser(), rt: ResourceTypeDef = userResourceType, limits: ScimLimits = DEFAULT_LIMITS): PatchResult {
  return applyPatch(rt, current, { schemas: [PATCH_OP], Operations: ops }, limits);
}

function gpatch(ops: unknown[], current: Current = baseGroup()): PatchResult {
  return patch(ops, current, groupResourceType);
}

function scimError(fn: () => unknown, scimType: ScimType | undefined): ScimError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ScimError').toBeInstanceOf(ScimError);
  const err = thrown as ScimError;
  expect(err.scimType).toBe(scimType);
  expect(err.status).toBe(400);
  return err;
}

const ent = (r: PatchResult) => r.doc[ENT] as Doc | undefined;

describe('request body', () => {
  it('rejects bodies that are not a PatchOp object', () => {
    for (const body of [null, undefined, 'x', 42, [], true]) {
      scimError(() => applyPatch(userResourceType, baseUser(), body), 'invalidSyntax');
    }
  });

  it('rejects missing, non-array or empty Operations', () => {
    scimError(() => applyPatch(userResourceType, baseUser(), { schemas: [PATCH_OP] }), 'invalidSyntax');
    scimError(() => applyPatch(userResourceType, baseUser(), { schemas: [PATCH_OP], Operations: {} }), 'invalidSyntax');
    scimError(() => applyPatch(userResourceType, baseUser(), { schemas: [PATCH_OP], Operations: [] }), 'invalidSyntax');
  });

  it('accepts lowercase "operations" and a missing schemas member', () => {
    const r = applyPatch(userResourceType, baseUser(), { operations: [{ op: 'replace', path: 'title', value: 'CTO' }] });
    expect(r.doc.title).toBe('CTO');
  });

  it('rejects a schemas member that does not name PatchOp', () => {
    const e = scimError(
      () => applyPatch(userResourceType, baseUser(), { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], Operations: [{ op: 'add', path: 'title', value: 'x' }] }),
      'invalidSyntax',
    );
    expect(e.message).toContain('PatchOp');
  });

  it('rejects operations that are not objects or lack op', () => {
    scimError(() => patch(['add']), 'invalidSyntax');
    scimError(() => patch([null]), 'invalidSyntax');
    scimError(() => patch([{ path: 'title', value: 'x' }]), 'invalidSyntax');
    scimError(() => patch([{ op: 5, path: 'title', value: 'x' }]), 'invalidSyntax');
  });

  it('rejects an unknown op and names it', () => {
    const e = scimError(() => patch([{ op: 'copy', path: 'title', value: 'x' }]), 'invalidSyntax');
    expect(e.message).toContain("'copy'");
  });

  it('matches op case-insensitively and ignores extra fields', () => {
    const r = patch([
      { op: 'Add', path: 'title', value: 'a' },
      { op: 'REPLACE', path: 'nickName', value: 'b', name: 'whatever' },
      { op: 'Remove', path: 'displayName' },
    ]);
    expect(r.doc.title).toBe('a');
    expect(r.doc.nickName).toBe('b');
    expect(r.doc.displayName).toBeUndefined();
  });

  it('requires a value for add and replace', () => {
    scimError(() => patch([{ op: 'add', path: 'title' }]), 'invalidSyntax');
    scimError(() => patch([{ op: 'replace' }]), 'invalidSyntax');
  });

  it('rejects a non-string path', () => {
    scimError(() => patch([{ op: 'add', path: 42, value: 'x' }]), 'invalidSyntax');
  });

  it('says which operation failed', () => {
    const e = scimError(() => patch([{ op: 'add', path: 'title', value: 'x' }, { op: 'add', path: 'bogus', value: 'x' }]), 'invalidPath');
    expect(e.message).toMatch(/^Operations\[1\]/);
  });
});

describe('add', () => {
  it('sets a single-valued attribute (Entra "Add" nickName)', () => {
    const r = patch([{ op: 'Add', path: 'nickName', value: 'Ali' }]);
    expect(r.doc.nickName).toBe('Ali');
    expect(r.changes).toEqual([{ path: 'nickName', before: undefined, after: 'Ali' }]);
  });

  it('replaces an existing single-valued value', () => {
    expect(patch([{ op: 'add', path: 'displayName', value: 'A. Smith' }]).doc.displayName).toBe('A. Smith');
  });

  it('merges sub-attributes into a complex single-valued attribute', () => {
    const r = patch([{ op: 'add', path: 'name', value: { middleName: 'J', givenName: 'Alicia' } }]);
    expect(r.doc.name).toEqual({ givenName: 'Alicia', familyName: 'Smith', middleName: 'J' });
  });

  it('sets a sub-attribute path', () => {
    const r = patch([{ op: 'add', path: 'name.honorificPrefix', value: 'Dr.' }]);
    expect(r.doc.name).toEqual({ givenName: 'Alice', familyName: 'Smith', honorificPrefix: 'Dr.' });
  });

  it('appends to a multi-valued attribute from a single object or an array', () => {
    const r1 = patch([{ op: 'add', path: 'emails', value: { value: 'a@home.example', type: 'home' } }]);
    expect(r1.doc.emails).toEqual([
      { value: 'alice@example.com', type: 'work', primary: true },
      { value: 'a@home.example', type: 'home' },
    ]);
    const r2 = patch([{ op: 'add', path: 'emails', value: [{ value: 'x@a.example' }, { value: 'y@a.example' }] }]);
    expect((r2.doc.emails as unknown[]).length).toBe(3);
  });

  it('skips values already present (key order and primary ignored)', () => {
    const r = patch([{ op: 'add', path: 'emails', value: [{ type: 'work', value: 'alice@example.com' }] }]);
    expect(r.doc.emails).toEqual([{ value: 'alice@example.com', type: 'work', primary: true }]);
    expect(r.changes).toEqual([]);
  });

  it('makes a newly added primary value the only primary', () => {
    const r = patch([{ op: 'add', path: 'emails', value: [{ value: 'new@example.com', type: 'home', primary: true }] }]);
    expect(r.doc.emails).toEqual([
      { value: 'alice@example.com', type: 'work', primary: false },
      { value: 'new@example.com', type: 'home', primary: true },
    ]);
  });

  it('re-adding an existing value as primary moves primary to it', () => {
    const cur = baseUser();
    cur.doc.emails = [
      { value: 'a@x.example', type: 'work', primary: true },
      { value: 'b@x.example', type: 'home' },
    ];
    const r = patch([{ op: 'add', path: 'emails', value: { value: 'b@x.example', type: 'home', primary: true } }], cur);
    expect(r.doc.emails).toEqual([
      { value: 'a@x.example', type: 'work', primary: false },
      { value: 'b@x.example', type: 'home', primary: true },
    ]);
  });

  it('without a path applies each key, with plain, dotted, URN-qualified and extension keys', () => {
    const r = patch([
      {
        op: 'add',
        value: {
          title: 'Engineer',
          'name.middleName': 'Q',
          [`${ENT}:costCenter`]: 'CC-9',
          [ENT]: { division: 'R&D' },
          emails: [{ value: 'second@example.com', type: 'other' }],
        },
      },
    ]);
    expect(r.doc.title).toBe('Engineer');
    expect(r.doc.name).toEqual({ givenName: 'Alice', familyName: 'Smith', middleName: 'Q' });
    expect(ent(r)).toMatchObject({ department: 'Eng', costCenter: 'CC-9', division: 'R&D' });
    expect((r.doc.emails as unknown[]).length).toBe(2);
  });

  it('without a path requires an object value', () => {
    scimError(() => patch([{ op: 'add', value: 'x' }]), 'invalidSyntax');
    scimError(() => patch([{ op: 'add', value: [{ title: 'x' }] }]), 'invalidSyntax');
  });

  it('with a value filter creates the element when none matches (Entra phoneNumbers[type eq "work"].value)', () => {
    const r = patch([{ op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0199' }]);
    expect(r.doc.phoneNumbers).toEqual([
      { value: '+1 555 0100', type: 'mobile' },
      { type: 'work', value: '+1 555 0199' },
    ]);
  });

  it('with a value filter updates the matching element', () => {
    const r = patch([{ op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0111' }]);
    expect(r.doc.phoneNumbers).toEqual([{ value: '+1 555 0111', type: 'mobile' }]);
  });

  it('with a null value on a multi-valued attribute adds nothing', () => {
    const r = patch([{ op: 'add', path: 'emails', value: null }]);
    expect(r.changes).toEqual([]);
  });

  it('coerces numbers to strings for string attributes', () => {
    expect(ent(patch([{ op: 'add', path: `${ENT}:employeeNumber`, value: 1234 }]))?.employeeNumber).toBe('1234');
  });
});

describe('replace', () => {
  it('coerces Entra "False"/"True" strings to booleans', () => {
    expect(patch([{ op: 'Replace', path: 'active', value: 'False' }]).doc.active).toBe(false);
    const cur = baseUser();
    cur.doc.active = false;
    expect(patch([{ op: 'Replace', path: 'active', value: 'True' }], cur).doc.active).toBe(true);
  });

  it('rejects a value of the wrong type', () => {
    scimError(() => patch([{ op: 'replace', path: 'active', value: 'maybe' }]), 'invalidSyntax');
    scimError(() => patch([{ op: 'replace', path: 'displayName', value: { a: 1 } }]), 'invalidSyntax');
    scimError(() => patch([{ op: 'replace', path: 'name', value: 'Alice' }]), 'invalidSyntax');
    scimError(() => patch([{ op: 'replace', path: 'title', value: ['a', 'b'] }]), 'invalidSyntax');
  });

  it('applies an Entra ID multi-operation request', () => {
    const r = patch([
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alice.smith@example.com' },
      { op: 'Replace', path: 'name.givenName', value: 'Alicia' },
      { op: 'Replace', path: `${ENT}:employeeNumber`, value: '43' },
      { op: 'Replace', path: 'active', value: 'False' },
      { op: 'Replace', path: 'displayName', value: 'Alice Smith' },
    ]);
    expect(r.doc.emails).toEqual([{ value: 'alice.smith@example.com', type: 'work', primary: true }]);
    expect(r.doc.name).toEqual({ givenName: 'Alicia', familyName: 'Smith' });
    expect(ent(r)?.employeeNumber).toBe('43');
    expect(r.doc.active).toBe(false);
    expect(r.changes.map((c) => c.path)).toEqual(['name', 'active', 'emails', `${ENT}:employeeNumber`]);
  });

  it('creates a work email for a user without one (Entra)', () => {
    const cur = baseUser();
    delete cur.doc.emails;
    const r = patch([{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'a@example.com' }], cur);
    expect(r.doc.emails).toEqual([{ type: 'work', value: 'a@example.com' }]);
  });

  it('creates from an "and" of eq comparisons, coercing literals', () => {
    const cur = baseUser();
    delete cur.doc.emails;
    const r = patch([{ op: 'replace', path: 'emails[type eq "work" and primary eq true].value', value: 'a@example.com' }], cur);
    expect(r.doc.emails).toEqual([{ type: 'work', primary: true, value: 'a@example.com' }]);
  });

  it('fails with noTarget when nothing matches a filter that does not describe an element', () => {
    scimError(() => patch([{ op: 'replace', path: 'emails[value co "nobody"].value', value: 'x@example.com' }]), 'noTarget');
    scimError(() => patch([{ op: 'replace', path: 'emails[type eq "home" or type eq "other"].value', value: 'x@example.com' }]), 'noTarget');
  });

  it('replaces every matching element with a filter and no sub-attribute (merging)', () => {
    const cur = baseUser();
    cur.doc.emails = [
      { value: 'a@x.example', type: 'work' },
      { value: 'b@x.example', type: 'home' },
      { value: 'c@x.example', type: 'work' },
    ];
    const r = patch([{ op: 'replace', path: 'emails[type eq "work"]', value: { display: 'Work' } }], cur);
    expect(r.doc.emails).toEqual([
      { value: 'a@x.example', type: 'work', display: 'Work' },
      { value: 'b@x.example', type: 'home' },
      { value: 'c@x.example', type: 'work', display: 'Work' },
    ]);
  });

  it('matches filter values case-insensitively where the attribute is not caseExact', () => {
    const r = patch([{ op: 'replace', path: 'emails[type eq "WORK"].display', value: 'Office' }]);
    expect(r.doc.emails).toEqual([{ value: 'alice@example.com', type: 'work', primary: true, display: 'Office' }]);
  });

  it('replaces an address line through a filter', () => {
    const cur = baseUser();
    cur.doc.addresses = [{ type: 'work', streetAddress: '1 Old St', locality: 'Town' }];
    const r = patch([{ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '2 New St' }], cur);
    expect(r.doc.addresses).toEqual([{ type: 'work', streetAddress: '2 New St', locality: 'Town' }]);
  });

  it('replaces a whole element selected by a filter path without sub-attribute (phoneNumbers[type eq "mobile"])', () => {
    const r = patch([{ op: 'replace', path: 'phoneNumbers[type eq "mobile"]', value: { value: '+44 1', type: 'mobile' } }]);
    expect(r.doc.phoneNumbers).toEqual([{ value: '+44 1', type: 'mobile' }]);
  });

  it('replaces a whole multi-valued attribute', () => {
    const r = patch([{ op: 'replace', path: 'emails', value: [{ value: 'n@example.com', primary: 'True' }] }]);
    expect(r.doc.emails).toEqual([{ value: 'n@example.com', primary: true }]);
  });

  it('sets primary through a filter and clears the other primary', () => {
    const cur = baseUser();
    cur.doc.emails = [
      { value: 'a@x.example', type: 'work', primary: true },
      { value: 'b@x.example', type: 'home' },
    ];
    const r = patch([{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }], cur);
    expect(r.doc.emails).toEqual([
      { value: 'a@x.example', type: 'work', primary: false },
      { value: 'b@x.example', type: 'home', primary: true },
    ]);
  });

  it('merges a complex attribute (RFC 7644 §3.5.2.3) and clears sub-attributes given as null', () => {
    const r = patch([{ op: 'replace', path: 'name', value: { givenName: 'Al', familyName: null } }]);
    expect(r.doc.name).toEqual({ givenName: 'Al' });
  });

  it('with null unassigns', () => {
    const r = patch([{ op: 'replace', path: 'name', value: null }, { op: 'replace', path: 'displayName', value: null }]);
    expect(r.doc.name).toBeUndefined();
    expect(r.doc.displayName).toBeUndefined();
    expect('name' in r.doc).toBe(false);
  });

  it('Okta deactivation: no path, {active:false}', () => {
    const r = patch([{ op: 'replace', value: { active: false } }]);
    expect(r.doc.active).toBe(false);
    expect(r.changes).toEqual([{ path: 'active', before: true, after: false }]);
  });

  it('no-path value ignores id, meta, schemas and groups', () => {
    const r = patch([
      {
        op: 'replace',
        value: { id: 'u-1', schemas: ['x'], meta: { created: 'x' }, groups: [{ value: 'g' }], displayName: 'Renamed' },
      },
    ]);
    expect(r.doc.displayName).toBe('Renamed');
    expect(Object.keys(r.doc).sort()).toEqual(Object.keys(baseUser().doc).sort());
  });

  it('no-path value ignores unknown attributes', () => {
    const r = patch([{ op: 'replace', value: { favouriteColour: 'blue', title: 'x' } }]);
    expect(r.doc.title).toBe('x');
    expect(r.doc.favouriteColour).toBeUndefined();
  });

  it('Entra newer shape: no path with dotted, URN-qualified and filtered keys', () => {
    const r = patch([
      {
        op: 'replace',
        value: {
          'name.givenName': 'Alicia',
          'name.familyName': 'Jones',
          [`${ENT}:department`]: 'Sales',
          [`${ENT}:manager`]: 'm-2',
          'emails[type eq "work"].value': 'alicia@example.com',
          active: 'False',
          externalId: 'ext-2',
        },
      },
    ]);
    expect(r.doc.name).toEqual({ givenName: 'Alicia', familyName: 'Jones' });
    expect(ent(r)).toEqual({ department: 'Sales', employeeNumber: '42', manager: { value: 'm-2' } });
    expect(r.doc.emails).toEqual([{ value: 'alicia@example.com', type: 'work', primary: true }]);
    expect(r.doc.active).toBe(false);
    expect(r.externalId).toBe('ext-2');
  });

  it('an extension URN key with an object sets those attributes and keeps the others', () => {
    const r = patch([{ op: 'replace', value: { [ENT]: { department: 'Ops', 'manager': { value: 'm-1' } } } }]);
    expect(ent(r)).toEqual({ department: 'Ops', employeeNumber: '42', manager: { value: 'm-1', $ref: '../Users/m-1' } });
  });

  it('replace with the bare extension URN as path', () => {
    const r = patch([{ op: 'replace', path: ENT, value: { organization: 'Acme' } }]);
    expect(ent(r)?.organization).toBe('Acme');
    expect(ent(r)?.department).toBe('Eng');
  });

  it('core-URN-qualified paths and keys address the core attributes', () => {
    const r = patch([
      { op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName', value: 'Z' },
      { op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User', value: { title: 'T' } },
    ]);
    expect((r.doc.name as Doc).givenName).toBe('Z');
    expect(r.doc.title).toBe('T');
  });

  it("accepts Microsoft's misspelled extension URN ('…enterprise:2.0User') and stores the canonical one", () => {
    const bad = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User';
    const r = patch([
      { op: 'replace', path: `${bad}:department`, value: 'Legal' },
      { op: 'add', value: { [bad]: { costCenter: 'C1' } } },
    ]);
    expect(ent(r)).toMatchObject({ department: 'Legal', costCenter: 'C1' });
    expect(bad in r.doc).toBe(false);
  });

  it('is case-insensitive in attribute names and stores canonical spelling', () => {
    const r = patch([{ op: 'replace', path: 'NAME.GIVENNAME', value: 'Q' }, { op: 'replace', path: 'UserType', value: 'Employee' }]);
    expect((r.doc.name as Doc).givenName).toBe('Q');
    expect(r.doc.userType).toBe('Employee');
  });

  it('Okta rename with id in the value (User)', () => {
    const r = patch([{ op: 'replace', value: { id: 'whatever', userName: 'alice2@example.com' } }]);
    expect(r.doc.userName).toBe('alice2@example.com');
  });
});

describe('manager (Entra ID shapes)', () => {
  it('Add with a bare id on the URN-qualified path', () => {
    const cur = baseUser();
    delete (cur.doc[ENT] as Doc).manager;
    const r = patch([{ op: 'Add', path: `${ENT}:manager`, value: 'm-9' }], cur);
    expect(ent(r)?.manager).toEqual({ value: 'm-9' });
    expect(r.changes).toEqual([{ path: `${ENT}:manager`, before: undefined, after: { value: 'm-9' } }]);
  });

  it('Add with [{"$ref":…,"value":…}] on the unqualified path "manager"', () => {
    const r = patch([{ op: 'Add', path: 'manager', value: [{ $ref: '../Users/m-7', value: 'm-7' }] }]);
    expect(ent(r)?.manager).toEqual({ $ref: '../Users/m-7', value: 'm-7' });
  });

  it('a new manager id drops the old $ref; the same id keeps it', () => {
    expect(ent(patch([{ op: 'replace', path: 'manager', value: 'm-2' }]))?.manager).toEqual({ value: 'm-2' });
    const same = patch([{ op: 'replace', path: 'manager', value: { value: 'm-1' } }]);
    expect(ent(same)?.manager).toEqual({ value: 'm-1', $ref: '../Users/m-1' });
    expect(same.changes).toEqual([]);
  });

  it('manager.value sub-attribute path: a new manager drops the old $ref', () => {
    const r = patch([{ op: 'replace', path: `${ENT}:manager.value`, value: 'm-3' }]);
    expect(ent(r)?.manager).toEqual({ value: 'm-3' });
    const same = patch([{ op: 'replace', path: `${ENT}:manager.value`, value: 'm-1' }]);
    expect(ent(same)?.manager).toEqual({ value: 'm-1', $ref: '../Users/m-1' });
  });

  it('add of a value already there in another case is no second value', () => {
    const r = patch([{ op: 'add', path: 'emails', value: [{ value: 'ALICE@EXAMPLE.COM', type: 'WORK' }] }]);
    const before = patch([{ op: 'add', path: 'nickName', value: 'x' }]);
    expect((r.doc.emails as unknown[]).length).toBe((before.doc.emails as unknown[]).length);
  });

  it('manager.displayName is read-only', () => {
    scimError(() => patch([{ op: 'replace', path: `${ENT}:manager.displayName`, value: 'Boss' }]), 'mutability');
  });

  it('a read-only sub-attribute in the value is dropped', () => {
    const r = patch([{ op: 'replace', path: 'manager', value: { value: 'm-5', displayName: 'Boss' } }]);
    expect(ent(r)?.manager).toEqual({ value: 'm-5' });
  });

  it('remove manager; null manager', () => {
    expect(ent(patch([{ op: 'Remove', path: `${ENT}:manager` }]))?.manager).toBeUndefined();
    expect(ent(patch([{ op: 'Replace', path: 'manager', value: null }]))?.manager).toBeUndefined();
  });
});

describe('remove', () => {
  it('requires a path', () => {
    scimError(() => patch([{ op: 'remove' }]), 'noTarget');
    scimError(() => patch([{ op: 'remove', path: '  ' }]), 'noTarget');
    scimError(() => patch([{ op: 'remove', value: { title: 'x' } }]), 'noTarget');
  });

  it('removes an attribute, a sub-attribute and an extension attribute', () => {
    const r = patch([
      { op: 'remove', path: 'displayName' },
      { op: 'remove', path: 'name.familyName' },
      { op: 'remove', path: `${ENT}:department` },
    ]);
    expect(r.doc.displayName).toBeUndefined();
    expect(r.doc.name).toEqual({ givenName: 'Alice' });
    expect(ent(r)).toEqual({ employeeNumber: '42', manager: { value: 'm-1', $ref: '../Users/m-1' } });
  });

  it('removes emptied complex attributes and extension objects', () => {
    const r = patch([
      { op: 'remove', path: 'name.familyName' },
      { op: 'remove', path: 'name.givenName' },
      { op: 'remove', path: `${ENT}:department` },
      { op: 'remove', path: 'employeeNumber' },
      { op: 'remove', path: `${ENT}:manager.value` },
      { op: 'remove', path: `${ENT}:manager.$ref` },
    ]);
    expect('name' in r.doc).toBe(false);
    expect(ENT in r.doc).toBe(false);
  });

  it('removes the whole extension by its URN', () => {
    const r = patch([{ op: 'remove', path: ENT }]);
    expect(ENT in r.doc).toBe(false);
    expect(r.changes.map((c) => c.path)).toEqual([`${ENT}:employeeNumber`, `${ENT}:department`, `${ENT}:manager`]);
  });

  it('removes matching elements with a filter, and the sub-attribute of matching elements', () => {
    const cur = baseUser();
    cur.doc.emails = [
      { value: 'a@x.example', type: 'work', display: 'A' },
      { value: 'b@x.example', type: 'home', display: 'B' },
    ];
    expect(patch([{ op: 'remove', path: 'emails[type eq "work"]' }], cur).doc.emails).toEqual([{ value: 'b@x.example', type: 'home', display: 'B' }]);
    expect(patch([{ op: 'remove', path: 'emails[type eq "home"].display' }], cur).doc.emails).toEqual([
      { value: 'a@x.example', type: 'work', display: 'A' },
      { value: 'b@x.example', type: 'home' },
    ]);
    const all = patch([{ op: 'remove', path: 'emails[value ew "x.example"]' }], cur);
    expect('emails' in all.doc).toBe(false);
  });

  it('is idempotent: removing something absent is a no-op', () => {
    const r = patch([
      { op: 'remove', path: 'title' },
      { op: 'remove', path: 'emails[type eq "home"]' },
      { op: 'remove', path: 'addresses' },
      { op: 'remove', path: 'name.middleName' },
      { op: 'remove', path: `${ENT}:division` },
      { op: 'remove', path: 'addresses[type eq "work"].streetAddress' },
    ]);
    expect(r.doc).toEqual(baseUser().doc);
    expect(r.changes).toEqual([]);
  });

  it('removes listed values of a multi-valued attribute (matched by value)', () => {
    const cur = baseUser();
    cur.doc.emails = [{ value: 'a@x.example' }, { value: 'b@x.example' }, { value: 'c@x.example' }];
    const r = patch([{ op: 'Remove', path: 'emails', value: [{ value: 'A@X.example' }, { value: 'c@x.example' }, { value: 'zzz' }] }], cur);
    expect(r.doc.emails).toEqual([{ value: 'b@x.example' }]);
  });

  it('removes a whole multi-valued attribute without a value', () => {
    expect('phoneNumbers' in patch([{ op: 'remove', path: 'phoneNumbers' }]).doc).toBe(false);
  });

  it('removing userName fails with invalidValue; so does emptying it', () => {
    scimError(() => patch([{ op: 'remove', path: 'userName' }]), 'invalidValue');
    scimError(() => patch([{ op: 'replace', path: 'userName', value: '  ' }]), 'invalidValue');
    scimError(() => patch([{ op: 'replace', path: 'userName', value: null }]), 'invalidValue');
  });

  it('removes externalId', () => {
    const r = patch([{ op: 'remove', path: 'externalId' }]);
    expect(r.externalId).toBeUndefined();
    expect(r.changes).toEqual([{ path: 'externalId', before: 'ext-1', after: undefined }]);
  });
});

describe('paths', () => {
  it('unknown attributes are invalidPath', () => {
    for (const path of ['bogus', 'name.bogus', 'emails[type eq "work"].bogus', 'urn:acme:ext:1.0:thing', `${ENT}:bogus`, 'urn:acme:ext:1.0']) {
      scimError(() => patch([{ op: 'replace', path, value: 'x' }]), 'invalidPath');
    }
    scimError(() => patch([{ op: 'remove', path: 'bogus' }]), 'invalidPath');
  });

  it('malformed paths are invalidPath', () => {
    for (const path of ['emails[type eq', 'name..x', '[x]', 'emails[type eq "work"]]']) {
      scimError(() => patch([{ op: 'replace', path, value: 'x' }]), 'invalidPath');
    }
  });

  it('read-only attributes named by a path are mutability errors', () => {
    for (const path of ['id', 'meta', 'meta.created', 'groups', 'groups[value eq "g"]']) {
      scimError(() => patch([{ op: 'replace', path, value: 'x' }]), 'mutability');
      scimError(() => patch([{ op: 'remove', path }]), 'mutability');
    }
  });

  it('a value filter on a single-valued attribute is invalidPath', () => {
    scimError(() => patch([{ op: 'replace', path: 'name[givenName eq "Alice"].familyName', value: 'x' }]), 'invalidPath');
  });

  it('externalId is a top-level attribute that lives beside the doc', () => {
    const r = patch([{ op: 'replace', path: 'externalId', value: 'ext-9' }]);
    expect(r.externalId).toBe('ext-9');
    expect(r.doc.externalId).toBeUndefined();
    expect(patch([{ op: 'replace', path: 'externalId', value: '' }]).externalId).toBeUndefined();
  });

  it('password is accepted and never stored', () => {
    const r = patch([{ op: 'replace', path: 'password', value: 's3cret!' }, { op: 'replace', value: { password: 'x' } }, { op: 'remove', path: 'password' }]);
    expect(r.doc.password).toBeUndefined();
    expect(r.changes).toEqual([]);
  });
});

describe('changes', () => {
  it('reports nothing for re-sent identical values (Entra)', () => {
    const r = patch([
      { op: 'Replace', path: 'displayName', value: 'Alice Smith' },
      { op: 'Replace', path: 'active', value: 'True' },
      { op: 'Replace', path: 'name.givenName', value: 'Alice' },
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alice@example.com' },
      { op: 'Replace', path: `${ENT}:department`, value: 'Eng' },
      { op: 'Replace', path: 'externalId', value: 'ext-1' },
      { op: 'Add', path: 'emails', value: [{ value: 'alice@example.com', type: 'work', primary: true }] },
    ]);
    expect(r.changes).toEqual([]);
    expect(r.doc).toEqual(baseUser().doc);
  });

  it('reports at top-level attribute granularity with before and after', () => {
    const r = patch([
      { op: 'replace', path: 'name.givenName', value: 'Al' },
      { op: 'replace', path: 'name.familyName', value: 'Sm' },
      { op: 'replace', path: 'department', value: 'Ops' },
      { op: 'replace', path: 'externalId', value: 'e2' },
    ]);
    expect(r.changes).toEqual([
      { path: 'name', before: { givenName: 'Alice', familyName: 'Smith' }, after: { givenName: 'Al', familyName: 'Sm' } },
      { path: `${ENT}:department`, before: 'Eng', after: 'Ops' },
      { path: 'externalId', before: 'ext-1', after: 'e2' },
    ]);
  });

  it('does not report a change undone later in the same request', () => {
    const r = patch([{ op: 'replace', path: 'title', value: 'x' }, { op: 'remove', path: 'title' }]);
    expect(r.changes).toEqual([]);
  });
});

describe('purity', () => {
  function deepFreeze<T>(v: T): T {
    if (v && typeof v === 'object') {
      for (const x of Object.values(v)) deepFreeze(x);
      Object.freeze(v);
    }
    return v;
  }

  it('never mutates the current resource or the body', () => {
    const cur = deepFreeze(baseUser());
    const body = deepFreeze({
      schemas: [PATCH_OP],
      Operations: [
        { op: 'add', path: 'emails', value: [{ value: 'n@example.com', primary: true }] },
        { op: 'replace', path: 'emails[type eq "work"].display', value: 'W' },
        { op: 'replace', path: 'name.givenName', value: 'N' },
        { op: 'remove', path: `${ENT}:department` },
        { op: 'replace', path: 'manager.value', value: 'm-2' },
        { op: 'replace', value: { title: 'T', [ENT]: { costCenter: 'c' } } },
      ],
    });
    const snapshot = JSON.stringify(cur);
    const bodySnapshot = JSON.stringify(body);
    const r = applyPatch(userResourceType, cur, body);
    expect(JSON.stringify(cur)).toBe(snapshot);
    expect(JSON.stringify(body)).toBe(bodySnapshot);
    expect(r.doc).not.toBe(cur.doc);
    expect(r.doc.title).toBe('T');
  });

  it('result changes do not alias the result document', () => {
    const r = patch([{ op: 'replace', path: 'name.givenName', value: 'N' }]);
    (r.changes[0].after as Doc).givenName = 'mutated';
    expect((r.doc.name as Doc).givenName).toBe('N');
  });
});

describe('groups', () => {
  it('adds members (Entra {"$ref":null,"value":id}) without touching the doc', () => {
    const r = gpatch([{ op: 'Add', path: 'members', value: [{ $ref: null, value: 'u-1' }, { value: 'u-2', type: 'User' }] }]);
    expect(r.memberOps).toEqual([{ op: 'add', members: [{ value: 'u-1' }, { value: 'u-2', type: 'User' }] }]);
    expect(r.doc).toEqual({ displayName: 'Engineering' });
    expect(r.changes).toEqual([]);
  });

  it('adds a single member given as a bare id or a single object', () => {
    expect(gpatch([{ op: 'add', path: 'members', value: 'u-3' }]).memberOps).toEqual([{ op: 'add', members: [{ value: 'u-3' }] }]);
    expect(gpatch([{ op: 'add', path: 'members', value: { value: 'u-4', display: 'D' } }]).memberOps).toEqual([{ op: 'add', members: [{ value: 'u-4' }] }]);
  });

  it('a member without a value is invalidValue', () => {
    scimError(() => gpatch([{ op: 'add', path: 'members', value: [{ display: 'x' }] }]), 'invalidValue');
  });

  it('removes all members when no value is given', () => {
    expect(gpatch([{ op: 'remove', path: 'members' }]).memberOps).toEqual([{ op: 'removeAll' }]);
  });

  it('removes listed members (Entra value array)', () => {
    const r = gpatch([{ op: 'Remove', path: 'members', value: [{ value: 'u-1' }, { value: 'u-2' }] }]);
    expect(r.memberOps).toEqual([{ op: 'remove', ids: ['u-1', 'u-2'] }]);
  });

  it('removes by value filter, single or joined by or', () => {
    expect(gpatch([{ op: 'Remove', path: 'members[value eq "u-1"]' }]).memberOps).toEqual([{ op: 'remove', ids: ['u-1'] }]);
    expect(gpatch([{ op: 'remove', path: 'members[value eq "u-1" or value eq "u-2" or VALUE eq "u-3"]' }]).memberOps).toEqual([
      { op: 'remove', ids: ['u-1', 'u-2', 'u-3'] },
    ]);
  });

  it('any other filter on members is invalidFilter', () => {
    for (const path of ['members[display eq "x"]', 'members[value co "u"]', 'members[value eq "a" and type eq "User"]', 'members[value pr]']) {
      scimError(() => gpatch([{ op: 'remove', path }]), 'invalidFilter');
    }
  });

  it('Okta: remove by filter then add, in order', () => {
    const r = gpatch([
      { op: 'remove', path: 'members[value eq "u-old"]' },
      { op: 'add', path: 'members', value: [{ value: 'u-new', display: 'New Person' }] },
    ]);
    expect(r.memberOps).toEqual([
      { op: 'remove', ids: ['u-old'] },
      { op: 'add', members: [{ value: 'u-new' }] },
    ]);
  });

  it('replace members replaces the whole list; an empty list just clears', () => {
    expect(gpatch([{ op: 'replace', path: 'members', value: [{ value: 'a' }, { value: 'b' }] }]).memberOps).toEqual([
      { op: 'removeAll' },
      { op: 'add', members: [{ value: 'a' }, { value: 'b' }] },
    ]);
    expect(gpatch([{ op: 'replace', path: 'members', value: [] }]).memberOps).toEqual([{ op: 'removeAll' }]);
  });

  it('Okta rename: no-path replace with id and displayName (and sometimes members)', () => {
    const r = gpatch([{ op: 'replace', value: { id: 'g-1', displayName: 'Eng Team' } }]);
    expect(r.doc).toEqual({ displayName: 'Eng Team' });
    expect(r.memberOps).toEqual([]);
    expect(r.changes).toEqual([{ path: 'displayName', before: 'Engineering', after: 'Eng Team' }]);
    const withMembers = gpatch([{ op: 'replace', value: { id: 'g-1', displayName: 'Eng', members: [{ value: 'u-1' }] } }]);
    expect(withMembers.memberOps).toEqual([{ op: 'removeAll' }, { op: 'add', members: [{ value: 'u-1' }] }]);
    expect(withMembers.doc).toEqual({ displayName: 'Eng' });
  });

  it('no-path add with members adds them', () => {
    expect(gpatch([{ op: 'add', value: { members: [{ value: 'u-9' }] } }]).memberOps).toEqual([{ op: 'add', members: [{ value: 'u-9' }] }]);
  });

  it('member sub-attribute paths are refused', () => {
    scimError(() => gpatch([{ op: 'replace', path: 'members.display', value: 'x' }]), 'mutability');
    scimError(() => gpatch([{ op: 'replace', path: 'members[value eq "u"].display', value: 'x' }]), 'mutability');
    scimError(() => gpatch([{ op: 'replace', path: 'members.value', value: 'x' }]), 'invalidPath');
    scimError(() => gpatch([{ op: 'replace', path: 'members[value eq "u"]', value: { value: 'x' } }]), 'invalidPath');
  });

  it('displayName and externalId are plain attributes; displayName is required', () => {
    const r = gpatch([{ op: 'replace', path: 'externalId', value: 'g-2' }, { op: 'replace', path: 'displayName', value: 'Ops' }]);
    expect(r.externalId).toBe('g-2');
    expect(r.doc.displayName).toBe('Ops');
    scimError(() => gpatch([{ op: 'remove', path: 'displayName' }]), 'invalidValue');
  });

  it('user-only attributes are unknown on groups', () => {
    scimError(() => gpatch([{ op: 'replace', path: 'userName', value: 'x' }]), 'invalidPath');
    scimError(() => gpatch([{ op: 'replace', path: 'manager', value: 'x' }]), 'invalidPath');
  });

  // Speed belongs to the benchmark; this checks the large case is handled at all.
  it('handles hundreds of members, up to the per-request cap counted over all operations', () => {
    const value = Array.from({ length: 500 }, (_, i) => ({ value: `u-${i}` }));
    const r = gpatch([
      { op: 'add', path: 'members', value },
      { op: 'remove', path: 'members', value },
    ]);
    expect((r.memberOps[0] as { members: unknown[] }).members).toHaveLength(500);
    expect((r.memberOps[1] as { ids: unknown[] }).ids).toHaveLength(500);
    const e = scimError(() => gpatch([{ op: 'add', path: 'members', value }, { op: 'add', path: 'members', value: [...value, { value: 'one-more' }] }]), 'invalidValue');
    expect(e.code).toBe('ROLLCALL_TOO_MANY_MEMBERS');
    expect(e.message).toMatch(/1001 group members; at most 1000/);
  });
});

describe('large multi-valued attributes', () => {
  it('adds and removes thousands of values with de-duplication when the cap allows them', () => {
    const cur = baseUser();
    cur.doc.entitlements = Array.from({ length: 10000 }, (_, i) => ({ value: `e-${i}` }));
    const value = Array.from({ length: 20000 }, (_, i) => ({ value: `e-${i}` }));
    const wide = { ...DEFAULT_LIMITS, valuesPerAttribute: 50_000, patchValues: 50_000 };
    const r = patch([{ op: 'add', path: 'entitlements', value }], cur, userResourceType, wide);
    const r2 = patch([{ op: 'remove', path: 'entitlements', value: value.slice(0, 15000) }], r, userResourceType, wide);
    expect(r.doc.entitlements).toHaveLength(20000);
    expect(r2.doc.entitlements).toHaveLength(5000);
  });

  it('refuses an operation that grows a list beyond the cap, naming the attribute, the operation and the limit', () => {
    const value = Array.from({ length: 60 }, (_, i) => ({ value: `e${i}@x.test` }));
    expect(patch([{ op: 'add', path: 'emails', value }]).doc.emails).toHaveLength(61);
    const e = scimError(() => patch([{ op: 'add', path: 'emails', value }, { op: 'add', path: 'emails', value: value.map((v) => ({ value: `b${v.value}` })) }]), 'invalidValue');
    expect(e.code).toBe('ROLLCALL_TOO_MANY_VALUES');
    expect(e.message).toMatch(/^Operations\[1\]: Attribute 'emails' has 121 values; at most 100 .*ROLLCALL_MAX_VALUES_PER_ATTRIBUTE/);
  });

  it('a list stored before the cap was lowered may stay as long: a deactivation of such a user is not refused', () => {
    const cur = baseUser();
    cur.doc.emails = Array.from({ length: 300 }, (_, i) => ({ value: `e${i}@x.test` }));
    expect(patch([{ op: 'replace', path: 'active', value: false }], cur).doc.active).toBe(false);
    expect(patch([{ op: 'remove', path: 'emails[value eq "e0@x.test"]' }], cur).doc.emails).toHaveLength(299);
    expect(scimError(() => patch([{ op: 'add', path: 'emails', value: { value: 'new@x.test' } }], cur), 'invalidValue').code).toBe('ROLLCALL_TOO_MANY_VALUES');
  });

  it('checks the length of every changed string: identifiers at 1,024, other values at 64 KiB', () => {
    expect(scimError(() => patch([{ op: 'replace', path: 'userName', value: 'u'.repeat(1025) }]), 'invalidValue').message).toMatch(/'userName' is 1025 characters long; an identifier may have at most 1024/);
    expect(patch([{ op: 'replace', path: 'title', value: 't'.repeat(60_000) }]).doc.title).toHaveLength(60_000);
    expect(scimError(() => patch([{ op: 'replace', path: 'title', value: 't'.repeat(65_537) }]), 'invalidValue').code).toBe('ROLLCALL_VALUE_TOO_LONG');
    expect(scimError(() => patch([{ op: 'add', path: 'emails', value: [{ value: `${'e'.repeat(1100)}@x.test` }] }]), 'invalidValue').message).toMatch(/'emails\[1\]\.value' is 1107 characters long; an identifier/);
    // A title stored longer than the cap is left alone by a PATCH that does not change it.
    const cur = baseUser();
    cur.doc.title = 'x'.repeat(100_000);
    expect(patch([{ op: 'replace', path: 'displayName', value: 'New' }], cur).doc.title).toHaveLength(100_000);
  });

  it('caps the number of operations (configurable)', () => {
    const ops = Array.from({ length: 11 }, () => ({ op: 'replace', path: 'title', value: 'x' }));
    expect(patch(ops.slice(0, 10), baseUser(), userResourceType, { ...DEFAULT_LIMITS, patchOperations: 10 }).doc.title).toBe('x');
    const e = scimError(() => patch(ops, baseUser(), userResourceType, { ...DEFAULT_LIMITS, patchOperations: 10 }), 'tooMany');
    expect(e.message).toMatch(/at most 10 operations \(ROLLCALL_MAX_PATCH_OPERATIONS; operations on group members excepted\); this one has 11/);
    const values = scimError(() => patch([{ op: 'add', path: 'emails', value: Array.from({ length: 101 }, (_, i) => ({ value: `v${i}@x.test` })) }], baseUser(), userResourceType, { ...DEFAULT_LIMITS, patchValues: 100 }), 'tooMany');
    expect(values.code).toBe('ROLLCALL_PATCH_TOO_MANY_VALUES');
  });
});

describe('fuzz', () => {
  // Deterministic PRNG so a failure is reproducible.
  function rng(seed: number) {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const paths = [
    'userName', 'name', 'name.givenName', 'NAME.familyname', 'displayName', 'active', 'emails', 'emails.value', 'emails[type eq "work"]',
    'emails[type eq "work"].value', 'emails[type eq "work" and primary eq true].primary', 'emails[value co "x"]', 'phoneNumbers[type eq mobile].value',
    'addresses[type eq "work"].streetAddress', 'addresses', 'groups', 'id', 'meta.created', 'password', 'externalId', 'manager', 'manager.value',
    `${ENT}:manager`, `${ENT}:manager.displayName`, `${ENT}:employeeNumber`, ENT, 'urn:ietf:params:scim:schemas:core:2.0:User',
    'urn:ietf:params:scim:schemas:core:2.0:Group', 'members', 'members[value eq "u"]', 'members[value eq "a" or value eq "b"]', 'members[type eq "User"]',
    'members.value', 'entitlements[value gt 3]', 'emails[primary gt true]', 'x509Certificates', 'photos[type eq "photo"].value', '', ' ', '[', 'a b',
    'emails[', 'urn:x', 'urn:acme:ext:1.0', '__proto__', 'constructor', 'emails[value eq "a"].value.value', 'roles[value eq 007]',
  ];
  const keys = ['value', 'type', 'primary', 'display', 'givenName', '$ref', 'members', 'id', 'userName', 'displayName', 'name.givenName', ENT, '__proto__', 'active', 'emails'];
  const ops = ['add', 'Add', 'REPLACE', 'replace', 'remove', 'Remove', 'copy', '', 'move'];

  function randomValue(r: () => number, depth: number): unknown {
    const k = Math.floor(r() * (depth > 2 ? 7 : 10));
    switch (k) {
      case 0: return null;
      case 1: return r() < 0.5;
      case 2: return Math.floor(r() * 1000) - 500;
      case 3: return ['', 'x', 'True', 'False', 'work', 'u-1', '2020-01-01T00:00:00Z', 'NaN'][Math.floor(r() * 8)];
      case 4: return r() * 1e6;
      case 5: return undefined;
      case 6: return 'str' + Math.floor(r() * 10);
      case 7:
      case 8: {
        const o: Record<string, unknown> = {};
        const n = Math.floor(r() * 4);
        for (let i = 0; i < n; i++) o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
        return o;
      }
      default: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    }
  }

  const plausible: unknown[] = ['x', 'False', true, 'u-1', { value: 'u-2', type: 'work' }, [{ value: 'a@x', type: 'work', primary: true }], { givenName: 'G' }, null, [], {}];

  function randomOp(r: () => number): unknown {
    if (r() < 0.5) {
      // Well-formed operations, so many bodies get past validation and exercise the appliers.
      const op: Record<string, unknown> = { op: ops[Math.floor(r() * 6)], path: paths[Math.floor(r() * paths.length)] };
      if (r() < 0.1) delete op.path;
      op.value = r() < 0.7 ? plausible[Math.floor(r() * plausible.length)] : randomValue(r, 0);
      return op;
    }
    if (r() < 0.05) return randomValue(r, 1);
    const op: Record<string, unknown> = {};
    if (r() < 0.95) op[r() < 0.9 ? 'op' : 'OP'] = r() < 0.9 ? ops[Math.floor(r() * ops.length)] : randomValue(r, 2);
    if (r() < 0.8) op.path = r() < 0.95 ? paths[Math.floor(r() * paths.length)] : randomValue(r, 2);
    if (r() < 0.85) op.value = randomValue(r, 0);
    return op;
  }

  function randomBody(r: () => number): unknown {
    if (r() < 0.05) return randomValue(r, 0);
    const body: Record<string, unknown> = {};
    if (r() < 0.8) body.schemas = r() < 0.9 ? [PATCH_OP] : randomValue(r, 1);
    const n = Math.floor(r() * 4);
    body[r() < 0.9 ? 'Operations' : 'operations'] = r() < 0.95 ? Array.from({ length: n }, () => randomOp(r)) : randomValue(r, 1);
    return body;
  }

  it('throws only ScimError for thousands of random bodies, and keeps documents canonical', () => {
    // PATCH_FUZZ_N / PATCH_FUZZ_SEED allow longer local runs.
    const r = rng(Number(process.env.PATCH_FUZZ_SEED ?? 20240607));
    const iterations = Number(process.env.PATCH_FUZZ_N ?? 4000);
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < iterations; i++) {
      const group = r() < 0.3;
      const body = randomBody(r);
      const cur = group ? baseGroup() : baseUser();
      const snapshot = JSON.stringify(cur);
      let result: PatchResult | undefined;
      try {
        result = applyPatch(group ? groupResourceType : userResourceType, cur, body);
        ok++;
      } catch (e) {
        if (!(e instanceof ScimError)) {
          throw new Error(`non-ScimError for body ${JSON.stringify(body)}: ${String(e)}`);
        }
        expect(e.status).toBe(400);
        failed++;
      }
      expect(JSON.stringify(cur)).toBe(snapshot);
      if (result) {
        for (const k of ['id', 'meta', 'schemas', 'password', 'groups', 'members', 'externalId']) expect(result.doc).not.toHaveProperty(k);
        const required = group ? 'displayName' : 'userName';
        expect(typeof result.doc[required]).toBe('string');
        for (const v of Object.values(result.doc)) {
          if (Array.isArray(v)) expect(v.length).toBeGreaterThan(0);
          else if (v && typeof v === 'object') expect(Object.keys(v).length).toBeGreaterThan(0);
        }
      }
    }
    // The generator must exercise both outcomes to mean anything.
    expect(ok).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(200);
  });
});
