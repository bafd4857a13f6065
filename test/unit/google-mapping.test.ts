/** Google's Directory API user and group → SCIM (docs/google-workspace.md's table), pure. */
import { describe, expect, it } from 'vitest';
import { googleGroupToScim, googleUserToScim } from '../../src/sources/google-workspace/mapping.js';
import { parseGoogleConfig, parseServiceAccountKey } from '../../src/sources/google-workspace/config.js';
import { eachLimited } from '../../src/sources/sync.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ROLLCALL = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';

describe('Google Workspace mapping', () => {
  it('maps every documented field, leaving aliases, photos and absent fields out', () => {
    const { id, name, resource } = googleUserToScim(
      {
        id: '1042',
        primaryEmail: 'ada@example.com',
        name: { givenName: 'Ada', familyName: 'Lovelace', fullName: 'Ada Lovelace', displayName: 'Countess Ada' },
        suspended: false,
        archived: true,
        emails: [{ address: 'ada@example.com', primary: true }, { address: 'ada@example.com.test-google-a.com' }, { address: 'ada@home.example', type: 'home' }, { address: 'ada.l@example.com', type: 'custom' }],
        phones: [{ value: '+44 1', type: 'work_mobile', primary: true }, { value: '+44 2', type: 'home_fax' }, { value: '+44 3', type: 'assistant' }, { value: '' }],
        organizations: [{ title: 'Clerk', department: 'Old' }, { title: 'Analyst', department: 'Engines', costCenter: 'CC-7', name: 'Babbage Ltd', primary: true }],
        externalIds: [{ type: 'organization', value: 'E-1815' }, { type: 'login_id', value: 'ada' }],
        languages: [{ languageCode: 'fr', preference: 'not_preferred' }, { languageCode: 'en-GB', preference: 'preferred' }],
        customSchemas: { HR: { degree: 'Countess', level: [{ value: 3 }] } },
        thumbnailPhotoUrl: 'https://example.com/p.jpg',
      },
      { customAttributes: { 'HR.degree': `${ROLLCALL}:academicDegree`, 'HR.level': 'nickName', 'HR.missing': 'profileUrl' } },
    );
    expect(id).toBe('1042');
    expect(name).toBe('ada@example.com');
    expect(resource).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE, ROLLCALL],
      externalId: '1042',
      userName: 'ada@example.com',
      name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
      displayName: 'Countess Ada',
      title: 'Analyst',
      preferredLanguage: 'en-GB',
      // Archived counts as not active, like suspended.
      active: false,
      emails: [
        { value: 'ada@example.com', type: 'work', primary: true },
        { value: 'ada@home.example', type: 'home' },
        { value: 'ada.l@example.com', type: 'other' },
      ],
      phoneNumbers: [
        { value: '+44 1', type: 'mobile', primary: true },
        { value: '+44 2', type: 'fax' },
        { value: '+44 3', type: 'other' },
      ],
      nickName: '3',
      [ENTERPRISE]: { employeeNumber: 'E-1815', costCenter: 'CC-7', organization: 'Babbage Ltd', department: 'Engines' },
      [ROLLCALL]: { academicDegree: 'Countess' },
    });
  });

  it('a bare user and a group', () => {
    expect(googleUserToScim({ id: '7', primaryEmail: 'x@example.com' }, { customAttributes: {} }).resource).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      externalId: '7',
      userName: 'x@example.com',
      active: true,
      emails: [{ value: 'x@example.com', type: 'work', primary: true }],
    });
    expect(googleGroupToScim({ id: '03x', email: 'staff@example.com', name: 'Staff' })).toEqual({
      id: '03x',
      name: 'staff@example.com',
      resource: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Staff', externalId: '03x' },
    });
    expect(googleGroupToScim({ id: '03y', email: 'noname@example.com' }).resource.displayName).toBe('noname@example.com');
  });

  it('checks settings and the key file, naming what is wrong', () => {
    expect(parseGoogleConfig({ adminEmail: ' Admin@Example.com ', domain: 'Example.COM' })).toEqual({ adminEmail: 'admin@example.com', domain: 'example.com', orgUnits: [], groups: [], customAttributes: {} });
    expect(() => parseGoogleConfig({ adminEmail: 'admin', domain: 'example.com' })).toThrow(/adminEmail: is not an e-mail address/);
    expect(() => parseGoogleConfig({ adminEmail: 'a@example.com', domain: 'example.com', orgUnits: ["Sales'"] })).toThrow(/orgUnits.0: is not an organisational unit path/);
    expect(() => parseGoogleConfig({ adminEmail: 'a@example.com', domain: 'example.com', extra: 1 })).toThrow(/Unrecognized key/);
    expect(() => parseServiceAccountKey('not json')).toThrow(/not JSON/);
    expect(() => parseServiceAccountKey('{"type":"authorized_user"}')).toThrow(/not a service account key/);
    expect(() => parseServiceAccountKey('{"type":"service_account","client_email":"a@b.iam","client_id":"1"}')).toThrow(/no "private_key"/);
    expect(() => parseServiceAccountKey('{"type":"service_account","client_email":"a@b.iam","client_id":"1","private_key":"nope"}')).toThrow(/not a PEM private key/);
  });
});

describe('eachLimited (a page written at bounded concurrency)', () => {
  it('runs at most n at once, and after a failure starts nothing new and waits for what is in flight', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const work = async (i: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, i === 3 ? 1 : 5));
      running--;
      if (i === 3) throw new Error('item 3 failed');
      done.push(i);
    };
    await expect(eachLimited([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4, work)).rejects.toThrow('item 3 failed');
    expect(most).toBe(4);
    // 0-2 were in flight with 3 and finished before the error was thrown; 4 and later never started.
    expect(running).toBe(0);
    expect(done.sort()).toEqual([0, 1, 2]);
  });
});
