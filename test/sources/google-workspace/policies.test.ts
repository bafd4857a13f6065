/**
 * Issue 15 acceptance 4: the connection's policies refuse and flag pulled users
 * as they do SCIM ones; a refused user is one of the run's errors, the run goes on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SourceDirectory } from '../../../src/directory/sources.js';
import { type GoogleSetup, countByType, googleSetup, populate } from './helpers.js';
import { googleUser } from './fake-google.mjs';

let s: GoogleSetup | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await s?.close();
  s = undefined;
});

describe('Google Workspace: policies', () => {
  it('refuses an address outside verifiedDomains and a collective mailbox, flags what it keeps, and finishes the run', async () => {
    s = await googleSetup({ settings: { genderValues: { f: 'female' } }, requestLog: true });
    populate(s.fake, 20);
    const secondary = googleUser(100, 'other.example');
    const mailbox = googleUser(101, 'example.com', { primaryEmail: 'info@example.com', emails: [{ address: 'info@example.com', primary: true }] });
    // Kept, with flags for the host app: Google's 'm' is not in genderValues, 'xx' is no language.
    const flagged = googleUser(102, 'example.com', { languages: [{ languageCode: 'xx', preference: 'preferred' }] });
    for (const u of [secondary, mailbox, flagged]) s.fake.state.users.set(u.id, u);
    s.fake.state.users.get(flagged.id)!.customSchemas = { Employment: { gender: 'm' } };
    await s.rc.sources.configureGoogleWorkspace(s.connectionId, { customAttributes: { 'Employment.gender': 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User:gender' } });

    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ usersSeen: 23, usersCreated: 21, errors: 2 });
    const byName = new Map(run.errors.map((e) => [e.name, e]));
    expect(byName.get('user00100@other.example')).toMatchObject({ kind: 'user', sourceId: secondary.id, code: 'ROLLCALL_DOMAIN_NOT_VERIFIED' });
    expect(byName.get('info@example.com')).toMatchObject({ kind: 'user', sourceId: mailbox.id, code: 'ROLLCALL_COLLECTIVE_ADDRESS' });
    expect(byName.get('info@example.com')!.message).toMatch(/role mailbox/);

    const users = await s.users();
    expect(users.has('user00100@other.example')).toBe(false);
    expect(users.has('info@example.com')).toBe(false);
    const kept = users.get(flagged.primaryEmail)!;
    expect(kept.app.flags).toEqual(expect.arrayContaining([expect.stringMatching(/^unmapped-gender:m/), expect.stringMatching(/^unsupported-language:xx/)]));
    expect(countByType(await s.newEvents())).toEqual({ 'user.created': 21 });

    // The provisioning log answers "why is this user missing?" as for SCIM: the refused
    // write with its body and code, and the run itself; events name their log entry.
    const refusals = (await s.rc.requestLog.list(s.connectionId, { status: 'error' })).requests;
    expect(refusals.map((r) => [r.method, r.path, r.status, r.error?.code]).sort()).toEqual(
      [
        ['POST', `/sources/google-workspace/Users/${mailbox.id}`, 400, 'ROLLCALL_COLLECTIVE_ADDRESS'],
        ['POST', `/sources/google-workspace/Users/${secondary.id}`, 400, 'ROLLCALL_DOMAIN_NOT_VERIFIED'],
      ].sort(),
    );
    expect(refusals.every((r) => r.requestId === run.id && r.userAgent === 'Rollcall google-workspace sync')).toBe(true);
    const refused = await s.rc.requestLog.get(s.connectionId, refusals.find((r) => r.error?.code === 'ROLLCALL_DOMAIN_NOT_VERIFIED')!.id);
    expect(refused!.body).toMatchObject({ userName: 'user00100@other.example', externalId: secondary.id });
    const all = (await s.rc.requestLog.list(s.connectionId, { limit: 200 })).requests;
    expect(all.filter((r) => r.method === 'POST' && r.status === 201)).toHaveLength(21);
    expect(all.find((r) => r.method === 'SYNC')).toMatchObject({ path: `/sources/google-workspace/runs/${run.id}`, status: 200 });
    // A user's history links its creation to the logged write, as for a SCIM POST.
    const history = (await s.rc.browse.history(kept.id))!;
    const creation = all.find((r) => r.id === history[0].requestId)!;
    expect(creation).toMatchObject({ method: 'POST', path: `/sources/google-workspace/Users/${flagged.id}`, status: 201, resourceId: kept.id });

    // Refused users stay refused on the next run (reported again), nothing else changes.
    const again = await s.rc.sources.sync(s.connectionId);
    expect(again.counts).toMatchObject({ usersCreated: 0, usersUpdated: 0, errors: 2 });
    expect(await s.newEvents()).toEqual([]);

    // Once the domain is verified for the connection, the next run creates that user.
    await s.rc.connections.configure(s.connectionId, { domains: ['example.com', 'other.example'] });
    const fixed = await s.rc.sources.sync(s.connectionId);
    expect(fixed.counts).toMatchObject({ usersCreated: 1, errors: 1 });
    // New settings reach every user once (rewritten, as on an IdP's next push); unchanged documents emit nothing.
    expect(fixed.counts.usersUpdated).toBe(21);
    expect(countByType(await s.newEvents())).toEqual({ 'user.created': 1 });
    expect((await s.users()).get('user00100@other.example')!.state).toBe('active');
  });

  it('a pulled connection defaults to its domain as verifiedDomains and Google ids as the mapping key', async () => {
    s = await googleSetup();
    const c = await s.rc.connections.show(s.connectionId);
    expect(c!.kind).toBe('google-workspace');
    expect(c!.settings).toMatchObject({ domains: ['example.com'], mappingKey: 'externalId' });
  });

  it('keeps the first 100 errors of a run (in memory too) and counts them all', async () => {
    s = await googleSetup();
    for (let i = 0; i < 150; i++) {
      const u = googleUser(i, 'other.example');
      s.fake.state.users.set(u.id, u);
    }
    let largest = 0;
    const progress = SourceDirectory.prototype.progress;
    vi.spyOn(SourceDirectory.prototype, 'progress').mockImplementation(function (this: SourceDirectory, runId, counts, errors) {
      largest = Math.max(largest, errors.length);
      return progress.call(this, runId, counts, errors);
    });
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.counts.errors).toBe(150);
    expect(run.errors).toHaveLength(100);
    expect(run.errors[0]).toMatchObject({ code: 'ROLLCALL_DOMAIN_NOT_VERIFIED' });
    // The run itself held no more than it keeps.
    expect(largest).toBe(100);
  });
});
