/**
 * The console's Google Workspace path in Chromium against `rollcall serve` from
 * dist/: the wizard's Google step (key file upload, admin, domain), the delegation
 * instructions with the client id, the first sync it starts and the connection
 * page's sync panel. The server reaches the fake Google through
 * ROLLCALL_GOOGLE_API_URL / ROLLCALL_GOOGLE_TOKEN_URL. Skipped like
 * console.browser.test.ts without Chromium, and on PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { waitFor } from '../events/helpers.js';
import { type FakeGoogle, serviceAccountKey, startFakeGoogle } from '../sources/google-workspace/fake-google.mjs';
import { ADMIN_EMAIL, DOMAIN, populate } from '../sources/google-workspace/helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const onPostgres = process.env.ROLLCALL_TEST_DATABASE === 'postgres';
const repo = path.resolve(__dirname, '../..');
const ADMIN_KEY = 'console-google-admin-key-0123456789';

let database: TestDatabase;
let fake: FakeGoogle;
let server: ChildProcess | undefined;
let origin = '';
let browser: Browser | undefined;
let page: Page;
let keyFile = '';
let clientId = '';
const pageErrors: string[] = [];

describe.skipIf(onPostgres || (!haveChromium && !process.env.CI))('admin console: Google Workspace', () => {
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    database = await freshDatabase();
    const key = serviceAccountKey();
    clientId = key.key.client_id;
    fake = await startFakeGoogle({ publicKey: key.publicKey, clientEmail: key.key.client_email, adminEmail: ADMIN_EMAIL });
    populate(fake, 40, 2);
    keyFile = path.join(database.dir, 'acme-sync-key.json');
    fs.writeFileSync(keyFile, key.text);
    server = spawn(process.execPath, [path.join(repo, 'dist/cli.js'), 'serve'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ROLLCALL_ADMIN_TOKEN: ADMIN_KEY,
        ROLLCALL_SECRET_KEY: randomBytes(32).toString('base64'),
        ROLLCALL_GOOGLE_API_URL: fake.rootUrl,
        ROLLCALL_GOOGLE_TOKEN_URL: fake.tokenUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    origin = (await waitFor(() => {
      if (server!.exitCode !== null) throw new Error(`server exited: ${out}`);
      return /listening on http:\/\/\S+ \(public URL (http:\/\/[^,\s]+),/.exec(out)?.[1];
    }, 'the server to listen'))!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await fake?.close();
    await database?.drop();
  });

  it('sets up a Google Workspace connection in the wizard, shows the delegation facts and the first sync', async () => {
    await page.goto(`${origin}/admin`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Organisations' }).waitFor();
    await page.getByLabel('Name').fill('Acme');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: 'Acme' }).click();
    await page.getByRole('link', { name: 'Set up SCIM' }).click();

    await page.getByLabel(/Rollcall reads them from Google Workspace/).check();
    await page.getByRole('heading', { name: 'Set up Google Workspace' }).waitFor();
    expect(await page.getByLabel('Connection name').inputValue()).toBe('Google Workspace');
    await page.getByRole('button', { name: 'Next' }).click();
    // Without the key file the step says so.
    await page.getByLabel('Administrator to act as').fill(ADMIN_EMAIL);
    await page.getByLabel('Primary domain').fill(DOMAIN);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('alert').getByText('Choose the service account key file first.').waitFor();
    await page.getByLabel('Service account key (JSON file)').setInputFiles(keyFile);
    await page.getByText('Key file read.').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Empty: the Google Workspace primary domain.').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Create connection' }).click();

    await page.getByRole('heading', { name: 'Created — now allow access in Google' }).waitFor();
    expect(await page.getByTestId('google-client-id').inputValue()).toBe(clientId);
    expect(await page.getByTestId('google-scopes').inputValue()).toContain('admin.directory.group.member.readonly');

    await page.getByRole('link', { name: 'Open the connection' }).click();
    await page.getByRole('heading', { name: 'Google Workspace sync' }).waitFor();
    // The first sync started on creation; the panel follows it until it is done.
    const run = page.getByTestId('source-run').first();
    await run.getByText('Succeeded').waitFor({ timeout: 20_000 });
    await run.getByText('Users: 40 seen, 40 created, 0 updated, 0 deactivated, 0 deleted').waitFor();
    await run.getByText('first sync').waitFor();
    await expect(page.getByText('Issue a new token').count()).resolves.toBe(0);

    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText('started by hand').waitFor({ timeout: 20_000 });
    await page.getByTestId('source-run').first().getByText('Succeeded').waitFor({ timeout: 20_000 });

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: 'user00001@example.com' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
