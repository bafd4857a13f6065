/**
 * The issue-3 CLI, run as real processes against dist/ (npm test builds first)
 * on a fresh database of the test backend: org create / set-plan, connection
 * create with --org/--settings/--workspace, configure (merge, refusals), show,
 * purge --as-of, and CSV import. An in-process Rollcall on the same database
 * plays the SCIM server, to check what the commands did.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { scimClient, type ScimClient } from '../support/app.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { DAY_MS, ROLLCALL } from './helpers.js';
import { readApp } from '../../src/directory/emitted-events.js';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const PUBLIC = 'https://scim.cli.example';
// The test backend's database (SQLite file or fresh PostgreSQL database), set in beforeAll;
// `dir` holds the settings and CSV files the tests write.
let database: TestDatabase;
let dir = '';
let env: NodeJS.ProcessEnv = {};

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a --json command that must succeed and print exactly one JSON document on one line. */
function runJson(args: string[], extraEnv: Record<string, string> = {}): any {
  const r = run(args, extraEnv);
  expect(r.code, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines, r.stdout).toHaveLength(1);
  return JSON.parse(lines[0]);
}

/** A command that must fail: non-zero exit, one clear line on stderr, nothing on stdout. */
function runFails(args: string[], message: RegExp) {
  const r = run(args);
  expect(r.code, `${args.join(' ')} should fail\nstdout: ${r.stdout}`).not.toBe(0);
  expect(r.stdout.trim()).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(lines[0]).not.toMatch(/unexpected error|at .*\.js:\d+/);
  return lines[0];
}

let fileNo = 0;
function file(content: unknown, ext = 'json'): string {
  const f = path.join(dir, `f${++fileNo}.${ext}`);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

let rc: Rollcall;
let app: FastifyInstance;

/** SCIM over the in-process server for a connection the CLI created. */
function client(c: { id: string; token: string }): ScimClient {
  return scimClient(app, { id: c.id, token: c.token, base: `/scim/v2/${c.id}`, organizationId: null });
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  database = await freshDatabase('rollcall-policies-cli-');
  dir = database.dir;
  env = { ...process.env, DATABASE_URL: database.url, PUBLIC_URL: PUBLIC, LOG_LEVEL: 'warn' };
  delete env.ROLLCALL_SCIM_PLANS;
  rc = await createRollcall({ databaseUrl: database.url, publicUrl: PUBLIC });
  app = await buildServer(rc, { logger: false });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await rc?.close();
  await database?.drop();
});

