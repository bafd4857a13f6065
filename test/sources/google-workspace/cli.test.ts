/**
 * `rollcall connection create --source google-workspace …` and `rollcall source
 * sync|runs`, as real processes against dist/ (npm test builds first), reaching
 * the fake Google through ROLLCALL_GOOGLE_API_URL and ROLLCALL_GOOGLE_TOKEN_URL.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { type FakeGoogle, serviceAccountKey, startFakeGoogle } from './fake-google.mjs';
import { ADMIN_EMAIL, DOMAIN, populate } from './helpers.js';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');
let database: TestDatabase;
let fake: FakeGoogle;
let keyFile = '';
let env: NodeJS.ProcessEnv = {};

/** Runs the CLI without blocking this process (the fake Google answers from it). */
function run(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  database = await freshDatabase('rollcall-google-cli-');
  const key = serviceAccountKey();
  fake = await startFakeGoogle({ publicKey: key.publicKey, clientEmail: key.key.client_email, adminEmail: ADMIN_EMAIL });
  populate(fake, 120, 3);
  keyFile = path.join(database.dir, 'service-account.json');
  fs.writeFileSync(keyFile, key.text);
  const { ROLLCALL_SECRET_KEY: _, ...rest } = process.env;
  env = { ...rest, DATABASE_URL: database.url, ROLLCALL_SECRET_KEY: randomBytes(32).toString('base64'), ROLLCALL_GOOGLE_API_URL: fake.rootUrl, ROLLCALL_GOOGLE_TOKEN_URL: fake.tokenUrl, LOG_FORMAT: 'json' };
});
afterAll(async () => {
  await fake?.close();
  await database?.drop();
});

describe('rollcall CLI: Google Workspace', () => {
  it('creates the connection from a key file, syncs it now and lists its runs', async () => {
    const created = await run(['connection', 'create', '--name', 'Acme Google', '--source', 'google-workspace', '--key', keyFile, '--admin-email', ADMIN_EMAIL, '--domain', DOMAIN, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const c = JSON.parse(created.stdout);
    expect(c).toMatchObject({ kind: 'google-workspace', source: { config: { adminEmail: ADMIN_EMAIL, domain: DOMAIN } } });
    expect(created.stdout).not.toContain('PRIVATE KEY');
    const text = await run(['connection', 'create', '--name', 'Acme Google 2', '--source', 'google-workspace', '--key', keyFile, '--admin-email', ADMIN_EMAIL, '--domain', DOMAIN]);
    expect(text.stdout).toContain('Domain-wide delegation');
    expect(text.stdout).toContain('https://www.googleapis.com/auth/admin.directory.group.member.readonly');

    const synced = await run(['source', 'sync', c.id, '--json']);
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({ status: 'succeeded', counts: { usersCreated: 120, groupsCreated: 3 } });
    const again = await run(['source', 'sync', c.id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Sync succeeded/);
    expect(again.stdout).toMatch(/120 unchanged/);
    const runs = await run(['source', 'runs', c.id, '--json']);
    expect(JSON.parse(runs.stdout)).toHaveLength(2);
    const shown = await run(['connection', 'show', c.id]);
    expect(shown.stdout).toMatch(/Pulled from:   google-workspace/);
    expect(shown.stdout).toMatch(/every 40 minutes/);
    expect(shown.stdout).not.toContain('SCIM base URL');
    expect(JSON.parse((await run(['connection', 'show', c.id, '--json'])).stdout).source.lastRun.status).toBe('succeeded');
  });

  it('refuses without ROLLCALL_SECRET_KEY, without --key, and on a SCIM connection; a failed run exits 1', async () => {
    const noKey = await run(['connection', 'create', '--name', 'X', '--source', 'google-workspace', '--key', keyFile, '--admin-email', ADMIN_EMAIL, '--domain', DOMAIN], { ROLLCALL_SECRET_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/ROLLCALL_SECRET_KEY/);
    const missing = await run(['connection', 'create', '--name', 'X', '--source', 'google-workspace', '--domain', DOMAIN]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--key, --admin-email/);
    const scim = JSON.parse((await run(['connection', 'create', '--name', 'SCIM', '--json'])).stdout);
    const notPulled = await run(['source', 'sync', scim.id]);
    expect(notPulled.code).toBe(1);
    expect(notPulled.stderr).toMatch(/not pulled from a directory source/);
    const c = JSON.parse((await run(['connection', 'create', '--name', 'Wrong admin', '--source', 'google-workspace', '--key', keyFile, '--admin-email', 'nobody@example.com', '--domain', DOMAIN, '--json'])).stdout);
    const failed = await run(['source', 'sync', c.id]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/Sync failed/);
    expect(failed.stdout).toMatch(/unauthorized_client/);
  });
});
