/**
 * Real Rollcall server processes (`node dist/cli.js serve`) sharing one database:
 * what runs behind a load balancer. The database follows the test backend
 * (SQLite file or a fresh PostgreSQL database). Needs `npm run build`.
 */
import { createRollcall } from '../../src/rollcall.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
// @ts-expect-error plain ESM helper shared with the conformance runner and the benchmark
import { startServer } from '../conformance/server-process.mjs';

export interface ServerProcess {
  baseUrl: string;
  child: import('node:child_process').ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
  output(): string;
  stop(opts?: { keepDir?: boolean }): Promise<unknown>;
}

export interface Cluster {
  database: TestDatabase;
  servers: ServerProcess[];
  token: string;
  connectionId: string;
  /** `${server.baseUrl}/scim/v2/${connectionId}` of server i. */
  scim(i: number): string;
  start(): Promise<ServerProcess>;
  close(): Promise<void>;
}

/**
 * A fresh database with one SCIM connection, and `n` servers started together
 * on it (they race to migrate a fresh database: that is part of the test).
 */
export async function startCluster(n: number, settings?: unknown, env: Record<string, string> = {}): Promise<Cluster> {
  const database = await freshDatabase('rollcall-multi-');
  const start = (): Promise<ServerProcess> =>
    startServer({ name: 'rollcall-multi', dir: database.dir, extraEnv: { ...env, DATABASE_URL: database.url } });
  const servers = await Promise.all(Array.from({ length: n }, start));
  // The connection is created through the library on the same database, after the servers migrated it.
  const rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'http://127.0.0.1' });
  const conn = await rc.connections.create({ name: 'Multi-instance', settings });
  await rc.close();
  const cluster: Cluster = {
    database,
    servers,
    token: conn.token,
    connectionId: conn.id,
    scim: (i) => `${cluster.servers[i].baseUrl}/scim/v2/${conn.id}`,
    async start() {
      const s = await start();
      cluster.servers.push(s);
      return s;
    },
    async close() {
      await Promise.all(cluster.servers.map((s) => s.stop({ keepDir: true })));
      await database.drop();
    },
  };
  return cluster;
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(url: string, token: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
