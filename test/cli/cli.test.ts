/**
 * The `rollcall` command line, run as a real process against dist/ (npm test
 * builds first): JSON output shapes, token rotation with and without grace, the
 * server and the CLI sharing one database, and one-line configuration errors.
 * Runs on the test backend (SQLite file, or a fresh PostgreSQL database).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/databases.js';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
let database: TestDatabase;
/** On SQLite the file sits in a folder that does not exist yet: the server creates it. */
let dbFile = '';
let env: NodeJS.ProcessEnv = {};

/** Everything the database holds, as bytes: the SQLite file and its WAL, or every PostgreSQL row as text. */
async function databaseContents(): Promise<Buffer> {
  if (!onPostgres) {
    return Buffer.concat([fs.readFileSync(dbFile), fs.existsSync(dbFile + '-wal') ? fs.readFileSync(dbFile + '-wal') : Buffer.alloc(0)]);
  }
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  try {
    const tables = await c.query<{ name: string }>(`select quote_ident(table_schema) || '.' || quote_ident(table_name) as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`);
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const r = await c.query<{ row: string }>(`select t::text as row from ${name} t`);
      for (const { row } of r.rows) parts.push(row);
    }
    return Buffer.from(parts.join('\n'));
  } finally {
    await c.end();
  }
}

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let server: ReturnType<typeof spawn> | undefined;
let baseUrl = '';

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  database = await freshDatabase('rollcall-cli-');
  dbFile = path.join(database.dir, 'nested', 'r.db');
  const url = onPostgres ? database.url : `sqlite:${dbFile}`;
  env = { ...process.env, DATABASE_URL: url, PUBLIC_URL: 'https://scim.example.com', LOG_LEVEL: 'warn' };
  // The server runs on the same database while the CLI writes to it.
  server = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + out)), 20_000);
    server!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server!.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
});

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await database?.drop();
});

async function scim(url: string, token: string) {
  const u = new URL(url);
  const res = await fetch(`${baseUrl}${u.pathname}`, { headers: { authorization: `Bearer ${token}` } });
  return res.status;
}

