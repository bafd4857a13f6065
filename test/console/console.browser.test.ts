/**
 * The admin console in a real browser (Debian's Chromium through playwright-core)
 * against `rollcall serve` from dist/ (npm test builds the server and the console):
 * sign in; run the wizard; copy the SCIM URL and the token; provision users and a
 * group through the SCIM API with that token as an IdP would; see them in the
 * console and in the provisioning log; open a user's history; run the wizard again
 * through a setup link without the admin key; switch to German and Dutch. Every
 * form control must have a label. Screenshots of the main pages go to a temporary
 * folder, or with ROLLCALL_SCREENSHOTS=docs to docs/screenshots/ (the README's).
 *
 * Needs /usr/bin/chromium (`.ci/run` installs it); without it the test is skipped
 * locally and fails in CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { waitFor } from '../events/helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const onPostgres = process.env.ROLLCALL_TEST_DATABASE === 'postgres';
const repo = path.resolve(__dirname, '../..');
// ROLLCALL_SCREENSHOTS=docs refreshes the README's screenshots; otherwise they go to a temporary folder.
const SCREENSHOTS = process.env.ROLLCALL_SCREENSHOTS === 'docs' ? path.join(repo, 'docs/screenshots') : path.join(os.tmpdir(), 'rollcall-console-screenshots');
const ADMIN_KEY = 'console-test-admin-key-0123456789';

let database: TestDatabase;
let server: ChildProcess | undefined;
let origin = '';
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** Every form control on the page has a name a screen reader announces (a label or aria-label). */
async function expectLabelled(p: Page) {
  const unnamed = await p.locator('input, select, textarea').evaluateAll((els) =>
    els.filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')).map((e) => e.outerHTML),
  );
  expect(unnamed).toEqual([]);
}

