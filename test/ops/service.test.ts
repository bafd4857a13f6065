/**
 * Running Rollcall as a service: the version everywhere it is asked for, the
 * readiness probe and metrics, migrations as a step of their own (and a schema
 * newer than this build refused), the public URL `serve` records for the CLI,
 * and the log format switch without personal data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Kysely, Migrator, sql } from 'kysely';
import { openDatabase } from '../../src/store/db.js';
import { knownMigrations, migrationProvider } from '../../src/store/migrations.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { PACKAGE_VERSION, baseEnv, runCli, serve, type Served } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const d = await freshDatabase('rollcall-ops-');
  cleanups.push(() => d.drop());
  return d;
}

async function started(env: NodeJS.ProcessEnv): Promise<Served> {
  const s = await serve(env);
  cleanups.push(() => s.stop());
  return s;
}

/** A database as an older Rollcall left it: every migration but the newest applied. */
async function olderDatabase(url: string): Promise<string[]> {
  const opened = await openDatabase(url, { migrate: false });
  try {
    const names = knownMigrations(opened.dialect);
    const migrator = new Migrator({ db: opened.db as Kysely<any>, provider: migrationProvider(opened.dialect) });
    const { error } = await migrator.migrateTo(names[names.length - 2]);
    if (error) throw error;
    return names.slice(-1);
  } finally {
    await opened.close();
  }
}

describe('version', () => {
  it('--version prints the package version and the commit when one is known', () => {
    const plain = runCli(['--version'], baseEnv({}));
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(new RegExp(`^rollcall ${PACKAGE_VERSION.replace(/\./g, '\\.')}( \\(commit [0-9a-f]{12}\\))?\\n$`));
    const told = runCli(['--version'], baseEnv({ ROLLCALL_COMMIT: 'abcdef0123456789abcdef0123456789abcdef01' }));
    expect(told.stdout).toBe(`rollcall ${PACKAGE_VERSION} (commit abcdef012345)\n`);
    expect(runCli(['-V'], baseEnv({})).stdout).toBe(plain.stdout);
  });

  it('the start line, /readyz and rollcall_build_info name the version', async () => {
    const d = await database();
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const metricsToken = 'metrics-token-0123456789abcdef';
    const s = await started(baseEnv({ DATABASE_URL: d.url, ROLLCALL_COMMIT: commit, ROLLCALL_METRICS_TOKEN: metricsToken }));
    expect(s.output()).toContain(`Rollcall ${PACKAGE_VERSION} (commit 0123456789ab) SCIM server listening on`);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', version: PACKAGE_VERSION, commit });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    expect(metrics).toContain(`rollcall_build_info{version="${PACKAGE_VERSION}",commit="${commit}",node="${process.versions.node}"} 1`);
    expect(metrics).toMatch(/rollcall_http_requests_total\{method="GET",route="\/readyz",status="200"\} 1/);
  });
});

