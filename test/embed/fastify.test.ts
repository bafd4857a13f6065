/**
 * The SCIM API mounted in a host application's own Fastify instance: routes under the
 * host's prefix, locations under the host's public URL, and SCIM parsing, errors and
 * 404s kept inside the plugin's context while the host's own routes behave its way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { rollcallScim, scimBaseUrl } from '../../src/index.js';
import { ENTRA_DEACTIVATE, HOST_URL, type EmbeddedRollcall, entraUser, startRollcall } from './helpers.js';

const PREFIX = '/identity/scim/v2';
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let env: EmbeddedRollcall;
let app: FastifyInstance;
let conn: { id: string; token: string };

/** A host app with its own JSON route, error handler and 404 handler. */
async function hostApp(register: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const host = Fastify({ logger: false });
  host.setErrorHandler((err: FastifyError, _req, reply) => reply.status(err.statusCode ?? 500).send({ hostError: err.message }));
  host.setNotFoundHandler((req, reply) => reply.status(404).send({ hostNotFound: req.url }));
  host.post('/api/projects', async (req) => ({ created: req.body }));
  host.post('/api/notes', async (req) => ({ text: req.body }));
  host.get('/api/fail', async () => {
    throw Object.assign(new Error('teapot'), { statusCode: 418 });
  });
  await register(host);
  await host.ready();
  return host;
}

