/**
 * Policy 1 — verified domains. With `domains` set, a user whose userName or any
 * e-mail is outside them (subdomains only when listed) is refused with 400
 * invalidValue naming the domain, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { connect, createUser, expectRefusedUnchanged, findUsers, getUser, patch, type Setup } from './helpers.js';

let t: TestApp;
let s: Setup;

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, { domains: ['acme.com', 'Acme-Labs.de'] }, 'Domains');
});
afterAll(async () => {
  await t?.close();
});

describe('policy 1: verified domains', () => {
  it('accepts userName and e-mails at a listed domain (domain compared case-insensitively)', async () => {
    const u = await createUser(s.c, {
      userName: 'jane.doe@acme.com',
      emails: [
        { value: 'jane.doe@ACME.com', type: 'work', primary: true },
        { value: 'jd@acme-labs.de', type: 'other' },
      ],
    });
    expect((await getUser(s.c, u.id)).userName).toBe('jane.doe@acme.com');
    await createUser(s.c, { userName: 'Max.Muster@Acme-Labs.DE' });
  });

  it('refuses a userName at another domain, naming the domain; nothing is stored', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName: 'mallory@evil.example' }), 400, 'invalidValue', 'evil.example');
    expect(await findUsers(s.c, 'userName eq "mallory@evil.example"')).toEqual([]);
  });

  it('refuses a subdomain of a listed domain unless it is listed itself', async () => {
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName: 'eve@eu.acme.com' }), 400, 'invalidValue', 'eu.acme.com');
    await expectRefusedUnchanged(
      s.c,
      () => s.c.post('/Users', { userName: 'eve@acme.com', emails: [{ value: 'eve@mail.acme.com', primary: true }] }),
      400,
      'invalidValue',
      'mail.acme.com',
    );
  });

  it('refuses look-alike domains (suffix and prefix tricks)', async () => {
    for (const userName of ['a@notacme.com', 'a@acme.com.evil.io', 'a@acme.co', 'a@xacme-labs.de']) {
      await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName }), 400, 'invalidValue', userName.split('@')[1]);
    }
  });

  it('refuses a user whose userName is fine but one of the e-mails is outside, naming that domain', async () => {
    await expectRefusedUnchanged(
      s.c,
      () =>
        s.c.post('/Users', {
          userName: 'bob@acme.com',
          emails: [
            { value: 'bob@acme.com', type: 'work', primary: true },
            { value: 'bob.private@gmail.com', type: 'home' },
          ],
        }),
      400,
      'invalidValue',
      'gmail.com',
    );
    expect(await findUsers(s.c, 'userName eq "bob@acme.com"')).toEqual([]);
  });

  it('refuses a userName outside even when the e-mails are inside', async () => {
    await expectRefusedUnchanged(
      s.c,
      () => s.c.post('/Users', { userName: 'carol@partner.org', emails: [{ value: 'carol@acme.com', primary: true }] }),
      400,
      'invalidValue',
      'partner.org',
    );
  });

  it('refuses moving an existing user outside by PUT or PATCH (Entra and no-path forms); the user is unchanged', async () => {
    const u = await createUser(s.c, { userName: 'dan@acme.com', emails: [{ value: 'dan@acme.com', type: 'work', primary: true }] });
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${u.id}`, { userName: 'dan@other.net' }), 400, 'invalidValue', 'other.net');
    await expectRefusedUnchanged(
      s.c,
      () => s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'dan@sub.acme.com' })),
      400,
      'invalidValue',
      'sub.acme.com',
    );
    await expectRefusedUnchanged(
      s.c,
      () => s.c.patch(`/Users/${u.id}`, patch({ op: 'add', path: 'emails', value: [{ value: 'dan@home.example', type: 'home' }] })),
      400,
      'invalidValue',
      'home.example',
    );
    await expectRefusedUnchanged(
      s.c,
      () => s.c.patch(`/Users/${u.id}`, patch({ op: 'replace', value: { userName: 'dan@elsewhere.io', displayName: 'Dan' } })),
      400,
      'invalidValue',
      'elsewhere.io',
    );
    const after = await getUser(s.c, u.id);
    expect(after.userName).toBe('dan@acme.com');
    expect(after.emails).toEqual([{ value: 'dan@acme.com', type: 'work', primary: true }]);
    expect(after.displayName).toBeUndefined();
  });

  it('a listed subdomain is accepted once configured', async () => {
    await t.rc.connections.configure(s.conn.id, { domains: ['acme.com', 'acme-labs.de', 'eu.acme.com'] });
    await createUser(s.c, { userName: 'eve@eu.acme.com' });
  });

  it('empty domains (the default) accepts any domain', async () => {
    const open = await connect(t, {}, 'No domains');
    await createUser(open.c, { userName: 'anyone@anywhere.example' });
    await createUser(open.c, { userName: 'x@eu.acme.com' });
  });

  it('settings refuse something that is not a domain, with a clear message', async () => {
    await expect(t.rc.connections.configure(s.conn.id, { domains: ['not a domain'] })).rejects.toThrow(/domains\[0\]/);
    await expect(t.rc.connections.configure(s.conn.id, { domains: 'acme.com' })).rejects.toThrow(/domains/);
    expect((await t.rc.connections.show(s.conn.id))!.settings.domains).toEqual(['acme.com', 'acme-labs.de', 'eu.acme.com']);
  });
});
