/**
 * The Express adapter on a real Express app and a real port: SCIM requests under the
 * prefix reach Rollcall (whether or not an earlier body parser read the body), every
 * other request goes on to the host's routes and 404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import express from 'express';
import { rollcallExpress as fromRoot } from '../../src/index.js';
import { rollcallExpress, type RollcallMiddleware } from '../../src/embed/express.js';
import { ENTRA_DEACTIVATE, HOST_URL, type EmbeddedRollcall, entraUser, startRollcall, waitFor } from './helpers.js';

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let env: EmbeddedRollcall;
let conn: { id: string; token: string };
const servers: http.Server[] = [];
const middlewares: RollcallMiddleware[] = [];

async function listen(app: express.Express): Promise<string> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function adapter(prefix: string): RollcallMiddleware {
  const m = rollcallExpress(env.rc, { prefix, publicUrl: HOST_URL });
  middlewares.push(m);
  return m;
}

/** A host app; `bodyFirst` puts express.json() in front of everything, the adapter included. */
function hostApp(prefix: string, bodyFirst: boolean): { app: express.Express; middleware: RollcallMiddleware } {
  const app = express();
  if (bodyFirst) app.use(express.json({ type: ['application/json', 'application/scim+json'] }));
  const middleware = adapter(prefix);
  app.use(middleware);
  app.post('/api/projects', express.json(), (req, res) => {
    res.json({ created: req.body });
  });
  app.get('/api/fail', () => {
    throw new Error('host failure');
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ hostError: err.message });
  });
  return { app, middleware };
}

async function send(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${conn.token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

beforeAll(async () => {
  env = await startRollcall();
  conn = await env.connection();
});

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const m of middlewares) await m.close();
  await env?.close();
});

describe.each([
  ['the adapter reads the body itself', false],
  ['express.json() read the body first', true],
])('Express adapter: %s', (_name, bodyFirst) => {
  const prefix = bodyFirst ? '/identity/scim/v2' : '/scim/v2';
  let base: string;
  let injected: ReturnType<typeof vi.spyOn>;
  beforeAll(async () => {
    const { app, middleware } = hostApp(prefix, bodyFirst);
    // A body already read is replayed through inject; otherwise Fastify routes the live request.
    injected = vi.spyOn(middleware.fastify, 'inject');
    base = await listen(app);
  });

  it('provisions a user through the prefix, with locations under the public URL', async () => {
    const userName = bodyFirst ? 'ada.parsed@acme.com' : 'ada.stream@acme.com';
    const seen: string[] = [];
    const off = env.rc.events.subscribe((e) => void seen.push(`${e.type} ${(e.data as { userName: string }).userName}`), { types: ['user.created', 'user.deactivated'] });
    try {
      const created = await send(base, 'POST', `${prefix}/${conn.id}/Users`, entraUser(userName));
      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toMatch(/application\/scim\+json/);
      expect(created.json.meta.location).toBe(`${HOST_URL}${prefix}/${conn.id}/Users/${created.json.id}`);
      expect(created.headers.get('location')).toBe(created.json.meta.location);
      expect(created.headers.get('etag')).toBeTruthy();

      // Okta's media type too, and Entra's PATCH.
      const off2 = await send(base, 'PATCH', `${prefix}/${conn.id}/Users/${created.json.id}`, ENTRA_DEACTIVATE, { 'content-type': 'application/json' });
      expect(off2.status).toBe(200);
      expect(off2.json.active).toBe(false);

      const list = await send(base, 'GET', `${prefix}/${conn.id}/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      expect(list.status).toBe(200);
      expect(list.json.totalResults).toBe(1);
      // Entra ID has been seen calling /users: case-insensitive like the standalone server.
      const lower = await send(base, 'GET', `${prefix}/${conn.id}/users?count=1`);
      expect(lower.status).toBe(200);
      await waitFor(() => seen.length === 2, 'the events');
      expect(seen).toEqual([`user.created ${userName}`, `user.deactivated ${userName}`]);
      // Only the two requests with a body were read by express.json() first.
      expect(injected).toHaveBeenCalledTimes(bodyFirst ? 2 : 0);
    } finally {
      off();
    }
  });

  it('answers SCIM errors under the prefix', async () => {
    const noToken = await send(base, 'GET', `${prefix}/${conn.id}/Users`, undefined, { authorization: '' });
    expect(noToken.status).toBe(401);
    expect(noToken.json.schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    const unknown = await send(base, 'GET', `${prefix}/${conn.id}/Nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    const missing = await send(base, 'DELETE', `${prefix}/${conn.id}/Users/00000000-0000-0000-0000-000000000000`);
    expect(missing.status).toBe(404);
    expect(missing.json.schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    const empty = await send(base, 'POST', `${prefix}/${conn.id}/Users`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'] });
    expect(empty.status).toBe(400);
    expect(empty.json.schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
  });

  it("passes every other request to the host's routes, error handler and 404", async () => {
    const project = await send(base, 'POST', '/api/projects', { name: 'Apollo' }, { 'content-type': 'application/json' });
    expect(project.status).toBe(200);
    expect(project.json).toEqual({ created: { name: 'Apollo' } });
    const fail = await send(base, 'GET', '/api/fail');
    expect(fail.status).toBe(500);
    expect(fail.json).toEqual({ hostError: 'host failure' });
    const notFound = await send(base, 'GET', '/nowhere');
    expect(notFound.status).toBe(404);
    expect(notFound.text).toMatch(/Cannot GET \/nowhere/); // Express's own 404
    // A path that merely starts with the prefix's letters is not under it.
    const sibling = await send(base, 'GET', `${prefix}-admin`);
    expect(sibling.status).toBe(404);
    expect(sibling.text).toMatch(/Cannot GET/);
  });
});

describe('Express adapter options', () => {
  it('is exported from the package root and from rollcall/express', () => {
    expect(fromRoot).toBe(rollcallExpress);
  });

  it('matches the original URL when mounted under a path', async () => {
    const app = express();
    const m = adapter('/identity/scim');
    app.use('/identity', m);
    const base = await listen(app);
    const res = await send(base, 'GET', `/identity/scim/${conn.id}/Users?count=1`);
    expect(res.status).toBe(200);
    expect(res.json.Resources[0].meta.location.startsWith(`${HOST_URL}/identity/scim/${conn.id}/Users/`)).toBe(true);
    expect(m.scimUrl(conn.id)).toBe(`${HOST_URL}/identity/scim/${conn.id}`);
    expect(m.prefix).toBe('/identity/scim');
  });

  it('refuses the root as prefix and a missing Rollcall instance', () => {
    expect(() => rollcallExpress(env.rc, { prefix: '/' })).toThrow(/prefix/);
    expect(() => rollcallExpress(undefined as never)).toThrow(/Rollcall/);
  });
});
