/**
 * The server's request log lines carry method, route pattern, status, duration,
 * connection and request id, and nothing personal: no query string, no filter
 * value, no body, no name (the provisioning log is where requests are kept,
 * redacted). Log lines are captured from the pino destination stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { PUBLIC_URL } from '../support/app.js';

let database: TestDatabase;
let rc: Rollcall;
let app: FastifyInstance;
let conn: { id: string; token: string };
const lines: string[] = [];

beforeAll(async () => {
  database = await freshDatabase();
  rc = await createRollcall({ databaseUrl: database.url, publicUrl: PUBLIC_URL });
  app = await buildServer(rc, { logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
  await app.ready();
  conn = await rc.connections.create({ name: 'Logged' });
});
afterAll(async () => {
  await app?.close();
  await rc?.close();
  await database?.drop();
});

const PERSON = { userName: 'wilhelmina.vandenberg@example.test', name: { givenName: 'Wilhelmina', familyName: 'Vandenberg' } };

function logged(since: number): Record<string, unknown>[] {
  return lines.slice(since).map((l) => JSON.parse(l));
}

describe('request log lines', () => {
  it('a POST with a name and a filtered GET: route, status, connection and ids, never the name or filter value', async () => {
    const since = lines.length;
    const auth = { authorization: `Bearer ${conn.token}` };
    const created = await app.inject({ method: 'POST', url: `/scim/v2/${conn.id}/Users`, headers: { ...auth, 'content-type': 'application/scim+json' }, payload: PERSON });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const filter = encodeURIComponent(`userName eq "${PERSON.userName}"`);
    expect((await app.inject({ method: 'GET', url: `/scim/v2/${conn.id}/Users?filter=${filter}`, headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/scim/v2/${conn.id}/Users/${id}?attributes=userName`, headers: auth })).statusCode).toBe(200);
    // A refusal whose detail would quote the value (a taken userName) logs its code only.
    expect((await app.inject({ method: 'POST', url: `/scim/v2/${conn.id}/Users`, headers: { ...auth, 'content-type': 'application/scim+json' }, payload: PERSON })).statusCode).toBe(409);

    const text = lines.slice(since).join('');
    for (const secret of ['wilhelmina', 'Wilhelmina', 'Vandenberg', 'userName eq', 'filter=', 'attributes=', '%22']) expect(text).not.toContain(secret);

    const completed = logged(since).filter((l) => l.msg === 'request completed');
    expect(completed.map((l) => [l.method, l.route, l.status])).toEqual([
      ['POST', '/scim/v2/:connectionId/Users', 201],
      ['GET', '/scim/v2/:connectionId/Users', 200],
      ['GET', '/scim/v2/:connectionId/Users/:id', 200],
      ['POST', '/scim/v2/:connectionId/Users', 409],
    ]);
    for (const l of completed) {
      expect(l.connectionId).toBe(conn.id);
      expect(typeof l.reqId).toBe('string');
      expect(typeof l.durationMs).toBe('number');
      expect(typeof l.provisioningId).toBe('string');
      expect(l).not.toHaveProperty('url');
      expect(l).not.toHaveProperty('req');
    }
    expect(completed[3].code).toBe('ROLLCALL_USERNAME_TAKEN');
    expect(new Set(completed.map((l) => l.reqId)).size).toBe(4);
    // One line per request: no separate "incoming request" line carrying the URL.
    expect(logged(since).filter((l) => l.msg === 'incoming request')).toEqual([]);
  });

  it('an unknown path or a path segment that is no connection id is not logged as it was sent', async () => {
    const since = lines.length;
    expect((await app.inject({ method: 'GET', url: '/scim/v2/wilhelmina/Users?filter=x' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/wilhelmina.vandenberg' })).statusCode).toBe(404);
    const completed = logged(since).filter((l) => l.msg === 'request completed');
    expect(completed.map((l) => [l.route, l.status, l.connectionId])).toEqual([
      ['/scim/v2/:connectionId/Users', 401, undefined],
      ['(no route)', 404, undefined],
    ]);
    expect(lines.slice(since).join('')).not.toMatch(/wilhelmina/i);
  });

  it('the admin API: its route, and the connection id of connection routes', async () => {
    const since = lines.length;
    const { token } = await rc.admin.ensure();
    const res = await app.inject({ method: 'GET', url: `/api/v1/connections/${conn.id}/requests?status=201`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
    const [line] = logged(since).filter((l) => l.msg === 'request completed');
    expect(line).toMatchObject({ method: 'GET', route: '/api/v1/connections/:id/requests', status: 200, connectionId: conn.id });
    // The provisioning log's bodies come back in the answer, never in the log line.
    expect(lines.slice(since).join('')).not.toMatch(/wilhelmina/i);
  });
});
