/**
 * Issue 15 acceptance 1: a full sync of 2,500 users over several pages and 30
 * groups (members paged too) leaves users and groups as SCIM provisioning would,
 * through Google's real client libraries against the local fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GoogleSetup, countByType, googleSetup, populate } from './helpers.js';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ROLLCALL = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';

describe('Google Workspace: full sync', () => {
  let s: GoogleSetup;
  beforeAll(async () => {
    s = await googleSetup({
      settings: { attributeMap: { gender: `${ROLLCALL}:gender`, costCenter: `${ENTERPRISE}:costCenter` }, genderValues: { f: 'female', m: 'male' } },
      // 500 users a page (Google's most) and members 100 a page: several pages of each.
      sources: { googleWorkspace: { pageSize: 500 } },
    });
    populate(s.fake, 2500, 30, 10);
    await s.rc.sources.configureGoogleWorkspace(s.connectionId, { customAttributes: { 'Employment.gender': `${ROLLCALL}:gender` } });
  }, 60_000);
  afterAll(() => s?.close());

  it('creates every user and group as SCIM would, paging through users and members', async () => {
    const run = await s.rc.sources.sync(s.connectionId);
    expect(run.status, run.message ?? '').toBe('succeeded');
    expect(run.errors).toEqual([]);
    expect(run.counts).toMatchObject({ usersSeen: 2500, usersCreated: 2500, usersUpdated: 0, usersDeactivated: 0, groupsSeen: 30, groupsCreated: 30, errors: 0 });
    // users.list: 5 pages for the live users and 1 for the deleted ones.
    expect(s.fake.count('/admin/directory/v1/users')).toBe(6);
    expect(s.fake.seen.requests.filter((r) => r.path === '/admin/directory/v1/users').every((r) => r.query.customer === 'my_customer' && r.query.projection === 'full' && r.query.maxResults === '500')).toBe(true);
    expect(s.fake.seen.requests.filter((r) => r.path === '/admin/directory/v1/users' && r.query.pageToken).length).toBe(4);
    expect(s.fake.seen.tokens).toBe(1);
    expect(run.counts.requests).toBe(s.fake.seen.requests.filter((r) => r.path.startsWith('/admin/')).length);

    const users = await s.users();
    expect(users.size).toBe(2500);
    const u = users.get('user00001@example.com')!;
    expect(u.state).toBe('active');
    expect(u.doc).toMatchObject({
      userName: 'user00001@example.com',
      name: { givenName: 'Given00001', familyName: 'Family00001', formatted: 'Given00001 Family00001' },
      displayName: 'Given00001 Family00001',
      active: true,
      title: 'Engineer',
      preferredLanguage: 'en',
      emails: [{ value: 'user00001@example.com', type: 'work', primary: true }],
      phoneNumbers: [{ value: '+31 20 555 00001', type: 'work' }],
      [ENTERPRISE]: { department: 'R&D', costCenter: 'CC-1' },
      [ROLLCALL]: { gender: 'female' },
    });
    // The test-google-a alias is not one of the user's addresses.
    expect(u.doc.emails).toHaveLength(1);
    // What the host app reads: the policies ran (gender map, attribute map, role).
    expect(u.app.profile).toEqual({ gender: 'female', costCenter: 'CC-1' });
    expect(u.app.role).toBe('member');
    const record = await s.rc.users.get(s.ctx, u.id);
    expect(record.row.external_id).toBe(s.fake.state.users.get([...s.fake.state.users.keys()][1])!.id);
    expect(record.doc.schemas ?? [CORE]).toBeDefined();

    const groups = await s.groups();
    expect(groups.size).toBe(30);
    const byEmail = new Map([...users.values()].map((x) => [x.doc.userName, x.id]));
    for (const [id, group] of s.fake.state.groups) {
      const expected = s.fake.state.members.get(id)!.map((m) => byEmail.get(m.email)!).sort();
      expect(groups.get(group.name)!.members).toEqual(expected);
    }
    // 250 members in each of groups 0-9, 250 in 10-19 …: members.list paged (200 a page at most).
    expect(s.fake.seen.requests.some((r) => r.path.endsWith('/members') && r.query.pageToken)).toBe(true);

    const events = countByType(await s.newEvents());
    expect(events['user.created']).toBe(2500);
    expect(events['group.created']).toBe(30);
    expect(events['group.member_added']).toBe(30 * 250);

    const info = await s.rc.sources.show(s.connectionId);
    expect(info!.lastRun!.id).toBe(run.id);
    expect(info!.config).toMatchObject({ adminEmail: 'admin@example.com', domain: 'example.com', clientId: expect.any(String), clientEmail: expect.stringContaining('@') });
    expect(JSON.stringify(info)).not.toContain('PRIVATE KEY');
    expect(s.rc.stats.sourceSyncs).toMatchObject({ runs: 1, failures: 0 });
  });
});