describe('rollcall CLI', () => {
  it('connection create --json prints exactly one JSON object with id, name, scimUrl, token', async () => {
    const r = run(['connection', 'create', '--name', 'Acme Entra', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const c = JSON.parse(lines[0]);
    expect(c.name).toBe('Acme Entra');
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.scimUrl).toBe(`https://scim.example.com/scim/v2/${c.id}`);
    expect(typeof c.token).toBe('string');
    expect(c.token.length).toBeGreaterThan(30);
    // The running server sees the new connection at once, and the token works.
    expect(await scim(`${c.scimUrl}/Users`, c.token)).toBe(200);
    expect(await scim(`${c.scimUrl}/Users`, c.token + 'x')).toBe(401);
    // Only a hash is stored: the token text is nowhere in the database.
    const bytes = await databaseContents();
    expect(bytes.includes(Buffer.from(c.id))).toBe(true); // (the dump does hold the connection)
    expect(bytes.includes(Buffer.from(c.token))).toBe(false);
  });

  it('connection create without --json prints the URL and the token once, for a person', () => {
    const r = run(['connection', 'create', '--name', 'Okta tenant']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SCIM base URL: https:\/\/scim\.example\.com\/scim\/v2\/[0-9a-f-]{36}/);
    expect(r.stdout).toMatch(/Bearer token: +rcl_/);
  });

  it('connection list --json lists every connection', () => {
    const r = run(['connection', 'list', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['Acme Entra', 'Okta tenant']));
    for (const c of list) expect(c.token).toBeUndefined();
  });

  it('connection credentials create|list|revoke: an OAuth client secret, its token, and its end', async () => {
    const c = JSON.parse(run(['connection', 'create', '--name', 'Entra gallery', '--json']).stdout);
    const human = run(['connection', 'credentials', 'create', c.id, '--name', 'Entra 2027']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Token endpoint: +https:\/\/scim\.example\.com\/oauth\/token/);
    expect(human.stdout).toMatch(new RegExp(`Client identifier: +${c.id}`));
    expect(human.stdout).toMatch(/Client secret: +rcs_/);
    const created = JSON.parse(run(['connection', 'credentials', 'create', c.id, '--expires-in-days', '365', '--json']).stdout);
    expect(created).toMatchObject({ clientId: c.id, tokenUrl: 'https://scim.example.com/oauth/token', scimUrl: c.scimUrl });
    expect(run(['connection', 'credentials', 'create', c.id, '--expires-in-days', '30']).code).not.toBe(0);
    const res = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${created.clientId}:${created.clientSecret}`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=scim',
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(await scim(`${c.scimUrl}/Users`, access_token)).toBe(200);
    const list = JSON.parse(run(['connection', 'credentials', 'list', c.id, '--json']).stdout);
    expect(list.secrets.map((x: { name: string; status: string }) => x.status)).toEqual(['active', 'active']);
    expect(JSON.stringify(list)).not.toContain(created.clientSecret);
    expect(run(['connection', 'credentials', 'revoke', c.id, created.secretId]).code).toBe(0);
    expect(await scim(`${c.scimUrl}/Users`, access_token)).toBe(401);
    const again = run(['connection', 'credentials', 'revoke', c.id, created.secretId]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/no active client secret/);
    // Only hashes are stored.
    expect((await databaseContents()).includes(Buffer.from(created.clientSecret))).toBe(false);
  });

  it('token rotate without grace ends the old token immediately', async () => {
    const c = JSON.parse(run(['connection', 'create', '--name', 'Rotate now', '--json']).stdout);
    const r = run(['token', 'rotate', c.id, '--json']);
    expect(r.code).toBe(0);
    const rotated = JSON.parse(r.stdout);
    expect(rotated.id).toBe(c.id);
    expect(rotated.token).not.toBe(c.token);
    expect(await scim(`${c.scimUrl}/Users`, c.token)).toBe(401);
    expect(await scim(`${c.scimUrl}/Users`, rotated.token)).toBe(200);
  });

  it('token rotate --grace keeps the old token valid during the grace period', async () => {
    const c = JSON.parse(run(['connection', 'create', '--name', 'Rotate later', '--json']).stdout);
    const rotated = JSON.parse(run(['token', 'rotate', c.id, '--grace', '3600', '--json']).stdout);
    expect(await scim(`${c.scimUrl}/Users`, c.token)).toBe(200);
    expect(await scim(`${c.scimUrl}/Users`, rotated.token)).toBe(200);
    expect(Date.parse(rotated.previousTokenValidUntil) - Date.now()).toBeGreaterThan(3500_000);
    // Rotating again without grace ends both earlier tokens.
    const again = JSON.parse(run(['token', 'rotate', c.id, '--json']).stdout);
    expect(await scim(`${c.scimUrl}/Users`, c.token)).toBe(401);
    expect(await scim(`${c.scimUrl}/Users`, rotated.token)).toBe(401);
    expect(await scim(`${c.scimUrl}/Users`, again.token)).toBe(200);
  });

  it('token rotate of an unknown connection fails with one clear line', () => {
    const r = run(['token', 'rotate', 'no-such-id']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no connection with id 'no-such-id'/);
  });

  it.each([
    [['connection', 'create', '--name', 'x', '--bogus'], /unknown option '--bogus'/],
    [['events', '--limit', '0'], /--limit/],
    [['webhook', 'add', 'org', 'http://x', '--events', 'bogus'], /unknown event type bogus/],
    [['webhook', 'add', 'org', 'http://x', '--events', ''], /names no event type/],
    [['nosuch'], /unknown command 'nosuch'/],
  ])('bad command-line input %o is one line on stderr and a non-zero exit', (args, message) => {
    const r = run(args as string[]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL .* not understood/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be an absolute http\(s\) URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ ROLLCALL_RATE_LIMIT: 'many' }, /ROLLCALL_RATE_LIMIT must be an integer/],
  ])('bad configuration %o exits non-zero with one line', (bad, message) => {
    const r = run(['serve'], bad as Record<string, string>);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