describe('migrations', () => {
  it('migrate --status lists the pending ones of an older database, ROLLCALL_MIGRATE=off refuses it, migrate applies them', async () => {
    const d = await database();
    const pending = await olderDatabase(d.url);
    const env = baseEnv({ DATABASE_URL: d.url });

    const status = runCli(['migrate', '--status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { applied: { name: string }[]; pending: string[]; unknown: string[] };
    expect(s.pending).toEqual(pending);
    expect(s.applied.length).toBeGreaterThan(0);
    expect(s.unknown).toEqual([]);
    expect(runCli(['migrate', '--status'], env).stdout).toContain(`pending  ${pending[0]}`);

    const off = baseEnv({ DATABASE_URL: d.url, ROLLCALL_MIGRATE: 'off' });
    const refused = await serve(off).then(
      async (x) => {
        await x.stop();
        return undefined;
      },
      (e: { code: number; output: string }) => e,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.output).toContain('ROLLCALL_MIGRATE=off');
    expect(refused?.output).toContain(pending[0]);
    // The refused start changed nothing: still pending.
    expect((JSON.parse(runCli(['migrate', '--status', '--json'], env).stdout) as { pending: string[] }).pending).toEqual(pending);

    const applied = runCli(['migrate', '--json'], env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout)).toEqual({ applied: pending });
    expect(runCli(['migrate'], env).stdout).toContain('Nothing to apply');
    const s2 = await started(off);
    expect((await fetch(`${s2.url}/readyz`)).status).toBe(200);
  });

  it('a database migrated by a newer Rollcall is refused by serve, the CLI and migrate, and left as it is', async () => {
    const d = await database();
    const opened = await openDatabase(d.url);
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(opened.db);
    await opened.close();
    const env = baseEnv({ DATABASE_URL: d.url });
    const e = await serve(env).then(
      async (x) => {
        await x.stop();
        return undefined;
      },
      (err: { code: number; output: string }) => err,
    );
    expect(e?.code).toBe(1);
    expect(e?.output).toContain('newer Rollcall');
    expect(e?.output).toContain('9999_from_the_future');
    for (const args of [['connection', 'list'], ['migrate']]) {
      const r = runCli(args, env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('9999_from_the_future');
    }
    const st = JSON.parse(runCli(['migrate', '--status', '--json'], env).stdout) as { unknown: string[]; pending: string[] };
    expect(st).toMatchObject({ unknown: ['9999_from_the_future'], pending: [] });
  });
});

describe('one public URL', () => {
  it('the CLI prints the SCIM URL under the public URL serve recorded, and its own PUBLIC_URL wins', async () => {
    const d = await database();
    const s = await started(baseEnv({ DATABASE_URL: d.url, PUBLIC_URL: 'https://scim.example.org/' }));
    expect(s.output()).toContain('public URL https://scim.example.org,');
    const made = runCli(['connection', 'create', '--name', 'Acme', '--json'], baseEnv({ DATABASE_URL: d.url }));
    expect(made.code, made.stderr).toBe(0);
    const c = JSON.parse(made.stdout) as { id: string; scimUrl: string };
    expect(c.scimUrl).toBe(`https://scim.example.org/scim/v2/${c.id}`);
    expect(made.stderr).toBe('');
    const own = runCli(['connection', 'list', '--json'], baseEnv({ DATABASE_URL: d.url, PUBLIC_URL: 'https://other.example.net' }));
    expect(own.stdout).toContain(`https://other.example.net/scim/v2/${c.id}`);
  });

  it('a server told no PUBLIC_URL records http://localhost:PORT, and connection create warns that it is a loopback address', async () => {
    const d = await database();
    const s = await started(baseEnv({ DATABASE_URL: d.url }));
    const port = new URL(s.url).port;
    const made = runCli(['connection', 'create', '--name', 'Local', '--json'], baseEnv({ DATABASE_URL: d.url }));
    const c = JSON.parse(made.stdout) as { id: string; scimUrl: string };
    expect(c.scimUrl).toBe(`http://localhost:${port}/scim/v2/${c.id}`);
    expect(made.stderr).toMatch(/^warning: the SCIM URL is on a loopback address/);
  });
});

describe('logs', () => {
  it('LOG_FORMAT=json writes JSON lines; pretty writes lines for people; neither holds the query (personal data)', async () => {
    const d = await database();
    for (const format of ['json', 'pretty'] as const) {
      const s = await started(baseEnv({ DATABASE_URL: d.url, LOG_FORMAT: format, LOG_LEVEL: 'info' }));
      await fetch(`${s.url}/scim/v2/00000000-0000-4000-8000-000000000000/Users?filter=${encodeURIComponent('userName eq "jane.doe@example.com"')}`);
      await fetch(`${s.url}/readyz`);
      await s.stop();
      const logLines = s
        .output()
        .split('\n')
        .filter((l) => l.includes('request completed'));
      // One line per request, when it is answered.
      expect(logLines.length, s.output()).toBeGreaterThanOrEqual(2);
      for (const l of logLines) {
        if (format === 'json') expect(() => JSON.parse(l)).not.toThrow();
        else expect(() => JSON.parse(l)).toThrow();
      }
      // The route pattern and the connection, never the URL with its filter.
      expect(s.output()).toContain('/scim/v2/:connectionId/Users');
      expect(s.output()).not.toContain('jane.doe');
    }
  });

  it('LOG_FORMAT must be json or pretty', () => {
    const r = runCli(['connection', 'list'], baseEnv({ DATABASE_URL: 'sqlite::memory:', LOG_FORMAT: 'xml' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LOG_FORMAT must be json or pretty');
  });
});