describe('CLI: organisations, plans and connections', () => {
  let org: any;
  let conn: any;

  it('org create --json prints the organisation with its plan and whether it has SCIM', () => {
    org = runJson(['org', 'create', '--name', 'Acme GmbH', '--plan', 'starter', '--json']);
    expect(org).toMatchObject({ name: 'Acme GmbH', plan: 'starter', scimAllowed: false });
    expect(org.id).toMatch(/^[0-9a-f-]{36}$/);
    const ent = runJson(['org', 'create', '--name', 'Big Corp', '--plan', 'enterprise', '--json']);
    expect(ent).toMatchObject({ plan: 'enterprise', scimAllowed: true });
    // ROLLCALL_SCIM_PLANS decides which plans have SCIM.
    const biz = runJson(['org', 'create', '--name', 'Biz', '--plan', 'business', '--json'], { ROLLCALL_SCIM_PLANS: 'enterprise,business' });
    expect(biz).toMatchObject({ plan: 'business', scimAllowed: true });
  });

  it('connection create --org --workspace --settings --json: settings validated and merged over the defaults', () => {
    const settingsFile = file({ domains: ['acme.de'], genderValues: { m: 'male', w: 'female' }, defaultLanguage: 'de', groupRules: [{ when: { attribute: 'title', in: ['Azubi'] }, addTo: 'Auszubildende' }] });
    conn = runJson(['connection', 'create', '--name', 'Acme Entra', '--org', org.id, '--workspace', 'berlin', '--settings', settingsFile, '--json']);
    expect(conn).toMatchObject({ name: 'Acme Entra', organizationId: org.id, workspace: 'berlin', scimUrl: `${PUBLIC}/scim/v2/${conn.id}` });
    expect(typeof conn.token).toBe('string');
    expect(conn.settings).toEqual({
      domains: ['acme.de'],
      rejectCollectiveAddresses: true,
      collectiveLocalParts: [],
      defaultLanguage: 'de',
      strictLanguage: false,
      defaultRole: 'member',
      roleMapping: [],
      genderValues: { m: 'male', w: 'female' },
      attributeMap: {},
      mappingKey: 'userName',
      lockMappingKey: false,
      exclusiveGroups: false,
      groupRules: [{ when: { attribute: 'title', in: ['Azubi'] }, addTo: 'Auszubildende' }],
      retentionDays: 30,
      purgeDeactivated: true,
    });
  });

  it('the organisation is on starter: SCIM answers 403; org set-plan enterprise opens it', async () => {
    const c = client(conn);
    const res = await c.get('/Users');
    expect(res.status, res.text).toBe(403);
    expect(res.body.detail).toMatch(/plan/i);
    const r = run(['org', 'set-plan', org.id, 'enterprise']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/enterprise/);
    expect((await c.get('/Users')).status).toBe(200);
    expect((await c.get('/ServiceProviderConfig')).status).toBe(200);
    // The connection's settings and workspace are in force.
    const u = await c.post('/Users', { userName: 'azubi@acme.de', title: 'Azubi', [ROLLCALL]: { gender: 'W' } });
    expect(u.status, u.text).toBe(201);
    expect(u.body[ROLLCALL].gender).toBe('female');
    const { row } = await rc.users.get({ connectionId: conn.id, baseUrl: conn.scimUrl }, u.body.id);
    expect(readApp(row.app)).toMatchObject({ workspace: 'berlin', language: 'de' });
    expect((await c.post('/Users', { userName: 'x@other.org' })).status).toBe(400);
    const groups = await c.get('/Groups');
    expect(groups.body.Resources.map((g: any) => g.displayName)).toEqual(['Auszubildende']);
    // And back: a downgrade closes it again.
    expect(run(['org', 'set-plan', org.id, 'starter']).code).toBe(0);
    expect((await c.get('/Users')).status).toBe(403);
    const up = runJson(['org', 'set-plan', org.id, 'enterprise', '--json']);
    expect(up).toMatchObject({ id: org.id, plan: 'enterprise', scimAllowed: true });
    expect((await c.get('/Users')).status).toBe(200);
  });

  it('set-plan of an unknown organisation fails with one clear line', () => {
    runFails(['org', 'set-plan', '00000000-0000-4000-8000-000000000000', 'enterprise'], /no organi[sz]ation/i);
  });

  it('a second connection for the same organisation is refused', () => {
    const before = runJson(['connection', 'list', '--json']).length;
    runFails(['connection', 'create', '--name', 'Acme Okta', '--org', org.id, '--json'], /one per organi[sz]ation|already has/i);
    expect(runJson(['connection', 'list', '--json'])).toHaveLength(before);
  });

  it('connection create refuses invalid settings (nothing created)', () => {
    const before = runJson(['connection', 'list', '--json']).length;
    const o = runJson(['org', 'create', '--name', 'Photo Co', '--plan', 'enterprise', '--json']);
    runFails(['connection', 'create', '--name', 'Photo', '--org', o.id, '--settings', file({ attributeMap: { avatar: 'photos' } })], /attributeMap\.avatar.*photo/i);
    runFails(['connection', 'create', '--name', 'Typo', '--org', o.id, '--settings', file({ retentionDay: 10 })], /retentionDay/);
    expect(runJson(['connection', 'list', '--json'])).toHaveLength(before);
  });

  it('connection configure merges top-level keys over the current settings; show --json prints them', () => {
    const r = runJson(['connection', 'configure', conn.id, '--settings', file({ retentionDays: 7, domains: ['acme.de', 'acme.at'], exclusiveGroups: true }), '--json']);
    expect(r.id).toBe(conn.id);
    expect(r.settings).toMatchObject({
      retentionDays: 7,
      domains: ['acme.de', 'acme.at'],
      exclusiveGroups: true,
      // untouched keys keep their values
      defaultLanguage: 'de',
      genderValues: { m: 'male', w: 'female' },
      groupRules: [{ when: { attribute: 'title', in: ['Azubi'] }, addTo: 'Auszubildende' }],
    });
    const shown = runJson(['connection', 'show', conn.id, '--json']);
    expect(shown).toMatchObject({ id: conn.id, name: 'Acme Entra', workspace: 'berlin', organizationId: org.id });
    expect(shown.settings).toEqual(r.settings);
    expect(shown.organization).toMatchObject({ id: org.id, plan: 'enterprise' });
    expect(shown.token).toBeUndefined();
    // A top-level key replaces, it is not deep-merged.
    const g = runJson(['connection', 'configure', conn.id, '--settings', file({ genderValues: { x: 'diverse' } }), '--json']);
    expect(g.settings.genderValues).toEqual({ x: 'diverse' });
  });

  it.each([
    ['an unknown key', { retention: 7 }, /unknown key.*'retention'/],
    ['a wrong type', { retentionDays: 'thirty' }, /retentionDays/],
    ['a wrong type in a list', { domains: ['acme.de', 42] }, /domains\[1\]/],
    ['a refused mapping', { attributeMap: { born: 'birthDate' } }, /attributeMap\.born.*birth/i],
    ['an invalid default language', { defaultLanguage: 'xx-YY-zz' }, /defaultLanguage/],
    ['a non-object document', ['domains'], /object/i],
  ])('connection configure refuses %s with a clear message, non-zero exit, settings unchanged', (_n, doc, message) => {
    const before = runJson(['connection', 'show', conn.id, '--json']).settings;
    runFails(['connection', 'configure', conn.id, '--settings', file(doc), '--json'], message);
    expect(runJson(['connection', 'show', conn.id, '--json']).settings).toEqual(before);
  });

  it('connection configure with a file that is not JSON or missing fails clearly', () => {
    runFails(['connection', 'configure', conn.id, '--settings', file('{ "domains": [', 'json')], /not valid JSON/i);
    runFails(['connection', 'configure', conn.id, '--settings', path.join(dir, 'missing.json')], /cannot read|ENOENT/i);
    runFails(['connection', 'configure', 'no-such-connection', '--settings', file({ retentionDays: 3 })], /no connection/i);
    runFails(['connection', 'show', 'no-such-connection', '--json'], /no connection/i);
  });
});

