/**
 * The `rollcall` command line, run as a real process against dist/ (npm test
 * builds first): JSON output shapes, token rotation with and without grace, the
 * server and the CLI sharing one database, and one-line configuration errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-cli-'));
const env = { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, 'nested', 'r.db')}`, PUBLIC_URL: 'https://scim.example.com', LOG_LEVEL: 'warn' };

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let server: ReturnType<typeof spawn> | undefined;
let baseUrl = '';

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
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

afterAll(() => {
  server?.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
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
    // Only a hash is stored: the token text is nowhere in the database file.
    const dbFile = path.join(dir, 'nested', 'r.db');
    const bytes = Buffer.concat([fs.readFileSync(dbFile), fs.existsSync(dbFile + '-wal') ? fs.readFileSync(dbFile + '-wal') : Buffer.alloc(0)]);
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
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL .* not understood/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be an absolute http\(s\) URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ])('bad configuration %o exits non-zero with one line', (bad, message) => {
    const r = run(['serve'], bad as Record<string, string>);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
