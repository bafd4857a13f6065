/**
 * Policy 2 — collective (role) mailboxes. Refused with 400 invalidValue by
 * default: a built-in list plus `collectiveLocalParts`; plus-addressing and
 * case do not bypass it; `rejectCollectiveAddresses: false` turns it off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { connect, createUser, expectRefusedUnchanged, findUsers, getUser, patch, type Setup } from './helpers.js';

let t: TestApp;
let s: Setup;

beforeAll(async () => {
  t = await startTestApp();
  s = await connect(t, undefined, 'Collective defaults');
});
afterAll(async () => {
  await t?.close();
});

const BUILT_IN_EXAMPLES = [
  'info', 'sales', 'support', 'team', 'office', 'admin', 'contact', 'hr', 'noreply', 'no-reply', 'billing', 'jobs', 'hello', 'marketing',
];

describe('policy 2: collective addresses (default: refused)', () => {
  it('rejectCollectiveAddresses defaults to true', async () => {
    expect((await t.rc.connections.show(s.conn.id))!.settings.rejectCollectiveAddresses).toBe(true);
  });

  it.each(BUILT_IN_EXAMPLES)('refuses %s@ as userName with 400 invalidValue; nothing stored', async (local) => {
    const userName = `${local}@acme.com`;
    await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName }), 400, 'invalidValue', userName);
    expect(await findUsers(s.c, `userName eq "${userName}"`)).toEqual([]);
  });

  it.each(['info+x@acme.com', 'No-Reply@acme.com', 'NOREPLY@acme.com', 'no.reply@acme.com', 'Support+Tickets@acme.com', 'SALES@ACME.COM'])(
    'cannot be bypassed by plus-addressing, case or separators: %s',
    async (userName) => {
      await expectRefusedUnchanged(s.c, () => s.c.post('/Users', { userName }), 400, 'invalidValue', userName);
    },
  );

  it('refuses a role mailbox among the e-mails of an otherwise personal user', async () => {
    await expectRefusedUnchanged(
      s.c,
      () =>
        s.c.post('/Users', {
          userName: 'jane@acme.com',
          emails: [
            { value: 'jane@acme.com', type: 'work', primary: true },
            { value: 'info+jane@acme.com', type: 'other' },
          ],
        }),
      400,
      'invalidValue',
      'info+jane@acme.com',
    );
  });

  it('accepts people whose address only starts with or contains a role word', async () => {
    for (const userName of ['hrvoje.horvat@acme.com', 'information.theory@acme.com', 'infomaniac@acme.com', 'teamlead.anna@acme.com', 'salesforce.bob@acme.com', 'helen@acme.com']) {
      await createUser(s.c, { userName });
    }
    await createUser(s.c, { userName: 'ben.sales@acme.com' });
  });

  it('refuses changing an existing user to a role mailbox by PUT or PATCH; the user is unchanged', async () => {
    const u = await createUser(s.c, { userName: 'pat@acme.com', emails: [{ value: 'pat@acme.com', type: 'work', primary: true }] });
    await expectRefusedUnchanged(s.c, () => s.c.put(`/Users/${u.id}`, { userName: 'office@acme.com' }), 400, 'invalidValue', 'office@acme.com');
    await expectRefusedUnchanged(
      s.c,
      () => s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'userName', value: 'contact+pat@acme.com' })),
      400,
      'invalidValue',
    );
    await expectRefusedUnchanged(
      s.c,
      () => s.c.patch(`/Users/${u.id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'Billing@acme.com' })),
      400,
      'invalidValue',
    );
    const after = await getUser(s.c, u.id);
    expect(after.userName).toBe('pat@acme.com');
    expect(after.emails[0].value).toBe('pat@acme.com');
  });
});

describe('policy 2: collectiveLocalParts and switching it off', () => {
  it('extra local parts are refused in addition to the built-in list (case, plus-addressing)', async () => {
    const x = await connect(t, { collectiveLocalParts: ['einkauf', 'Lager'] }, 'Extra parts');
    for (const userName of ['einkauf@acme.de', 'Einkauf+2024@acme.de', 'lager@acme.de', 'LAGER@acme.de']) {
      await expectRefusedUnchanged(x.c, () => x.c.post('/Users', { userName }), 400, 'invalidValue', userName);
    }
    // The built-in list still applies.
    await expectRefusedUnchanged(x.c, () => x.c.post('/Users', { userName: 'info@acme.de' }), 400, 'invalidValue');
    await createUser(x.c, { userName: 'einkaeufer.tom@acme.de' });
    // Without the extra entry, einkauf@ is a person as far as the built-in list goes.
    await createUser(s.c, { userName: 'einkauf@acme.de' });
  });

  it('rejectCollectiveAddresses: false accepts role mailboxes', async () => {
    const off = await connect(t, { rejectCollectiveAddresses: false }, 'Collective off');
    for (const userName of ['info@acme.com', 'no-reply@acme.com', 'support+x@acme.com']) await createUser(off.c, { userName });
  });

  it('settings refuse an entry that is a whole address, with a message naming it', async () => {
    const before = (await t.rc.connections.show(s.conn.id))!.settings;
    await expect(t.rc.connections.configure(s.conn.id, { collectiveLocalParts: ['info@acme.com'] })).rejects.toThrow(/collectiveLocalParts\[0\]/);
    await expect(t.rc.connections.configure(s.conn.id, { rejectCollectiveAddresses: 'yes' })).rejects.toThrow(/rejectCollectiveAddresses/);
    expect((await t.rc.connections.show(s.conn.id))!.settings).toEqual(before);
  });
});
