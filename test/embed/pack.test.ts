/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a fresh
 * project, then used there by name — an ESM script mounts Rollcall in Fastify, creates
 * a user over SCIM and hears user.created; `tsc --noEmit` (NodeNext) compiles a .ts
 * file against the shipped declarations and exports map. SQLite only: it proves the
 * packaging, not a backend.
 *
 * Installing the tarball's dependencies from the registry would compile
 * better-sqlite3 from source (~2 min), so the install is
 * `npm install --offline --ignore-scripts` (the npm cache holds every dependency since
 * this repository's `npm ci`), and the already-built native binding is linked in from
 * this repository's node_modules/better-sqlite3/build (same version: it is pinned in
 * the install). When the cache lacks a package's metadata (--offline fails with
 * ENOTCACHED), the install is repeated with --prefer-offline, which asks the registry
 * only for what is missing; the test logs that it did.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../support/databases.js';
import { REPO, ensureBuilt } from './build.js';

const exec = promisify(execFile);
const repoPkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
const versionOf = (dir: string, pkg: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment for child npm runs: the caller's npm cache and registry, none of `npm test`'s other settings. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())) env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('npm', args, { cwd, env: npmEnv(), maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

const CONSUMER_MJS = `
import Fastify from 'fastify';
import { createRollcall, rollcallScim, rollcallDirectory, onEvents, signWebhook, verifyWebhook, EVENT_TYPES } from 'rollcall';
import { rollcallExpress } from 'rollcall/express';

const rc = await createRollcall({ databaseUrl: 'sqlite:' + process.argv[2], publicUrl: 'https://fresh.example', logger: { error() {}, warn() {}, info() {} } });
const seen = [];
const off = onEvents(rc, ['user.created'], (e) => { seen.push(e.type + ' ' + e.data.email); });
const app = Fastify();
app.get('/', async () => ({ host: true }));
await app.register(rollcallScim, { rollcall: rc, prefix: '/sso/scim' });
const c = await rc.connections.create({ name: 'Fresh' });
const res = await app.inject({
  method: 'POST',
  url: '/sso/scim/' + c.id + '/Users',
  headers: { authorization: 'Bearer ' + c.token, 'content-type': 'application/scim+json' },
  payload: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fresh@acme.com', emails: [{ primary: true, value: 'fresh@acme.com' }] }),
});
for (let i = 0; i < 200 && !seen.length; i++) await new Promise((r) => setTimeout(r, 10));
const dir = rollcallDirectory(rc, { prefix: '/sso/scim' });
const listed = await dir.users.list(c.id, { filter: 'userName eq "fresh@acme.com"' });
let deepImport = 'allowed';
try {
  await import('rollcall/dist/rollcall.js');
} catch (e) {
  deepImport = e.code;
}
const body = JSON.stringify({ id: 'evt' });
console.log(JSON.stringify({
  status: res.statusCode,
  location: res.json().meta.location,
  seen,
  listed: listed.items.map((u) => u.userName),
  signed: verifyWebhook(body, signWebhook(body, 'whsec'), 'whsec'),
  eventTypes: EVENT_TYPES.length,
  express: typeof rollcallExpress,
  deepImport,
  host: (await app.inject({ method: 'GET', url: '/' })).json(),
}));
off();
await app.close();
await rc.close();
`;

const CONSUMER_TS = `
import Fastify from 'fastify';
import {
  createRollcall, rollcallScim, rollcallDirectory, onEvents, isEventOf, verifyWebhook, signWebhook, scimBaseUrl, RollcallError, isRollcallError, type ErrorCode,
  type Rollcall, type RollcallEvent, type EventType, type DirectoryUser, type DirectoryGroup, type Page, type UserView,
  type RollcallEventOf, type RollcallScimOptions, type ScimResource,
} from 'rollcall';
import { rollcallExpress, type RollcallMiddleware } from 'rollcall/express';

export async function main(): Promise<void> {
  const rc: Rollcall = await createRollcall({ databaseUrl: 'sqlite:./x.db', publicUrl: 'https://x.example' });
  const app = Fastify();
  const opts: RollcallScimOptions = { rollcall: rc, publicUrl: 'https://x.example' };
  await app.register(rollcallScim, { ...opts, prefix: '/scim/v2' });
  const off: () => void = rc.events.subscribe((e: RollcallEvent) => {
    const t: EventType = e.type;
    if (isEventOf(e, 'user.updated')) console.log(t, e.data.changes[0]?.path, e.sequence);
  }, { types: ['user.created', 'user.updated'] });
  off();
  onEvents(rc, ['user.created', 'group.member_added'], (e: RollcallEventOf<'user.created' | 'group.member_added'>) => {
    if (e.type === 'user.created') {
      const view: UserView = e.data;
      const email: string | null = view.email;
      console.log(email);
    } else {
      console.log(e.data.group.displayName, e.data.user.userName);
    }
  });
  const dir = rollcallDirectory(rc, { prefix: '/scim/v2' });
  const page: Page<DirectoryUser> = await dir.users.list('conn', { filter: 'userName eq "x"', startIndex: 1, count: 10, sortOrder: 'descending' });
  const user: DirectoryUser | undefined = await dir.users.get('conn', page.items[0].id);
  const group: DirectoryGroup | undefined = await dir.groups.get('conn', 'g');
  const scim: ScimResource | undefined = await dir.users.getScim('conn', 'u');
  console.log(user?.groups[0]?.displayName, group?.members[0]?.display, scim?.meta.location, scimBaseUrl('https://x', '/scim', 'c'));
  const ok: boolean = verifyWebhook('{}', signWebhook('{}', 's'), 's', { toleranceSeconds: 60 });
  const mw: RollcallMiddleware = rollcallExpress(rc, { prefix: '/scim/v2' });
  await mw.close();
  const code: ErrorCode = 'ROLLCALL_INTERNAL';
  const err = new RollcallError(code, 'x');
  console.log(ok, err.status, isRollcallError(err) && err.code);
  // @ts-expect-error codes are the catalogue's
  new RollcallError('ROLLCALL_NO_SUCH_CODE', 'x');
  // @ts-expect-error not an event type
  rc.events.subscribe(() => {}, { types: ['user.exploded'] });
  // @ts-expect-error the directory answers host views, not anything
  const wrong: number = (await dir.users.get('c', 'u'))!.userName;
  console.log(wrong);
}
`;

describe.skipIf(onPostgres)('npm pack → install into a fresh project → use', () => {
  let tmp: string;
  let project: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    await ensureBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-pack-'));
    // --ignore-scripts: dist/ is already built (prepare would build again, beside other test files reading it).
    const packed = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], REPO)) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(tmp, packed[0].filename);
    files = packed[0].files.map((f) => f.path);

    project = path.join(tmp, 'fresh-host');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'fresh-host', version: '1.0.0', private: true, type: 'module' }, null, 2));
    // Pinned to the repository's versions: the linked native binding must match its JS, and Fastify the one Rollcall uses.
    const pins = ['better-sqlite3', 'fastify'].map((p) => `${p}@${versionOf(REPO, p)}`);
    const install = ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball, ...pins];
    try {
      await npm([...install, '--offline'], project);
    } catch (e) {
      console.warn(`npm install --offline failed (${String((e as { stderr?: string }).stderr ?? e).split('\n').find((l) => /error code|ERR!/i.test(l))?.trim() ?? String(e).split('\n')[0]}); installing with --prefer-offline instead`);
      await npm([...install, '--prefer-offline'], project);
    }
    const sqliteDir = path.join(project, 'node_modules/better-sqlite3');
    fs.symlinkSync(path.join(REPO, 'node_modules/better-sqlite3/build'), path.join(sqliteDir, 'build'), 'dir');
    // A TypeScript host has @types/node (Fastify's types need it); linked from the repository.
    fs.mkdirSync(path.join(project, 'node_modules/@types'), { recursive: true });
    fs.symlinkSync(path.join(REPO, 'node_modules/@types/node'), path.join(project, 'node_modules/@types/node'), 'dir');
  }, 120_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs dist/ (code and declarations), README and package.json, not sources, tests or examples', () => {
    expect(path.basename(tarball)).toBe(`${repoPkg.name}-${repoPkg.version}.tgz`);
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/embed/fastify.d.ts', 'dist/embed/express.js', 'dist/embed/express.d.ts', 'dist/cli.js']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|examples|bench|scripts|docs)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs and runs: Fastify mount, SCIM create, user.created event, directory, signatures, exports map', async () => {
    expect(fs.realpathSync(path.join(project, 'node_modules/rollcall'))).not.toBe(REPO); // the installed copy, not a link
    fs.writeFileSync(path.join(project, 'consumer.mjs'), CONSUMER_MJS);
    const { stdout } = await exec(process.execPath, ['consumer.mjs', path.join(tmp, 'fresh.db')], { cwd: project });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({
      status: 201,
      seen: ['user.created fresh@acme.com'],
      listed: ['fresh@acme.com'],
      signed: true,
      eventTypes: 14,
      express: 'function',
      deepImport: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      host: { host: true },
    });
    expect(out.location).toMatch(/^https:\/\/fresh\.example\/sso\/scim\/[0-9a-f-]{36}\/Users\/[0-9a-f-]{36}$/);
  });

  it('type-checks a TypeScript host against the shipped declarations (NodeNext)', async () => {
    fs.writeFileSync(path.join(project, 'consumer.ts'), CONSUMER_TS);
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    const tsc = path.join(REPO, 'node_modules/.bin/tsc');
    const result = await exec(tsc, ['-p', 'tsconfig.json'], { cwd: project }).then(
      () => '',
      (e: { stdout?: string; message: string }) => e.stdout || e.message,
    );
    expect(result).toBe('');
  });
});
