/**
 * Test harness: a fresh Rollcall on a fresh SQLite file, a Fastify app built
 * around it, and a connection with its token — one per test file or test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import type { Clock } from '../../src/directory/context.js';
import type { ScimLimits } from '../../src/scim/limits.js';
import { freshDatabase } from './databases.js';

export interface TestConnection {
  id: string;
  token: string;
  base: string;
  organizationId: string | null;
}

export interface TestApp {
  rc: Rollcall;
  app: FastifyInstance;
  dir: string;
  /** The SQLite file; empty on PostgreSQL. */
  dbFile: string;
  /** The DATABASE_URL of this app's database. */
  databaseUrl: string;
  /** A new SCIM connection (and its own organisation unless `organizationId` is given). */
  connection(name?: string, opts?: { settings?: unknown; organizationId?: string; workspace?: string }): Promise<TestConnection>;
  close(): Promise<void>;
}

export const PUBLIC_URL = 'https://scim.test.example';

export async function startTestApp(opts: { clock?: Clock; scimPlans?: string[]; limits?: Partial<ScimLimits> } = {}): Promise<TestApp> {
  const database = await freshDatabase();
  const dir = database.dir;
  const dbFile = database.file ?? '';
  // Webhook receivers in tests listen on 127.0.0.1 over plain http: opt in as a developer would (ROLLCALL_WEBHOOK_ALLOW_PRIVATE=true).
  const rc = await createRollcall({ databaseUrl: database.url, publicUrl: PUBLIC_URL, clock: opts.clock, scimPlans: opts.scimPlans, limits: opts.limits, webhooks: { allowPrivate: true } });
  const app = await buildServer(rc, { logger: false });
  await app.ready();
  return {
    rc,
    app,
    dir,
    dbFile,
    databaseUrl: database.url,
    async connection(name = 'Test connection', opts = {}) {
      const c = await rc.connections.create({ name, ...opts });
      return { id: c.id, token: c.token, base: `/scim/v2/${c.id}`, organizationId: c.organizationId };
    },
    async close() {
      await app.close();
      await rc.close();
      await database.drop();
    },
  };
}

export interface ScimResponse {
  status: number;
  headers: LightMyRequestResponse['headers'];
  body: any;
  text: string;
}

/** A small SCIM client bound to one connection, over Fastify's inject (no port). */
export function scimClient(app: FastifyInstance, conn: TestConnection, defaults: Record<string, string> = {}) {
  async function request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimResponse> {
    const res = await app.inject({
      method: method as any,
      url: conn.base + url,
      headers: {
        authorization: `Bearer ${conn.token}`,
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...defaults,
        ...headers,
      },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text: res.body };
  }
  return {
    request,
    get: (url: string, headers?: Record<string, string>) => request('GET', url, undefined, headers),
    post: (url: string, body: unknown, headers?: Record<string, string>) => request('POST', url, body, headers),
    put: (url: string, body: unknown, headers?: Record<string, string>) => request('PUT', url, body, headers),
    patch: (url: string, body: unknown, headers?: Record<string, string>) => request('PATCH', url, body, headers),
    delete: (url: string, headers?: Record<string, string>) => request('DELETE', url, undefined, headers),
  };
}

export type ScimClient = ReturnType<typeof scimClient>;
