/**
 * The webhook, events and admin-token commands and `rollcall serve`'s part in
 * events, run as real processes against dist/ (npm test builds first): JSON
 * shapes, the admin key printed once and stored hashed, the server delivering
 * events committed by another process, and two servers on one database
 * delivering each event exactly once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { createRollcall } from '../../src/rollcall.js';
import { verifyWebhook } from '../../src/events/signature.js';
import { emitEvents, newEvent, startReceiver, waitFor, type Receiver } from '../events/helpers.js';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
let database: TestDatabase;
let env: NodeJS.ProcessEnv;

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(args: string[]) {
  const r = run(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

interface Server {
  url: string;
  out: () => string;
  stop(): Promise<void>;
}
const servers: Server[] = [];

async function serve(extraEnv: Record<string, string> = {}, db: TestDatabase = database): Promise<Server> {
  const proc: ChildProcess = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...env, DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const url = await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${out}`);
    return /listening on (http:\/\/\S+)/.exec(out)?.[1];
  }, 'the server to listen');
  // the startup block is written at once; give the line after it a moment
  await waitFor(() => out.includes('create a connection'), 'the startup text');
  const s: Server = {
    url: url!,
    out: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      servers.splice(servers.indexOf(s), 1);
    },
  };
  servers.push(s);
  return s;
}

const receivers: Receiver[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  database = await freshDatabase('rollcall-admin-cli-');
  // The receivers listen on 127.0.0.1 over plain http: opt in as a developer would.
  env = { ...process.env, DATABASE_URL: database.url, PUBLIC_URL: 'https://scim.example.com', LOG_LEVEL: 'warn', ROLLCALL_WEBHOOK_ALLOW_PRIVATE: 'true' };
  delete env.ROLLCALL_ADMIN_TOKEN;
});
afterEach(async () => {
  for (const s of [...servers]) await s.stop();
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await database?.drop();
});

async function adminGet(base: string, token: string, url: string) {
  const res = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

describe('rollcall webhook / events / admin-token', () => {
  let orgId = '';

  it('webhook add --json prints one JSON object with id, url, events and the secret', () => {
    orgId = json(['org', 'create', '--name', 'Hooks Inc', '--plan', 'enterprise', '--json']).id;
    const w = json(['webhook', 'add', orgId, 'https://hooks.example.com/rollcall', '--events', 'user.created,user.deactivated', '--json']);
    expect(w).toMatchObject({ url: 'https://hooks.example.com/rollcall', events: ['user.created', 'user.deactivated'], organizationId: orgId });
    expect(w.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(w.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    const all = json(['webhook', 'add', orgId, 'http://127.0.0.1:9/all', '--json']);
    expect(all.events).toEqual([]);
    const text = run(['webhook', 'add', orgId, 'https://hooks.example.com/second']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Secret: +whsec_/);
  });

  it('webhook list shows endpoints without secrets; remove removes one', () => {
    const list = json(['webhook', 'list', orgId, '--json']);
    expect(list).toHaveLength(3);
    expect(list.every((w: Record<string, unknown>) => !('secret' in w))).toBe(true);
    const r = run(['webhook', 'remove', list[2].id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed');
    expect(json(['webhook', 'list', orgId, '--json'])).toHaveLength(2);
    const again = run(['webhook', 'remove', list[2].id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/no webhook/);
  });

  it('refuses bad input with one line on stderr and a non-zero exit', () => {
    for (const [args, message] of [
      [['webhook', 'add', orgId, 'ftp://example.com/x'], /http or https/],
      [['webhook', 'add', orgId, 'not a url'], /not an absolute URL/],
      [['webhook', 'add', orgId, 'https://x.example', '--events', 'user.created,user.exploded'], /unknown event type user\.exploded/],
      [['webhook', 'add', 'no-such-org', 'https://x.example'], /no organisation/],
      [['webhook', 'list', 'no-such-org'], /no organisation/],
      [['events', '--limit', '0'], /from 1 to 1000/],
      [['events', '--after', 'garbage!'], /not a cursor/],
    ] as const) {
      const r = run([...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    }
  });

  it('webhook add refuses what the egress policy does not allow, naming why', () => {
    for (const [url, message] of [
      ['https://169.254.169.254/latest/meta-data', /not allowed: 169\.254\.169\.254 is a link-local address/],
      ['https://0x7f.1/hook', /not allowed: 127\.0\.0\.1 is a loopback address/],
      ['http://hooks.example.com/rollcall', /not allowed: it is not https/],
    ] as const) {
      const r = run(['webhook', 'add', orgId, url], { ROLLCALL_WEBHOOK_ALLOW_PRIVATE: 'false' });
      expect(r.code, url).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    // Credentials are refused even for local development.
    const creds = run(['webhook', 'add', orgId, 'http://admin:pw@127.0.0.1:9/hook']);
    expect(creds.code).not.toBe(0);
    expect(creds.stderr).toMatch(/credentials/);
  });

  it('events --json pages through the feed with --after and --limit', async () => {
    const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://x.example' });
    try {
      await emitEvents(rc, [newEvent(orgId, { data: { n: 1 } }), newEvent(orgId, { data: { n: 2 } }), newEvent(orgId, { data: { n: 3 } })]);
    } finally {
      await rc.close();
    }
    const first = json(['events', '--limit', '2', '--json']);
    expect(first.events.map((e: any) => e.data.n)).toEqual([1, 2]);
    const rest = json(['events', '--after', first.next, '--json']);
    expect(rest.events.map((e: any) => e.data.n)).toEqual([3]);
    const none = json(['events', '--after', rest.next, '--json']);
    expect(none).toEqual({ events: [], next: rest.next });
    const org = json(['events', '--org', orgId, '--json']);
    expect(org.events.map((e: any) => e.sequence)).toEqual([1, 2, 3]);
    const text = run(['events']);
    expect(text.stdout).toMatch(/user\.created/);
    expect(text.stdout).toMatch(/next: /);
  });
});

describe('rollcall serve: admin key and webhook delivery', () => {
  it('generates an admin key on first start, prints it once, stores only its hash', async () => {
    const db = await freshDatabase('rollcall-admin-key-');
    try {
      const first = await serve({}, db);
      const m = /Admin API key \(shown only this once; only a hash is stored\): (rca_\S+)/.exec(first.out());
      expect(m).not.toBeNull();
      const key = m![1];
      expect((await adminGet(first.url, key, '/api/v1/organizations')).status).toBe(200);
      const wrong = await adminGet(first.url, key + 'x', '/api/v1/organizations');
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('ROLLCALL_ADMIN_KEY_INVALID');
      await first.stop();

      const second = await serve({}, db);
      expect(second.out()).not.toContain(key);
      expect(second.out()).not.toMatch(/rca_/);
      expect(second.out()).toMatch(/key generated on first start/);
      expect((await adminGet(second.url, key, '/api/v1/organizations')).status).toBe(200);
      await second.stop();

      const rc = await createRollcall({ databaseUrl: db.url, publicUrl: 'https://x.example' });
      try {
        const rows = await rc.database.db.selectFrom('admin_tokens').selectAll().execute();
        expect(rows).toHaveLength(1);
        expect(rows[0].hash).toBe(createHash('sha256').update(key).digest('hex'));
      } finally {
        await rc.close();
      }
      if (db.file) {
        const bytes = Buffer.concat([fs.readFileSync(db.file), fs.existsSync(db.file + '-wal') ? fs.readFileSync(db.file + '-wal') : Buffer.alloc(0)]);
        expect(bytes.includes(Buffer.from(key))).toBe(false);
      }

      // rotate: a new key, the old one stops working
      const rotated = run(['admin-token', 'rotate', '--json'], { DATABASE_URL: db.url });
      expect(rotated.code).toBe(0);
      const newKey = JSON.parse(rotated.stdout).token;
      const third = await serve({}, db);
      expect((await adminGet(third.url, key, '/api/v1/organizations')).status).toBe(401);
      expect((await adminGet(third.url, newKey, '/api/v1/organizations')).status).toBe(200);
    } finally {
      for (const s of [...servers]) await s.stop();
      await db.drop();
    }
  });

  it('uses ROLLCALL_ADMIN_TOKEN when set (and generates nothing)', async () => {
    const db = await freshDatabase('rollcall-admin-env-');
    try {
      const ENV_KEY = 'env-admin-key-0123456789abcdef';
      const s = await serve({ ROLLCALL_ADMIN_TOKEN: ENV_KEY }, db);
      expect(s.out()).toContain('key from ROLLCALL_ADMIN_TOKEN');
      expect(s.out()).not.toMatch(/rca_/);
      expect((await adminGet(s.url, ENV_KEY, '/api/v1/organizations')).status).toBe(200);
      expect((await adminGet(s.url, 'env-admin-key-0123456789abcdeX', '/api/v1/organizations')).status).toBe(401);
      await s.stop();
      const short = run(['serve'], { DATABASE_URL: db.url, ROLLCALL_ADMIN_TOKEN: 'short', PORT: '0' });
      expect(short.code).not.toBe(0);
      expect(short.stderr).toMatch(/ROLLCALL_ADMIN_TOKEN must be at least 16 characters/);
    } finally {
      await db.drop();
    }
  });

  it('delivers events committed by another process, retrying with ROLLCALL_WEBHOOK_BACKOFF_MS', async () => {
    const db = await freshDatabase('rollcall-serve-hooks-');
    try {
      const r = await startReceiver(({ index }) => (index < 3 ? 500 : 200));
      receivers.push(r);
      const orgId2 = JSON.parse(run(['org', 'create', '--name', 'Served', '--plan', 'enterprise', '--json'], { DATABASE_URL: db.url }).stdout).id;
      const hook = JSON.parse(run(['webhook', 'add', orgId2, r.url, '--json'], { DATABASE_URL: db.url }).stdout);
      await serve({ ROLLCALL_WEBHOOK_BACKOFF_MS: '20', ROLLCALL_WEBHOOK_POLL_MS: '50' }, db);
      const rc = await createRollcall({ databaseUrl: db.url, publicUrl: 'https://x.example' });
      try {
        await emitEvents(rc, [newEvent(orgId2, { resourceId: 'a' }), newEvent(orgId2, { resourceId: 'a' }), newEvent(orgId2, { resourceId: 'b' })]);
      } finally {
        await rc.close();
      }
      await waitFor(() => new Set(r.delivered()).size === 3, 'three deliveries');
      expect(r.delivered()).toHaveLength(3);
      expect(r.requests.length).toBeGreaterThanOrEqual(6);
      for (const q of r.requests) expect(verifyWebhook(q.body, q.signature, hook.secret)).toBe(true);
      const seqA = r.requests.filter((q) => q.status === 200 && JSON.parse(q.body).sequence <= 2).map((q) => JSON.parse(q.body).sequence);
      expect(seqA).toEqual([1, 2]);
    } finally {
      for (const s of [...servers]) await s.stop();
      await db.drop();
    }
  });

  it('two servers on one database deliver each event exactly once, never the same one at the same time', async () => {
    const db = await freshDatabase('rollcall-two-servers-');
    try {
      const inFlight = new Set<string>();
      const overlaps: string[] = [];
      const r = await startReceiver(async ({ eventId, seen }) => {
        if (inFlight.has(eventId)) overlaps.push(eventId);
        inFlight.add(eventId);
        await new Promise((res) => setTimeout(res, 10));
        inFlight.delete(eventId);
        return seen === 0 && eventId.charCodeAt(35) % 2 === 0 ? 503 : 200;
      });
      receivers.push(r);
      const orgId2 = JSON.parse(run(['org', 'create', '--name', 'Two', '--plan', 'enterprise', '--json'], { DATABASE_URL: db.url }).stdout).id;
      run(['webhook', 'add', orgId2, r.url, '--json'], { DATABASE_URL: db.url });
      const fast = { ROLLCALL_WEBHOOK_BACKOFF_MS: '20', ROLLCALL_WEBHOOK_POLL_MS: '30' };
      await Promise.all([serve(fast, db), serve(fast, db)]);
      const rc = await createRollcall({ databaseUrl: db.url, publicUrl: 'https://x.example' });
      try {
        for (let i = 0; i < 10; i++) await emitEvents(rc, Array.from({ length: 10 }, (_, k) => newEvent(orgId2, { resourceId: `u${k}` })));
      } finally {
        await rc.close();
      }
      await waitFor(() => new Set(r.delivered()).size === 100, '100 deliveries', 60_000);
      const check = await createRollcall({ databaseUrl: db.url, publicUrl: 'https://x.example' });
      try {
        await waitFor(async () => {
          const rows = await check.database.db.selectFrom('webhook_deliveries').select('status').execute();
          return rows.length === 100 && rows.every((x) => x.status === 'delivered');
        }, 'every delivery recorded as delivered');
      } finally {
        await check.close();
      }
      expect(overlaps).toEqual([]);
      expect(r.delivered()).toHaveLength(100);
    } finally {
      for (const s of [...servers]) await s.stop();
      await db.drop();
    }
  });
});