function scim(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, a = app, c = conn, prefix = PREFIX) {
  return a.inject({
    method: method as 'GET',
    url: `${prefix}/${c.id}${url}`,
    headers: { authorization: `Bearer ${c.token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

beforeAll(async () => {
  env = await startRollcall('http://127.0.0.1:9999'); // the Rollcall default, overridden by the plugin option
  conn = await env.connection();
  app = await hostApp(async (host) => {
    await host.register(rollcallScim, { rollcall: env.rc, prefix: PREFIX, publicUrl: HOST_URL });
  });
});

afterAll(async () => {
  await app?.close();
  await env?.close();
});

describe('SCIM routes under the host prefix', () => {
  it('creates, reads and deactivates a user, with locations under the public URL and prefix', async () => {
    const base = `${HOST_URL}${PREFIX}/${conn.id}`;
    expect(scimBaseUrl(HOST_URL, PREFIX, conn.id)).toBe(base);
    const created = await scim('POST', '/Users', entraUser('ada.lovelace@acme.com'));
    expect(created.statusCode).toBe(201);
    const user = created.json();
    expect(user.meta.location).toBe(`${base}/Users/${user.id}`);
    expect(created.headers.location).toBe(`${base}/Users/${user.id}`);

    const group = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineers', members: [{ value: user.id }] });
    expect(group.statusCode).toBe(201);
    expect(group.json().meta.location).toBe(`${base}/Groups/${group.json().id}`);
    expect(group.json().members[0].$ref).toBe(`${base}/Users/${user.id}`);

    const read = await scim('GET', `/Users/${user.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.headers['content-type']).toMatch(/application\/scim\+json/);
    expect(read.json().groups[0].$ref).toBe(`${base}/Groups/${group.json().id}`);

    const list = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ada.lovelace@acme.com"')}`);
    expect(list.json().totalResults).toBe(1);
    expect(list.json().Resources[0].meta.location).toBe(`${base}/Users/${user.id}`);

    const off = await scim('PATCH', `/Users/${user.id}`, ENTRA_DEACTIVATE);
    expect(off.statusCode).toBe(200);
    expect(off.json().active).toBe(false);
  });

  it('serves discovery with locations under the prefix', async () => {
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.statusCode).toBe(200);
    expect(spc.json().meta.location).toBe(`${HOST_URL}${PREFIX}/${conn.id}/ServiceProviderConfig`);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.json().Resources[0].meta.location.startsWith(`${HOST_URL}${PREFIX}/${conn.id}/Schemas/`)).toBe(true);
  });

  it('accepts application/json bodies as SCIM (Okta sends them)', async () => {
    const res = await scim('POST', '/Users', entraUser('grace.hopper@acme.com'), { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(201);
  });

  it('answers SCIM errors under the prefix', async () => {
    const noToken = await app.inject({ method: 'GET', url: `${PREFIX}/${conn.id}/Users` });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.json().schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    expect(noToken.headers['content-type']).toMatch(/application\/scim\+json/);

    const badJson = await scim('POST', '/Users', '{"userName": ');
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ schemas: [SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error'], scimType: 'invalidSyntax' });

    const text = await scim('POST', '/Users', 'hello', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json().schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);

    const missing = await scim('GET', '/Users/00000000-0000-0000-0000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);

    const duplicate = await scim('POST', '/Users', entraUser('ada.lovelace@acme.com'));
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ schemas: [SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error'], scimType: 'uniqueness' });

    const unknownEndpoint = await scim('GET', '/Nothing/here');
    expect(unknownEndpoint.statusCode).toBe(404);
    expect(unknownEndpoint.json().schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
    const prefixOnly = await app.inject({ method: 'GET', url: PREFIX });
    expect(prefixOnly.statusCode).toBe(404);
    expect(prefixOnly.json().schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
  });

  it("leaves the host's own routes, parsers, error handler and 404s alone", async () => {
    const json = await app.inject({ method: 'POST', url: '/api/projects', payload: { name: 'Apollo' } });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ created: { name: 'Apollo' } });
    // The host keeps Fastify's text/plain parser, which the SCIM context removed for itself.
    const text = await app.inject({ method: 'POST', url: '/api/notes', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.json()).toEqual({ text: 'hello' });
    const badJson = await app.inject({ method: 'POST', url: '/api/projects', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toHaveProperty('hostError');
    const fail = await app.inject({ method: 'GET', url: '/api/fail' });
    expect(fail.statusCode).toBe(418);
    expect(fail.json()).toEqual({ hostError: 'teapot' });
    const notFound = await app.inject({ method: 'GET', url: '/elsewhere' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toEqual({ hostNotFound: '/elsewhere' });
  });
});

describe('mount variants', () => {
  it("includes the host's own enclosing prefixes in locations", async () => {
    const nested = await hostApp(async (host) => {
      await host.register(
        async (api) => {
          await api.register(rollcallScim, { rollcall: env.rc, prefix: '/scim' });
        },
        { prefix: '/tenant-api' },
      );
    });
    try {
      const res = await scim('POST', '/Users', entraUser('alan.turing@acme.com'), {}, nested, conn, '/tenant-api/scim');
      expect(res.statusCode).toBe(201);
      // publicUrl defaults to rollcall.publicUrl
      expect(res.json().meta.location).toBe(`http://127.0.0.1:9999/tenant-api/scim/${conn.id}/Users/${res.json().id}`);
    } finally {
      await nested.close();
    }
  });

  it('mounts twice under two prefixes, each with its own locations', async () => {
    const twice = await hostApp(async (host) => {
      await host.register(rollcallScim, { rollcall: env.rc, prefix: '/a/scim', publicUrl: 'https://a.example' });
      await host.register(rollcallScim, { rollcall: env.rc, prefix: '/b/scim', publicUrl: 'https://b.example' });
    });
    try {
      const a = await scim('GET', '/Users?count=1', undefined, {}, twice, conn, '/a/scim');
      const b = await scim('GET', '/Users?count=1', undefined, {}, twice, conn, '/b/scim');
      expect(a.json().Resources[0].meta.location.startsWith(`https://a.example/a/scim/${conn.id}/Users/`)).toBe(true);
      expect(b.json().Resources[0].meta.location.startsWith(`https://b.example/b/scim/${conn.id}/Users/`)).toBe(true);
    } finally {
      await twice.close();
    }
  });

  it('applies its own body limit to SCIM routes only', async () => {
    const small = await hostApp(async (host) => {
      await host.register(rollcallScim, { rollcall: env.rc, prefix: PREFIX, bodyLimit: 2048 });
    });
    try {
      const big = entraUser('big.body@acme.com', { title: 'x'.repeat(4096) });
      const res = await scim('POST', '/Users', big, {}, small);
      expect(res.statusCode).toBe(413);
      expect(res.json().schemas).toEqual([SCIM_ERROR, 'urn:rollcall:params:scim:api:messages:2.0:Error']);
      const host = await small.inject({ method: 'POST', url: '/api/projects', payload: big });
      expect(host.statusCode).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('refuses to register without a Rollcall instance', async () => {
    const host = Fastify({ logger: false });
    await expect(host.register(rollcallScim, { prefix: '/scim' } as never).ready()).rejects.toThrow(/rollcall/);
    await host.close();
  });
});
