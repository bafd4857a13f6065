/**
 * examples/host-app end to end, as its README runs it: `node examples/host-app/server.js`
 * in a child process on a fresh database (the backend under test), importing Rollcall
 * by its package name. An Entra-shaped POST /Users prints the invitation, a PATCH
 * active=false the revocation. The example also type-checks against the published
 * declarations (checkJs).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { REPO, ensureBuilt } from './build.js';
import { ENTRA_DEACTIVATE, entraUser, waitFor } from './helpers.js';

const SERVER = path.join(REPO, 'examples/host-app/server.js');

let database: TestDatabase;
let child: ChildProcess;
let output = '';
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const lines = () => output.split('\n').map((l) => l.trim());

beforeAll(async () => {
  await ensureBuilt();
  database = await freshDatabase('host-app');
  port = await freePort();
  // Started from another directory: `rollcall` resolves from the example's location (package self-reference).
  child = spawn(process.execPath, [SERVER], {
    cwd: database.dir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database.url, PUBLIC_URL: 'https://saas.example.com' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  await waitFor(() => /listening on/.test(output) || child.exitCode !== null, 'the example to start', 30_000);
  if (child.exitCode !== null) throw new Error(`the example exited (${child.exitCode}):\n${output}`);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await database?.drop();
});

describe('examples/host-app', () => {
  it('prints the demo connection and serves SCIM under its prefix', async () => {
    expect(output).toMatch(/SCIM connection created: /);
    const url = /SCIM base URL: (\S+)/.exec(output)?.[1];
    const token = /Bearer token:\s+(\S+)/.exec(output)?.[1];
    expect(url).toMatch(/^https:\/\/saas\.example\.com\/identity\/scim\/v2\/[0-9a-f-]{36}$/);
    expect(token).toMatch(/^rcl_/);
    const connectionId = url!.split('/').pop()!;
    const local = `http://127.0.0.1:${port}/identity/scim/v2/${connectionId}`;
    const scim = (method: string, p: string, body?: unknown) =>
      fetch(local + p, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    // Entra ID's "Test Connection": a random userName, expecting an empty list.
    const probe = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "8f1c0e5a-test@acme.com"')}`);
    expect(probe.status).toBe(200);
    expect((await probe.json()).totalResults).toBe(0);

    const created = await scim('POST', '/Users', entraUser('ada.lovelace@acme.com'));
    expect(created.status).toBe(201);
    const user = await created.json();
    expect(user.meta.location).toBe(`${url}/Users/${user.id}`);
    await waitFor(() => lines().includes('invite sent to ada.lovelace@acme.com'), 'the invitation line');

    // The host's own route reads the directory.
    const team = await (await fetch(`http://127.0.0.1:${port}/team/${connectionId}`)).json();
    expect(team.members.map((m: { userName: string }) => m.userName)).toEqual(['ada.lovelace@acme.com']);

    const deactivated = await scim('PATCH', `/Users/${user.id}`, ENTRA_DEACTIVATE);
    expect(deactivated.status).toBe(200);
    await waitFor(() => lines().includes('access revoked for ada.lovelace@acme.com'), 'the revocation line');
    const after = await (await fetch(`http://127.0.0.1:${port}/team/${connectionId}`)).json();
    expect(after.total).toBe(0);

    const deleted = await scim('DELETE', `/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    await waitFor(() => lines().includes('access revoked for ada.lovelace@acme.com (account deleted)'), 'the deletion line');

    // Each line once, in order.
    const events = lines().filter((l) => /^(invite sent|access )/.test(l));
    expect(events).toEqual(['invite sent to ada.lovelace@acme.com', 'access revoked for ada.lovelace@acme.com', 'access revoked for ada.lovelace@acme.com (account deleted)']);
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });

  it('type-checks against the package declarations (checkJs, NodeNext)', async () => {
    const tsc = path.join(REPO, 'node_modules/.bin/tsc');
    const args = ['--ignoreConfig', '--noEmit', '--allowJs', '--checkJs', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node'];
    const files = ['app.js', 'server.js'].map((f) => path.join(REPO, 'examples/host-app', f));
    const result = await promisify(execFile)(tsc, [...args, ...files], { cwd: REPO }).then(
      () => '',
      (e: { stdout?: string; message: string }) => e.stdout || e.message,
    );
    expect(result).toBe('');
  });
});