describe('CLI: purge --as-of', () => {
  it('reports how many users it purged, treating --as-of as now', async () => {
    const c = runJson(['connection', 'create', '--name', 'Purge target', '--settings', file({ retentionDays: 10, purgeDeactivated: true }), '--json']);
    const sc = client(c);
    const del = await sc.post('/Users', { userName: 'deleted@purge.example', externalId: 'p-1' });
    const deact = await sc.post('/Users', { userName: 'inactive@purge.example', externalId: 'p-2', active: false });
    const live = await sc.post('/Users', { userName: 'live@purge.example', externalId: 'p-3' });
    expect([del.status, deact.status, live.status]).toEqual([201, 201, 201]);
    expect((await sc.delete(`/Users/${del.body.id}`)).status).toBe(204);

    const soon = new Date(Date.now() + 5 * DAY_MS).toISOString();
    const r0 = runJson(['purge', '--as-of', soon, '--json']);
    expect(r0.asOf).toBe(soon);
    expect(r0.connections.find((x: any) => x.id === c.id)).toBeUndefined();

    const later = new Date(Date.now() + 11 * DAY_MS).toISOString();
    const r1 = runJson(['purge', '--as-of', later, '--json']);
    expect(r1.asOf).toBe(later);
    expect(r1.connections.find((x: any) => x.id === c.id)).toMatchObject({ id: c.id, name: 'Purge target', purged: 2 });
    expect(r1.purged).toBeGreaterThanOrEqual(2);
    expect((await sc.get(`/Users/${deact.body.id}`)).status).toBe(404);
    expect((await sc.get(`/Users/${live.body.id}`)).status).toBe(200);
    // After the purge the same key is a new user.
    const again = await sc.post('/Users', { userName: 'deleted@purge.example', externalId: 'p-1' });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(del.body.id);

    // Nothing left to purge; the text output says how many.
    const text = run(['purge', '--as-of', later]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Purged 0 users/);
  });

  it('the server purges on its own (at start and periodically)', async () => {
    const c = runJson(['connection', 'create', '--name', 'Served purge', '--json']);
    const sc = client(c);
    const u = await sc.post('/Users', { userName: 'old@served.example', externalId: 's-1' });
    expect(u.status).toBe(201);
    expect((await sc.delete(`/Users/${u.body.id}`)).status).toBe(204);
    // Age the deletion beyond the 30-day window (the server runs on the real clock).
    const old = new Date(Date.now() - 40 * DAY_MS).toISOString();
    await rc.database.db.updateTable('users').set({ deleted_at: old }).where('id', '=', u.body.id).execute();
    const server = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const gone = async () => !(await rc.database.db.selectFrom('users').select('id').where('id', '=', u.body.id).executeTakeFirst());
      const deadline = Date.now() + 20_000;
      while (!(await gone()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await gone()).toBe(true);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  });

  it('purge without --as-of uses the current time', () => {
    const r = runJson(['purge', '--json']);
    expect(typeof r.purged).toBe('number');
    expect(Math.abs(Date.parse(r.asOf) - Date.now())).toBeLessThan(60_000);
  });

  it('a malformed --as-of fails with one clear line', () => {
    runFails(['purge', '--as-of', 'next tuesday'], /--as-of.*ISO 8601/);
    runFails(['purge', '--as-of', '2026-13-45T00:00:00Z'], /--as-of/);
  });
});

describe('CLI: CSV import', () => {
  const CSV = [
    'first name,last name,e-mail,gender,group,language',
    'Anna,Schmidt,anna.schmidt@kanzlei.example,w,Partner,de_DE',
    'Info,Postfach,info@kanzlei.example,,Partner,de',
    'Ben,Meyer,ben.meyer@kanzlei.example,m,Associates,EN',
    '',
  ].join('\n');

  it('imports users through the same policies and reports the refused row with its line and reason', async () => {
    const org = runJson(['org', 'create', '--name', 'Kanzlei', '--plan', 'starter', '--json']);
    const csv = file(CSV, 'csv');
    const r = runJson(['import', org.id, csv, '--json']);
    expect(r).toMatchObject({ organizationId: org.id, created: 2, updated: 0 });
    expect(r.refused).toHaveLength(1);
    expect(r.refused[0]).toMatchObject({ line: 3, email: 'info@kanzlei.example' });
    expect(r.refused[0].reason).toMatch(/role mailbox|collective/i);

    // What was stored: normalised language, gender as given (no map), groups created with members.
    const ctx = { connectionId: r.connectionId, baseUrl: `${PUBLIC}/scim/v2/${r.connectionId}` };
    const { parseFilter } = await import('../../src/scim/filter/parse.js');
    const anna = await rc.users.list(ctx, { filter: parseFilter('userName eq "anna.schmidt@kanzlei.example"'), startIndex: 1, count: 1 });
    expect(anna.total).toBe(1);
    expect(anna.records[0].doc).toMatchObject({ preferredLanguage: 'de-DE', name: { givenName: 'Anna', familyName: 'Schmidt' }, [ROLLCALL]: { gender: 'w' } });
    expect(readApp(anna.records[0].row.app)).toMatchObject({ language: 'de-DE', primaryLanguage: 'de' });
    const all = await rc.users.list(ctx, { startIndex: 1, count: 100 });
    expect(all.records.map((u) => u.doc.userName).sort()).toEqual(['anna.schmidt@kanzlei.example', 'ben.meyer@kanzlei.example']);
    const groups = await rc.groups.list(ctx, { startIndex: 1, count: 100 });
    const byName = new Map(groups.records.map((g) => [g.row.display_name, g.row.id]));
    expect([...byName.keys()].sort()).toEqual(['Associates', 'Partner']);
    const members = await rc.groups.membersOf([byName.get('Partner')!]);
    expect(members.get(byName.get('Partner')!)?.map((m) => m.value)).toEqual([anna.records[0].row.id]);

    // The text output lists the refused row for a person.
    const again = run(['import', org.id, csv]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 created, 2 updated, 1 refused/);
    expect(again.stdout).toMatch(/line 3 \(info@kanzlei\.example\)/);
  });

  it('refuses the import as a whole for an organisation with a SCIM connection, saying the IdP manages the users', () => {
    const org = runJson(['org', 'create', '--name', 'Managed', '--plan', 'enterprise', '--json']);
    runJson(['connection', 'create', '--name', 'Managed Entra', '--org', org.id, '--json']);
    const line = runFails(['import', org.id, file(CSV, 'csv'), '--json'], /identity provider|IdP/i);
    expect(line).toMatch(/managed/i);
    expect(line).toMatch(/Managed Entra|SCIM/);
  });

  it('reports every refused row with its reason: role mailbox, missing e-mail (nothing stored for them); an unsupported language is kept and flagged', async () => {
    const org = await rc.connections.createOrganization('Reasons', 'starter');
    const r = await rc.importCsv(
      org.id,
      [
        'First Name;Last Name;E-Mail;Gender;Group;Language',
        'Carla;Neu;carla@reasons.example;w;Team A;fr_ca',
        'No;Reply;No-Reply+news@reasons.example;;Team A;de',
        'Dora;Alt;dora@reasons.example;;Team A;klingonisch',
        'Emil;Ohne;;m;Team A;de',
      ].join('\n'),
    );
    expect(r.created).toBe(2);
    expect(r.refused.map((x) => [x.line, x.email])).toEqual([
      [3, 'No-Reply+news@reasons.example'],
      [5, ''],
    ]);
    expect(r.refused[0].reason).toMatch(/role mailbox|collective/i);
    expect(r.refused[1].reason).toMatch(/e-mail/i);
    const ctx = { connectionId: r.connectionId, baseUrl: `${PUBLIC}/scim/v2/${r.connectionId}` };
    const all = await rc.users.list(ctx, { startIndex: 1, count: 100 });
    expect(all.records.map((u) => [u.doc.userName, u.doc.preferredLanguage]).sort()).toEqual([
      ['carla@reasons.example', 'fr-CA'],
      ['dora@reasons.example', 'klingonisch'],
    ]);
    const dora = all.records.find((u) => u.doc.userName === 'dora@reasons.example')!;
    expect(readApp(dora.row.app).flags).toContain('unsupported-language:klingonisch');
  });

  // BUG (reported): the reported line is the record index + 1, so blank lines (skipped by the
  // parser) and quoted multi-line fields before a refused row shift the number it reports.
  it('the reported line is the line of the file, also after a blank line', async () => {
    const org = await rc.connections.createOrganization('Lines', 'starter');
    const r = await rc.importCsv(
      org.id,
      ['first name,last name,e-mail,gender,group,language', 'Anna,Alt,anna@lines.example,,,', '', 'Info,Box,info@lines.example,,,'].join('\n'),
    );
    expect(r.created).toBe(1);
    expect(r.refused).toEqual([expect.objectContaining({ email: 'info@lines.example', line: 4 })]);
  });

  it('an organisation that imported CSV can still get its one SCIM connection; from then on imports are refused', async () => {
    const org = await rc.connections.createOrganization('Switcher', 'enterprise');
    const first = await rc.importCsv(org.id, 'e-mail\nsam@switch.example\n');
    expect(first.created).toBe(1);
    const scim = await rc.connections.create({ name: 'Switcher Okta', organizationId: org.id });
    expect(scim.kind).toBe('scim');
    await expect(rc.importCsv(org.id, 'e-mail\nkim@switch.example\n')).rejects.toThrow(/identity provider/i);
    const ctx = { connectionId: first.connectionId, baseUrl: `${PUBLIC}/scim/v2/${first.connectionId}` };
    expect((await rc.users.list(ctx, { startIndex: 1, count: 10 })).total).toBe(1);
  });

  it('refuses an unreadable file or a CSV without an e-mail column clearly', () => {
    const org = runJson(['org', 'create', '--name', 'Files', '--plan', 'starter', '--json']);
    runFails(['import', org.id, path.join(dir, 'nope.csv')], /cannot read/i);
    runFails(['import', org.id, file('first name,last name\nA,B\n', 'csv')], /e-mail/i);
    runFails(['import', '00000000-0000-4000-8000-000000000000', file(CSV, 'csv')], /no organi[sz]ation/i);
  });
});