async function shot(name: string) {
  await expectLabelled(page);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function scim(token: string, connectionUrl: string, method: string, sub: string, body?: unknown) {
  const res = await fetch(`${connectionUrl}${sub}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'user-agent': 'Okta SCIM Client 1.0.0' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as any) };
}

/** Runs the wizard from its first step, filling what an IT admin would; returns the URL and token it shows. */
async function runWizard(p: Page, name: string): Promise<{ url: string; token: string }> {
  await expectLabelled(p);
  await p.getByLabel('Connection name').fill(name);
  await p.getByLabel('Default role').fill('learner');
  await p.getByRole('button', { name: 'Next' }).click();
  await expectLabelled(p);
  await p.getByLabel('Verified e-mail domains').fill('contoso.example');
  await p.getByLabel('Default language').fill('de-DE');
  await p.getByRole('button', { name: 'Next' }).click();
  await expectLabelled(p);
  await p.getByLabel(/Gender values/).fill('m = male\nw = female');
  await p.getByLabel(/Group rules/).fill('title = Engineer -> Engineering');
  await p.getByRole('button', { name: 'Next' }).click();
  await p.getByLabel(/Days a deleted user/).fill('14');
  await p.getByRole('button', { name: 'Create connection' }).click();
  await p.getByTestId('scim-token').waitFor();
  // Copy both with their buttons, as a person would, and read the clipboard.
  await p.getByRole('button', { name: /Copy: SCIM URL/ }).click();
  const url = await p.evaluate(() => navigator.clipboard.readText());
  await p.getByRole('button', { name: /Copy: Token/ }).click();
  const token = await p.evaluate(() => navigator.clipboard.readText());
  expect(url).toBe(await p.getByTestId('scim-url').inputValue());
  expect(token).toBe(await p.getByTestId('scim-token').inputValue());
  return { url, token };
}

describe.skipIf(onPostgres || (!haveChromium && !process.env.CI))('admin console in Chromium', () => {
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    database = await freshDatabase();
    server = spawn(process.execPath, [path.join(repo, 'dist/cli.js'), 'serve'], {
      env: { PATH: process.env.PATH, DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ROLLCALL_ADMIN_TOKEN: ADMIN_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    const listening = await waitFor(() => {
      if (server!.exitCode !== null) throw new Error(`server exited: ${out}`);
      return /listening on http:\/\/\S+ \(public URL (http:\/\/[^,\s]+),/.exec(out)?.[1];
    }, 'the server to listen');
    // The browser goes where the printed links point (the public URL), as a person would.
    origin = listening!;
    expect(out).toContain('/admin');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
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
    await database?.drop();
  });

  let orgUrl = '';
  let conn = { url: '', token: '' };

  it('signs in with the admin key (a wrong one is explained) and creates an organisation', async () => {
    await page.goto(`${origin}/admin`);
    await page.getByLabel('Admin key').fill('wrong-key-wrong-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('That admin key is not valid').waitFor();
    await shot('sign-in');
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Organisations' }).waitFor();
    await page.getByLabel('Name').fill('Contoso');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: 'Contoso' }).click();
    await page.getByRole('heading', { name: 'Contoso' }).waitFor();
    orgUrl = page.url();
    await shot('organisation');
  });

  it('runs the wizard and shows the SCIM URL and the token once, with copy buttons', async () => {
    await page.getByRole('link', { name: 'Set up SCIM' }).click();
    await page.getByRole('heading', { name: 'Set up SCIM provisioning' }).waitFor();
    await shot('wizard');
    conn = await runWizard(page, 'Entra ID');
    expect(conn.url).toMatch(new RegExp(`^${origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/scim/v2/[0-9a-f-]{36}$`));
    expect(conn.token.length).toBeGreaterThan(20);
    await page.getByRole('heading', { name: 'Microsoft Entra ID' }).waitFor();
    await shot('connected');
  });

  it('shows users and groups an IdP provisions with that token, the log and a user history', async () => {
    const created: string[] = [];
    for (const [n, title] of [
      ['ada', 'Engineer'],
      ['grace', 'Admiral'],
      ['alan', 'Engineer'],
    ]) {
      const r = await scim(conn.token, conn.url, 'POST', '/Users', { userName: `${n}@contoso.example`, displayName: `${n[0].toUpperCase()}${n.slice(1)} Example`, title, emails: [{ value: `${n}@contoso.example`, primary: true }] });
      expect(r.status).toBe(201);
      created.push(r.body.id);
    }
    expect((await scim(conn.token, conn.url, 'POST', '/Groups', { displayName: 'Staff', members: created.map((value) => ({ value })) })).status).toBe(201);
    expect((await scim(conn.token, conn.url, 'PATCH', `/Users/${created[1]}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200);
    // A refusal the log must explain: a domain outside the verified ones.
    expect((await scim(conn.token, conn.url, 'POST', '/Users', { userName: 'mallory@elsewhere.example' })).status).toBe(400);

    await page.getByRole('link', { name: 'Open the connection' }).click();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    await page.getByText('Last error').waitFor();
    await shot('connection');

    await page.getByRole('link', { name: 'Users' }).click();
    for (const n of ['ada', 'grace', 'alan']) await page.getByRole('link', { name: `${n}@contoso.example` }).waitFor();
    await page.getByLabel('State').selectOption('deactivated');
    await page.getByRole('link', { name: 'grace@contoso.example' }).waitFor();
    // grace is listed before and after the filter: wait for the filtered page, not for her.
    await expect.poll(() => page.getByRole('link', { name: 'ada@contoso.example' }).count(), { timeout: 15_000 }).toBe(0);
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Name, e-mail or external id').fill('ALAN');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'alan@contoso.example' }).waitFor();
    await expect.poll(() => page.getByRole('link', { name: 'ada@contoso.example' }).count(), { timeout: 15_000 }).toBe(0);
    await shot('users');

    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByRole('cell', { name: 'Staff' }).waitFor();
    await page.getByRole('cell', { name: '3', exact: true }).waitFor();

    await page.getByRole('link', { name: 'Provisioning log' }).click();
    await page.getByRole('cell', { name: /elsewhere\.example/ }).waitFor();
    await page.getByLabel('Status').selectOption('error');
    await page.getByRole('button', { name: 'Filter' }).click();
    // The table is replaced when the filtered page arrives: wait for it rather than read the old rows.
    await expect.poll(() => page.locator('tbody tr').count(), { timeout: 10_000 }).toBe(1);
    await shot('provisioning-log');
    await page.locator('tbody tr a').first().click();
    await page.getByRole('heading', { name: 'Request body' }).waitFor();
    await page.getByText('mallory@elsewhere.example').first().waitFor();
    await shot('request');

    await page.goto(`${origin}/admin/users/${created[0]}`);
    const history = page.getByTestId('history');
    await history.getByText('Created').waitFor();
    await history.getByText('Joined group').first().waitFor();
    await expect(history.getByText('Engineering').count()).resolves.toBeGreaterThan(0);
    await shot('user');
    // The history links to the request that caused it.
    await history.getByRole('link', { name: 'the request' }).first().click();
    await page.getByRole('heading', { name: /POST \/Users/ }).waitFor();
  });

  it('runs the wizard again through a setup link, without the admin key, for that organisation only', async () => {
    const other = await browser!.newContext({ locale: 'en-GB' });
    await other.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const it = await other.newPage();
    it.on('pageerror', (e) => pageErrors.push(e.message));
    // The admin makes a link for a second organisation.
    await page.goto(`${origin}/admin/organizations`);
    await page.getByLabel('Name').fill('Fabrikam');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: 'Fabrikam' }).click();
    await page.getByRole('button', { name: 'Create setup link' }).click();
    const link = await page.getByTestId('setup-link-url').inputValue();
    expect(link).toMatch(/\/admin\/setup#rcl_/);
    await shot('setup-link');

    await it.goto(link);
    await it.getByRole('heading', { name: 'Fabrikam' }).waitFor();
    // The secret left the address bar.
    expect(it.url()).not.toContain('rcl_');
    await it.getByRole('link', { name: 'Set up SCIM' }).click();
    const second = await runWizard(it, 'Okta');
    expect(second.token).not.toBe(conn.token);
    expect((await scim(second.token, second.url, 'GET', '/Users')).status).toBe(200);
    // Contoso stays out of reach.
    await it.goto(orgUrl);
    await it.getByRole('alert').getByText('does not exist').waitFor();
    await other.close();

    // A revoked link shows a page that says so.
    await page.reload();
    await page.getByRole('button', { name: 'Revoke' }).click();
    const again = await browser!.newPage();
    await again.goto(link);
    await again.getByRole('alert').getByText('This setup link was revoked.', { exact: true }).waitFor();
    await again.close();
  });

  it('switches to German and Dutch, with dates in their formats', async () => {
    await page.goto(`${origin}/admin/organizations`);
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { name: 'Organisationen' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('de');
    // e.g. "06.12.2026, 23:10:00" in German.
    await expect(page.locator('tbody tr td').nth(3).innerText()).resolves.toMatch(/\d{2}\.\d{2}\.\d{4}|\d{1,2}\. \w+\.? \d{4}/);
    await shot('organisations-de');
    await page.getByLabel('Sprache').selectOption('nl');
    await page.getByRole('heading', { name: 'Organisaties' }).waitFor();
    await page.goto(orgUrl);
    await page.getByRole('heading', { name: 'Instellinks' }).waitFor();
    await shot('organisation-nl');
    await page.getByLabel('Taal').selectOption('en');
    expect(pageErrors).toEqual([]);
  });
});
