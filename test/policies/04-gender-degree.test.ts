/**
 * Policy 4 — gender and academic degree in the Rollcall extension
 * (urn:ietf:params:scim:schemas:extension:rollcall:2.0:User): listed in
 * /Schemas, filterable, patchable; gender translated through `genderValues`
 * case-insensitively; an unmapped value kept as given and flagged for an admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { CORE_USER, ENTERPRISE, ROLLCALL, connect, createUser, expectRefusedUnchanged, findUsers, getUser, hostRecord, patch, type Setup } from './helpers.js';

let t: TestApp;
let s: Setup;

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, { genderValues: { m: 'male', w: 'female', x: 'diverse' } }, 'Gender');
});
afterAll(async () => {
  await t?.close();
});

const unmappedFlags = (app: any) => (app.flags as string[]).filter((f) => /gender/i.test(f));

describe('policy 4: the Rollcall extension in discovery', () => {
  it('/Schemas lists the extension with gender and academicDegree', async () => {
    const res = await s.c.get('/Schemas');
    expect(res.status, res.text).toBe(200);
    const ext = res.body.Resources.find((r: any) => r.id === ROLLCALL);
    expect(ext, res.text).toBeDefined();
    const names = ext.attributes.map((a: any) => a.name);
    expect(names).toEqual(expect.arrayContaining(['gender', 'academicDegree']));
    const one = await s.c.get(`/Schemas/${ROLLCALL}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body.id).toBe(ROLLCALL);
  });

  it('/ResourceTypes/User names it as an optional extension', async () => {
    const res = await s.c.get('/ResourceTypes/User');
    expect(res.status, res.text).toBe(200);
    expect(res.body.schemaExtensions).toEqual(expect.arrayContaining([{ schema: ROLLCALL, required: false }]));
  });
});

describe('policy 4: gender translation', () => {
  it.each([
    ['m', 'male'],
    ['W', 'female'],
    [' x ', 'diverse'],
    ['M', 'male'],
  ])('translates %j to %s (case-insensitive), without a flag', async (given, canonical) => {
    const u = await createUser(s.c, { schemas: [CORE_USER, ROLLCALL], userName: `g${canonical}${given.trim()}${Math.random().toString(36).slice(2, 6)}@acme.com`, [ROLLCALL]: { gender: given } });
    expect(u[ROLLCALL].gender).toBe(canonical);
    expect(u.schemas).toContain(ROLLCALL);
    expect((await getUser(s.c, u.id))[ROLLCALL].gender).toBe(canonical);
    expect(unmappedFlags((await hostRecord(s, u.id)).app)).toEqual([]);
  });

  it('keeps an unmapped value as given and flags it in the host record', async () => {
    const u = await createUser(s.c, { userName: 'unmapped@acme.com', [ROLLCALL]: { gender: 'Divers' } });
    expect((await getUser(s.c, u.id))[ROLLCALL].gender).toBe('Divers');
    const flags = unmappedFlags((await hostRecord(s, u.id)).app);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toContain('Divers');
  });

  it('fixing the value (PATCH) clears the flag; a new unmapped value by PATCH sets it', async () => {
    const u = await createUser(s.c, { userName: 'fixme@acme.com', [ROLLCALL]: { gender: 'q' } });
    expect(unmappedFlags((await hostRecord(s, u.id)).app)).toHaveLength(1);
    let res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: `${ROLLCALL}:gender`, value: 'w' }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id))[ROLLCALL].gender).toBe('female');
    expect(unmappedFlags((await hostRecord(s, u.id)).app)).toEqual([]);
    res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { [`${ROLLCALL}:gender`]: 'unknown-value' } }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id))[ROLLCALL].gender).toBe('unknown-value');
    expect(unmappedFlags((await hostRecord(s, u.id)).app)[0]).toContain('unknown-value');
  });

  it('an already canonical value is kept and not flagged', async () => {
    const u = await createUser(s.c, { userName: 'canon@acme.com', [ROLLCALL]: { gender: 'female' } });
    expect((await getUser(s.c, u.id))[ROLLCALL].gender).toBe('female');
    expect(unmappedFlags((await hostRecord(s, u.id)).app)).toEqual([]);
  });

  it('without a map nothing is translated', async () => {
    const x = await connect(t, {}, 'No gender map');
    const u = await createUser(x.c, { userName: 'raw@acme.com', [ROLLCALL]: { gender: 'w' } });
    expect((await getUser(x.c, u.id))[ROLLCALL].gender).toBe('w');
  });

  it('settings refuse a map whose keys collide case-insensitively', async () => {
    await expect(t.rc.connections.configure(s.conn.id, { genderValues: { m: 'male', M: 'man' } })).rejects.toThrow(/genderValues/);
    await expect(t.rc.connections.configure(s.conn.id, { genderValues: { m: 1 } })).rejects.toThrow(/genderValues/);
    expect((await t.rc.connections.show(s.conn.id))!.settings.genderValues).toEqual({ m: 'male', w: 'female', x: 'diverse' });
  });
});

describe('policy 4: academic degree, filtering and patching', () => {
  it('Entra-style create with the extension (as mapped from extensionAttributes) stores both values', async () => {
    const res = await s.c.post('/Users', {
      schemas: [CORE_USER, ENTERPRISE, ROLLCALL],
      externalId: 'entra-deg-1',
      userName: 'doktor@acme.com',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'doktor@acme.com' }],
      name: { givenName: 'Eva', familyName: 'Klein' },
      [ENTERPRISE]: { department: 'R&D' },
      [ROLLCALL]: { gender: 'w', academicDegree: 'Dr.' },
    });
    expect(res.status, res.text).toBe(201);
    const u = await getUser(s.c, res.body.id);
    expect(u[ROLLCALL]).toEqual({ gender: 'female', academicDegree: 'Dr.' });
    expect(u[ENTERPRISE].department).toBe('R&D');
  });

  it('filters on the extension attributes by full URN path', async () => {
    const a = await createUser(s.c, { userName: 'prof@acme.com', [ROLLCALL]: { gender: 'm', academicDegree: 'Prof. Dr.' } });
    const byDegree = await findUsers(s.c, `${ROLLCALL}:academicDegree eq "Prof. Dr."`);
    expect(byDegree.map((u) => u.id)).toEqual([a.id]);
    const females = await findUsers(s.c, `${ROLLCALL}:gender eq "female"`);
    expect(females.length).toBeGreaterThan(0);
    expect(females.every((u) => u[ROLLCALL].gender === 'female')).toBe(true);
    const combined = await findUsers(s.c, `${ROLLCALL}:gender eq "male" and ${ROLLCALL}:academicDegree pr`);
    expect(combined.map((u) => u.id)).toContain(a.id);
    expect(combined.every((u) => u[ROLLCALL].gender === 'male' && u[ROLLCALL].academicDegree)).toBe(true);
  });

  it('patches academicDegree by path (Entra Add / Replace), no-path, and removes it', async () => {
    const u = await createUser(s.c, { userName: 'student@acme.com' });
    let res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'Add', path: `${ROLLCALL}:academicDegree`, value: 'B.Sc.' }));
    expect([200, 204], res.text).toContain(res.status);
    let got = await getUser(s.c, u.id);
    expect(got[ROLLCALL].academicDegree).toBe('B.Sc.');
    expect(got.schemas).toContain(ROLLCALL);
    res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: `${ROLLCALL}:academicDegree`, value: 'M.Sc.' }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id))[ROLLCALL].academicDegree).toBe('M.Sc.');
    res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { [ROLLCALL]: { academicDegree: 'Dr.', gender: 'x' } } }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id))[ROLLCALL]).toEqual({ academicDegree: 'Dr.', gender: 'diverse' });
    expect(await findUsers(s.c, `${ROLLCALL}:academicDegree eq "Dr." and userName eq "student@acme.com"`)).toHaveLength(1);
    res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'remove', path: `${ROLLCALL}:academicDegree` }));
    expect([200, 204], res.text).toContain(res.status);
    got = await getUser(s.c, u.id);
    expect(got[ROLLCALL]).toEqual({ gender: 'diverse' });
  });

  it('a PATCH to an unknown attribute of the extension is refused and changes nothing', async () => {
    const u = await createUser(s.c, { userName: 'strict@acme.com', [ROLLCALL]: { gender: 'm' } });
    const before = await s.c.get(`/Users/${u.id}`);
    const res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', path: `${ROLLCALL}:shoeSize`, value: '44' }));
    expect(res.status, res.text).toBe(400);
    expect((await s.c.get(`/Users/${u.id}`)).body).toEqual(before.body);
  });

  it('a refused user (policy) with extension values stores nothing', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName: 'info@acme.com', [ROLLCALL]: { gender: 'm', academicDegree: 'Dr.' } }), 400, 'invalidValue');
  });
});
