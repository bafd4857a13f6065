/**
 * Policy 6 — attribute map. `attributeMap` maps host-app profile fields to SCIM
 * attribute paths; the resolved profile is part of the record the host app
 * reads (row.app.profile). Photos, birth dates and complex attributes are
 * refused when the settings are saved, with a clear message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type TestApp } from '../support/app.js';
import { CORE_USER, ENTERPRISE, ROLLCALL, connect, createUser, expectPatched, expectRefusedUnchanged, hostRecord, patch, type Setup } from './helpers.js';

const MAP = {
  jobTitle: 'title',
  department: `${ENTERPRISE}:department`,
  firstName: 'name.givenName',
  workEmail: 'emails[type eq "work"].value',
  degree: `${ROLLCALL}:academicDegree`,
  employeeNo: `${ENTERPRISE}:employeeNumber`,
};

let t: TestApp;
let s: Setup;

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, { attributeMap: MAP }, 'Attribute map');
});
afterAll(async () => {
  await t?.close();
});

describe('policy 6: resolved profile in the host record', () => {
  it('resolves every mapped field on create (core, sub-attribute, value filter, both extensions)', async () => {
    const u = await createUser(s.c, {
      schemas: [CORE_USER, ENTERPRISE, ROLLCALL],
      userName: 'map1@acme.com',
      title: 'Engineer',
      name: { givenName: 'Jane', familyName: 'Doe' },
      emails: [
        { value: 'jane.home@acme.com', type: 'home' },
        { value: 'jane@acme.com', type: 'work', primary: true },
      ],
      [ENTERPRISE]: { department: 'R&D', employeeNumber: '4711' },
      [ROLLCALL]: { academicDegree: 'Dr.' },
    });
    expect((await hostRecord(s, u.id)).app.profile).toEqual({
      jobTitle: 'Engineer',
      department: 'R&D',
      firstName: 'Jane',
      workEmail: 'jane@acme.com',
      degree: 'Dr.',
      employeeNo: '4711',
    });
  });

  it('absent attributes resolve to null (every mapped field is present in the profile)', async () => {
    const u = await createUser(s.c, { userName: 'map2@acme.com' });
    const profile = (await hostRecord(s, u.id)).app.profile;
    expect(Object.keys(profile).sort()).toEqual(Object.keys(MAP).sort());
    for (const k of Object.keys(MAP)) expect(profile[k] ?? null).toBeNull();
  });

  it('follows updates by PATCH (Entra forms) and PUT, including removals', async () => {
    const u = await createUser(s.c, { userName: 'map3@acme.com', title: 'Intern', [ENTERPRISE]: { department: 'Ops' } });
    expectPatched(
      await s.c.patch(
        `/Users/${u.id}`,
        patch(
          { op: 'Replace', path: 'title', value: 'Engineer' },
          { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'R&D' },
          { op: 'Add', path: 'name.givenName', value: 'Max' },
        ),
      ),
    );
    expect((await hostRecord(s, u.id)).app.profile).toMatchObject({ jobTitle: 'Engineer', department: 'R&D', firstName: 'Max' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { title: 'Lead', [`${ENTERPRISE}:department`]: 'Sales' } })));
    expect((await hostRecord(s, u.id)).app.profile).toMatchObject({ jobTitle: 'Lead', department: 'Sales' });
    expectPatched(await s.c.patch(`/Users/${u.id}`, patch({ op: 'Remove', path: 'title' })));
    expect((await hostRecord(s, u.id)).app.profile.jobTitle ?? null).toBeNull();
    const put = await s.c.put(`/Users/${u.id}`, { userName: 'map3@acme.com', title: 'CTO' });
    expect(put.status, put.text).toBe(200);
    const profile = (await hostRecord(s, u.id)).app.profile;
    expect(profile.jobTitle).toBe('CTO');
    expect(profile.department ?? null).toBeNull();
    expect(profile.firstName ?? null).toBeNull();
  });

  it('a refused update leaves the profile as it was', async () => {
    const u = await createUser(s.c, { userName: 'map4@acme.com', title: 'Keep' });
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { title: 'Lost', userName: 'info@acme.com' } })), 400, 'invalidValue');
    expect((await hostRecord(s, u.id)).app.profile.jobTitle).toBe('Keep');
  });

  it('the host record carries the default role and the workspace', async () => {
    const x = await t.connection('Role & workspace', { settings: { defaultRole: 'viewer' }, workspace: 'eu-team' });
    const c = scimClient(t.app, x);
    const u = await createUser(c, { userName: 'role@acme.com' });
    expect((await hostRecord({ t, conn: x, c }, u.id)).app).toMatchObject({ role: 'viewer', workspace: 'eu-team' });
    const d = await createUser(s.c, { userName: 'role2@acme.com' });
    expect((await hostRecord(s, d.id)).app).toMatchObject({ role: 'member', workspace: 'default' });
  });
});

describe('policy 6: refused mappings when the settings are saved', () => {
  const refused: [string, string, RegExp][] = [
    ['photos', 'photos', /photo/i],
    ['photos value', 'photos.value', /photo/i],
    ['photo by filter', 'photos[type eq "photo"].value', /photo/i],
    ['birth date', 'birthDate', /birth/i],
    ['birth date in an extension', `${ENTERPRISE}:birthdate`, /birth/i],
    ['complex name', 'name', /complex/i],
    ['multi-valued complex emails', 'emails', /complex/i],
    ['multi-valued complex addresses', 'addresses', /complex/i],
    ['complex manager', `${ENTERPRISE}:manager`, /complex/i],
    ['unknown attribute', 'shoeSize', /shoeSize/],
    ['password', 'password', /password/i],
  ];

  it.each(refused)('refuses a mapping to %s with a clear message naming the field; settings unchanged', async (_n, path, why) => {
    const before = (await t.rc.connections.show(s.conn.id))!.settings;
    const err = await t.rc.connections.configure(s.conn.id, { attributeMap: { ...MAP, broken: path } }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, `mapping to ${path} was accepted`).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/attributeMap\.broken/);
    expect(err!.message).toMatch(why);
    expect((await t.rc.connections.show(s.conn.id))!.settings).toEqual(before);
  });

  it('refuses such a mapping at connection creation too', async () => {
    await expect(t.connection('Bad map', { settings: { attributeMap: { avatar: 'photos' } } })).rejects.toThrow(/photo/i);
    await expect(t.connection('Bad map 2', { settings: { attributeMap: { born: 'birthDate' } } })).rejects.toThrow(/birth/i);
    await expect(t.connection('Bad map 3', { settings: { attributeMap: { full: 'name' } } })).rejects.toThrow(/complex/i);
  });

  it('refuses a wrong type (not an object of strings)', async () => {
    await expect(t.rc.connections.configure(s.conn.id, { attributeMap: { jobTitle: 5 } })).rejects.toThrow(/attributeMap/);
    await expect(t.rc.connections.configure(s.conn.id, { attributeMap: ['title'] })).rejects.toThrow(/attributeMap/);
  });

  it('a new map applies to the next write of a user', async () => {
    const x = await connect(t, {}, 'Map later');
    const u = await createUser(x.c, { userName: 'later@acme.com', title: 'Boss' });
    expect((await hostRecord(x, u.id)).app.profile).toEqual({});
    await t.rc.connections.configure(x.conn.id, { attributeMap: { jobTitle: 'title' } });
    expectPatched(await x.c.patch(`/Users/${u.id}`, patch({ op: 'replace', path: 'displayName', value: 'The Boss' })));
    expect((await hostRecord(x, u.id)).app.profile).toEqual({ jobTitle: 'Boss' });
  });
});
