/**
 * The admin API's OpenAPI document lists every admin route (collected as they are
 * registered, the way the server composes them), and every route but signing in
 * answers 401 without an admin key or a session.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { registerOpenApi, OPENAPI_PATH } from '../../src/http/admin-openapi.js';
import { ADMIN_API_PREFIX, adminPlugin } from '../../src/http/admin.js';

let t: TestApp;
let app: FastifyInstance;
const routes: { method: string; url: string; public: boolean }[] = [];

beforeAll(async () => {
  t = await startTestApp();
  app = Fastify();
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith(ADMIN_API_PREFIX)) return;
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url, public: !!r.config?.public });
  });
  await registerOpenApi(app, ADMIN_API_PREFIX);
  await app.register(adminPlugin, { prefix: ADMIN_API_PREFIX, rollcall: t.rc });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await t?.close();
});

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document', () => {
  it('describes every admin route, with a summary, and no SCIM route', async () => {
    expect(routes.length).toBeGreaterThan(30);
    const doc = app.swagger() as { openapi: string; paths: Record<string, Record<string, { summary?: string; parameters?: unknown[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const missing = routes.filter((r) => !doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()]);
    expect(missing).toEqual([]);
    for (const r of routes) expect(doc.paths[openApiPath(r.url)][r.method.toLowerCase()].summary, `${r.method} ${r.url}`).toBeTruthy();
    expect(Object.keys(doc.paths).every((p) => p.startsWith(ADMIN_API_PREFIX))).toBe(true);
    // Query parameters come from the same zod schemas the handlers validate with.
    const users = doc.paths['/api/v1/connections/{id}/users'].get.parameters as { name: string; in: string }[];
    expect(users.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:id', 'query:cursor', 'query:limit', 'query:search', 'query:state']);
  });

  it('is served at /api/openapi.json with a browsable page at /api/docs (no CDN)', async () => {
    const json = await t.app.inject({ method: 'GET', url: OPENAPI_PATH });
    expect(json.statusCode).toBe(200);
    expect(Object.keys(JSON.parse(json.body).paths)).toContain('/api/v1/connections/{id}/requests');
    const page = await t.app.inject({ method: 'GET', url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    const init = await t.app.inject({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(page.body).toContain('swagger');
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
  });
});

describe('authentication on every admin route', () => {
  it('answers 401 without an admin key or session (signing in excepted)', async () => {
    for (const r of routes) {
      const url = r.url.replace(/:(\w+)/g, 'x');
      const res = await t.app.inject({ method: r.method as 'GET', url, headers: { 'content-type': 'application/json', 'x-rollcall-console': '1' }, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}' });
      if (r.public) expect(res.statusCode, `${r.method} ${r.url}`).toBe(400);
      else {
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(JSON.parse(res.body).error.code).toBe('ROLLCALL_ADMIN_KEY_REQUIRED');
      }
    }
  });
});
