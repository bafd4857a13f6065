/**
 * `rollcall backup` and `restore` (SQLite): a backup taken under a load of
 * creates holds every user acknowledged before it began and serves them once
 * restored; damaged, foreign and newer files are refused with the current
 * database unchanged; a running server's database is not replaced. PostgreSQL
 * refuses and names its own tools.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/databases.js';
import { CLI, baseEnv, runCli, serve, type Served } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const d = await freshDatabase('rollcall-backup-');
  cleanups.push(() => d.drop());
  return d;
}

async function started(env: NodeJS.ProcessEnv): Promise<Served> {
  const s = await serve(env);
  cleanups.push(() => s.stop());
  return s;
}

/** The CLI without blocking this process (the load keeps running meanwhile). */
function runAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function createConnection(env: NodeJS.ProcessEnv): { id: string; token: string } {
  const r = runCli(['connection', 'create', '--name', 'Backup Corp', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { id: string; token: string };
}

describe.skipIf(onPostgres)('backup and restore (SQLite)', () => {
  it('a backup taken during 2,000+ creates holds every user acknowledged before it began, passes integrity_check, and serves them once restored', async () => {
    const d = await database();
    const env = baseEnv({ DATABASE_URL: d.url, PUBLIC_URL: 'https://scim.example.com' });
    const c = createConnection(env);
    const s = await started(env);
    const acknowledged: string[] = [];
    let next = 0;
    const TOTAL = 2_400;
    const create = async () => {
      while (next < TOTAL) {
        const i = next++;
        const res = await fetch(`${s.url}/scim/v2/${c.id}/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `user${i}@example.com`, displayName: `User ${i}` }),
        });
        expect(res.status).toBe(201);
        acknowledged.push(((await res.json()) as { id: string }).id);
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, create));
    while (acknowledged.length < 800) await new Promise((r) => setTimeout(r, 10));
    const before = [...acknowledged];
    const file = path.join(d.dir, 'backup.db');
    const backup = await runAsync(['backup', file, '--json'], env);
    const during = acknowledged.length;
    await load;
    expect(backup.code, backup.stderr).toBe(0);
    // The load went on while the backup ran.
    expect(acknowledged.length).toBe(TOTAL);
    const report = JSON.parse(backup.stdout) as { file: string; bytes: number; ms: number; rows: { users: number; memberships?: number }; migrations: string[] };
    expect(report.bytes).toBe(fs.statSync(file).size);
    expect(report.rows.users).toBeGreaterThanOrEqual(before.length);
    expect(report.rows.users).toBeLessThanOrEqual(TOTAL);
    // Every counted table is one that exists (it named group_members, which never did).
    expect(report.rows.memberships).toBeTypeOf('number');
    expect(report.ms).toBeGreaterThanOrEqual(0);
    expect(during).toBeLessThan(TOTAL);

    const copy = new Database(file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    const inBackup = new Set((copy.prepare('select id from users').all() as { id: string }[]).map((r) => r.id));
    copy.close();
    expect(before.filter((id) => !inBackup.has(id))).toEqual([]);
    await s.stop();

    // Restored over the live database (server stopped), a server serves them.
    const restored = runCli(['restore', file, '--json'], env);
    expect(restored.code, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout) as { kept: string; rows: { users: number } };
    expect(fs.existsSync(r.kept)).toBe(true);
    expect(r.rows.users).toBe(inBackup.size);
    const s2 = await started(env);
    const list = (await (await fetch(`${s2.url}/scim/v2/${c.id}/Users?count=0`, { headers: { authorization: `Bearer ${c.token}` } })).json()) as { totalResults: number };
    expect(list.totalResults).toBe(inBackup.size);
    for (const id of before.filter((_, i) => i % 40 === 0)) {
      const res = await fetch(`${s2.url}/scim/v2/${c.id}/Users/${id}`, { headers: { authorization: `Bearer ${c.token}` } });
      expect(res.status).toBe(200);
    }
  }, 180_000);

  it('refuses a truncated file, a non-Rollcall SQLite file and a newer-schema file, leaving the current database unchanged', async () => {
    const d = await database();
    const env = baseEnv({ DATABASE_URL: d.url });
    createConnection(env);
    const good = path.join(d.dir, 'good.db');
    expect(runCli(['backup', good], env).code).toBe(0);

    const truncated = path.join(d.dir, 'truncated.db');
    fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, Math.floor(fs.statSync(good).size / 2)));
    const foreign = path.join(d.dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('create table notes (id integer primary key, body text); insert into notes (body) values (\'hello\')');
    f.close();
    const newer = path.join(d.dir, 'newer.db');
    fs.copyFileSync(good, newer);
    const n = new Database(newer);
    n.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999_from_the_future', '2030-01-01T00:00:00.000Z');
    n.close();
    const text = path.join(d.dir, 'notes.txt');
    fs.writeFileSync(text, 'not a database\n');

    const current = d.file!;
    const beforeHash = sha(current);
    const beforeFiles = fs.readdirSync(path.dirname(current)).sort();
    for (const [file, why] of [
      [truncated, 'truncated'],
      [foreign, 'not a Rollcall database'],
      [newer, 'newer Rollcall'],
      [text, 'not an SQLite database'],
      [path.join(d.dir, 'missing.db'), 'does not exist'],
    ]) {
      const r = runCli(['restore', file], env);
      expect(r.code, file).toBe(1);
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('the current database is untouched');
      expect(sha(current)).toBe(beforeHash);
    }
    expect(fs.readdirSync(path.dirname(current)).sort()).toEqual(beforeFiles);
    // And the good one is accepted.
    expect(runCli(['restore', good], env).code).toBe(0);
  });

  it('refuses to replace the database of a running server, and never overwrites a backup', async () => {
    const d = await database();
    const env = baseEnv({ DATABASE_URL: d.url });
    const s = await started(env);
    const file = path.join(d.dir, 'b.db');
    expect(runCli(['backup', file], env).code).toBe(0);
    const again = runCli(['backup', file], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('never overwrites');
    const r = runCli(['restore', file], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stop it, then restore');
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });
});

describe.runIf(onPostgres)('backup on PostgreSQL', () => {
  it('refuses and names the tools to use', async () => {
    const d = await database();
    for (const cmd of ['backup', 'restore']) {
      const r = runCli([cmd, path.join(d.dir, 'x.db')], baseEnv({ DATABASE_URL: d.url }));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('pg_dump');
      expect(r.stderr).toContain('pg_restore');
    }
  });
});
