/**
 * Policy 3 — language. preferredLanguage accepts ISO 639-1 and language-region
 * in any case and with `_` or `-`, is stored normalised (`de-DE`), and the
 * primary language is available to the host app; users without one get
 * `defaultLanguage`. A value that is no supported tag is kept on the SCIM
 * resource and flagged for the host app (which gets the default), or refused with
 * 400 invalidValue where the connection sets strictLanguage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { connect, createUser, expectRefusedUnchanged, findUsers, getUser, hostRecord, patch, type Setup } from './helpers.js';

let t: TestApp;
let s: Setup; // defaultLanguage: de
let plain: Setup; // no defaultLanguage
let strict: Setup; // defaultLanguage: de, strictLanguage

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, { defaultLanguage: 'de' }, 'Language with default');
  plain = await connect(t, {}, 'Language without default');
  strict = await connect(t, { defaultLanguage: 'de', strictLanguage: true }, 'Strict language');
});
afterAll(async () => {
  await t?.close();
});

let n = 0;
const uname = () => `lang${++n}@acme.com`;

describe('policy 3: language', () => {
  it.each([
    ['en_US', 'en-US', 'en'],
    ['DE', 'de', 'de'],
    ['de-de', 'de-DE', 'de'],
    ['de-DE', 'de-DE', 'de'],
    ['EN-gb', 'en-GB', 'en'],
    ['fr_ca', 'fr-CA', 'fr'],
    ['pt-br', 'pt-BR', 'pt'],
    ['es-419', 'es-419', 'es'],
    ['it', 'it', 'it'],
  ])('stores %s as %s; the host app gets language and primary language %s', async (given, tag, primary) => {
    const u = await createUser(s.c, { userName: uname(), preferredLanguage: given });
    expect(u.preferredLanguage).toBe(tag);
    expect((await getUser(s.c, u.id)).preferredLanguage).toBe(tag);
    const host = await hostRecord(s, u.id);
    expect(host.app.language).toBe(tag);
    expect(host.app.primaryLanguage).toBe(primary);
  });

  it('a normalised value is what filters see', async () => {
    const u = await createUser(s.c, { userName: 'filter.lang@acme.com', preferredLanguage: 'nl_be' });
    const found = await findUsers(s.c, 'preferredLanguage eq "nl-BE"');
    expect(found.map((r) => r.id)).toEqual([u.id]);
  });

  it.each(['english', 'xx', 'deu', 'en-XX', 'en-USA', 'de-DE-1996', 'zh-Hant-TW', '12', 'e', 'en US'])(
    'strictLanguage refuses %s with 400 invalidValue naming the value; nothing stored',
    async (value) => {
      const userName = uname();
      const res = await expectRefusedUnchanged(strict.c, () => strict.c.post('/Users', { userName, preferredLanguage: value }), 400, 'invalidValue', value);
      expect(res.body.detail).toMatch(/language/i);
      expect(await findUsers(strict.c, `userName eq "${userName}"`)).toEqual([]);
    },
  );

  it.each(['English', 'en-GB-oxendict', 'b6f1c3a2-9d4e-4f7a-8c21-3e5d7f9a0b12', 'de-DE-1996', 'en US'])(
    'by default accepts %s: the SCIM resource keeps it, the host app gets the default language and a flag',
    async (value) => {
      const u = await createUser(s.c, { userName: uname(), preferredLanguage: value });
      expect(u.preferredLanguage).toBe(value);
      expect((await getUser(s.c, u.id)).preferredLanguage).toBe(value);
      const { app } = await hostRecord(s, u.id);
      expect(app.language).toBe('de');
      expect(app.primaryLanguage).toBe('de');
      expect(app.flags).toEqual([`unsupported-language:${value}`]);
      // Without a default the host app gets no language, still flagged.
      const p = await createUser(plain.c, { userName: uname(), preferredLanguage: value });
      expect((await hostRecord(plain, p.id)).app).toMatchObject({ language: null, flags: [`unsupported-language:${value}`] });
    },
  );

  it('an unsupported value by PATCH is kept and flagged; a supported one later clears the flag', async () => {
    const u = await createUser(s.c, { userName: uname(), preferredLanguage: 'fr' });
    expect((await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'preferredLanguage', value: 'Deutsch' }))).status).toBeLessThan(300);
    expect((await getUser(s.c, u.id)).preferredLanguage).toBe('Deutsch');
    expect((await hostRecord(s, u.id)).app).toMatchObject({ language: 'de', flags: ['unsupported-language:Deutsch'] });
    expect((await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'preferredLanguage', value: 'nl_be' }))).status).toBeLessThan(300);
    expect((await getUser(s.c, u.id)).preferredLanguage).toBe('nl-BE');
    expect((await hostRecord(s, u.id)).app).toMatchObject({ language: 'nl-BE', flags: [] });
  });

  it('a number as preferredLanguage is read as its text: refused by strictLanguage, else kept and flagged', async () => {
    await expectRefusedUnchanged(strict.c, () => strict.c.post('/Users', { userName: uname(), preferredLanguage: 42 }), 400);
    const u = await createUser(s.c, { userName: uname(), preferredLanguage: 42 });
    expect((await hostRecord(s, u.id)).app.flags).toEqual(['unsupported-language:42']);
  });

  it('users without a preferredLanguage get defaultLanguage in the host record', async () => {
    const u = await createUser(s.c, { userName: uname() });
    const host = await hostRecord(s, u.id);
    expect(host.app.language).toBe('de');
    expect(host.app.primaryLanguage).toBe('de');
    // An empty string is how IdPs send an unset attribute: the default applies.
    const e = await createUser(s.c, { userName: uname(), preferredLanguage: '' });
    expect((await hostRecord(s, e.id)).app.language).toBe('de');
  });

  it('without defaultLanguage a user without one has no language', async () => {
    const u = await createUser(plain.c, { userName: uname() });
    const host = await hostRecord(plain, u.id);
    expect(host.app.language).toBeNull();
    expect(host.app.primaryLanguage).toBeNull();
  });

  it('the user’s own language wins over the default', async () => {
    const u = await createUser(s.c, { userName: uname(), preferredLanguage: 'en_GB' });
    expect((await hostRecord(s, u.id)).app.language).toBe('en-GB');
  });

  it('PATCH (Entra Replace, no-path) and PUT normalise too, and removing it falls back to the default', async () => {
    const u = await createUser(s.c, { userName: 'patch.lang@acme.com', preferredLanguage: 'en' });
    let res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'preferredLanguage', value: 'fr_fr' }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id)).preferredLanguage).toBe('fr-FR');
    expect((await hostRecord(s, u.id)).app).toMatchObject({ language: 'fr-FR', primaryLanguage: 'fr' });

    res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { preferredLanguage: 'IT_ch' } }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id)).preferredLanguage).toBe('it-CH');

    res = await s.c.put(`/Users/${u.id}`, { userName: 'patch.lang@acme.com', preferredLanguage: 'ES' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.preferredLanguage).toBe('es');

    res = await s.c.patch(`/Users/${u.id}`, patch({ op: 'remove', path: 'preferredLanguage' }));
    expect([200, 204], res.text).toContain(res.status);
    expect((await getUser(s.c, u.id)).preferredLanguage).toBeUndefined();
    expect((await hostRecord(s, u.id)).app).toMatchObject({ language: 'de', primaryLanguage: 'de' });
  });

  it('with strictLanguage an invalid value by PATCH or PUT is refused and the user keeps its language', async () => {
    const s = strict;
    const u = await createUser(s.c, { userName: 'keep.lang@acme.com', preferredLanguage: 'de-AT' });
    await expectRefusedUnchanged(s.c, () => s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'preferredLanguage', value: 'Deutsch' })), 400, 'invalidValue', 'Deutsch');
    await expectRefusedUnchanged(
      s.c,
      () => s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { displayName: 'Keep', preferredLanguage: 'de_XX' } })),
      400,
      'invalidValue',
    );
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${u.id}`, { userName: 'keep.lang@acme.com', preferredLanguage: 'german' }), 400, 'invalidValue');
    const after = await getUser(s.c, u.id);
    expect(after.preferredLanguage).toBe('de-AT');
    expect(after.displayName).toBeUndefined();
    expect((await hostRecord(s, u.id)).app.language).toBe('de-AT');
  });

  it('settings refuse an invalid defaultLanguage with a clear message and keep the old one', async () => {
    await expect(t.rc.connections.configure(s.conn.id, { defaultLanguage: 'klingon' })).rejects.toThrow(/defaultLanguage/);
    await expect(t.rc.connections.configure(s.conn.id, { defaultLanguage: 7 })).rejects.toThrow(/defaultLanguage/);
    expect((await t.rc.connections.show(s.conn.id))!.settings.defaultLanguage).toBe('de');
  });

  it('a changed defaultLanguage applies to users written afterwards', async () => {
    const x = await connect(t, { defaultLanguage: 'en' }, 'Default change');
    await t.rc.connections.configure(x.conn.id, { defaultLanguage: 'fr' });
    const u = await createUser(x.c, { userName: uname() });
    expect((await hostRecord(x, u.id)).app).toMatchObject({ language: 'fr', primaryLanguage: 'fr' });
  });
});
