/** `rollcall setup-link create|list|revoke` as a real process against dist/ (npm test builds first). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
let database: TestDatabase;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: database.url, PUBLIC_URL: 'https://rollcall.example.com', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (args: string[]) => {
  const r = run([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('rollcall setup-link', () => {
  it('creates a link for an organisation (shown once), lists it without its secret and revokes it', () => {
    const org = json(['org', 'create', '--name', 'Contoso', '--plan', 'enterprise']);
    const link = json(['setup-link', 'create', org.id, '--expires', '24h']);
    expect(link.url).toMatch(/^https:\/\/rollcall\.example\.com\/admin\/setup#rcl_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(24 * 3_600_000);
    const text = run(['setup-link', 'create', org.id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Shown only this once');
    expect(text.stdout).toMatch(/https:\/\/rollcall\.example\.com\/admin\/setup#rcl_/);

    const listed = run(['setup-link', 'list', org.id, '--json']);
    const links = JSON.parse(listed.stdout);
    expect(links).toHaveLength(2);
    expect(listed.stdout).not.toContain(link.url.split('#')[1]);
    expect(links.map((l: any) => l.status)).toEqual(['active', 'active']);

    const revoked = json(['setup-link', 'revoke', org.id, link.id]);
    expect(revoked.status).toBe('revoked');
    expect(json(['setup-link', 'list', org.id]).find((l: any) => l.id === link.id).status).toBe('revoked');
  });

  it('refuses an unknown organisation, a bad duration and an unknown link with one line on stderr', () => {
    const unknown = run(['setup-link', 'create', 'no-such-org']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no organisation with id 'no-such-org'/);
    const org = json(['org', 'create', '--name', 'Fabrikam', '--plan', 'enterprise']);
    const bad = run(['setup-link', 'create', org.id, '--expires', '90d']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/5m to 30d/);
    const none = run(['setup-link', 'revoke', org.id, 'no-such-link']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/no setup link/);
  });
});
