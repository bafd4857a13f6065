/**
 * Requests Node's HTTP parser refuses before Fastify routes them (a header block
 * over Node's limit, a bad request line) are still answered in the error shape of
 * the API the URL is under, with a catalogue code: SCIM's on SCIM paths (and
 * anywhere the path cannot be read), the admin API's under /api/v1. Raw sockets
 * against a listening server: inject() never reaches Node's parser.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestConnection } from '../support/app.js';
import { ROLLCALL_ERROR_SCHEMA, SCIM_ERROR_SCHEMA } from '../../src/scim/errors.js';

let t: TestApp;
let conn: TestConnection;
let port: number;

beforeAll(async () => {
  t = await startTestApp();
  conn = await t.connection('Pre-route');
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** Writes `chunks` (pausing between them, so they arrive as separate reads) and reads the answers until the server closes. */
function exchange(chunks: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('close', () => resolve(received));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(received) : reject(e)));
    void (async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
  });
}

/** The last response in `raw` (earlier ones are answers to valid requests on the same connection). */
function lastAnswer(raw: string): RawAnswer {
  const at = raw.lastIndexOf('HTTP/1.1 ');
  expect(at, raw.slice(0, 200)).toBeGreaterThanOrEqual(0);
  const [head, body] = [raw.slice(at, raw.indexOf('\r\n\r\n', at)), raw.slice(raw.indexOf('\r\n\r\n', at) + 4)];
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body, 'latin1'));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

function expectScimError(a: RawAnswer, status: number, code: string): void {
  expect(a.status).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(a.body.schemas).toEqual([SCIM_ERROR_SCHEMA, ROLLCALL_ERROR_SCHEMA]);
  expect(a.body.status).toBe(String(status));
  expect(typeof a.body.detail).toBe('string');
  expect(a.body[ROLLCALL_ERROR_SCHEMA]).toEqual({ code });
}

const bigHeader = `X-Padding: ${'a'.repeat(20_000)}\r\n`;

describe('before routing', () => {
  it('a header block over the limit on a SCIM path: 431 in SCIM shape', async () => {
    const raw = await exchange([`GET ${conn.base}/Users?filter=userName%20eq%20%22a%22 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${conn.token}\r\n${bigHeader}\r\n`]);
    const a = lastAnswer(raw);
    expectScimError(a, 431, 'ROLLCALL_HEADERS_TOO_LARGE');
    expect(a.headers.connection).toBe('close');
  });

  it('the same under the admin API: its own shape and code', async () => {
    const a = lastAnswer(await exchange([`GET /api/v1/organizations HTTP/1.1\r\nHost: x\r\n${bigHeader}\r\n`]));
    expect(a.status).toBe(431);
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(a.body).toEqual({ error: { status: 431, code: 'ROLLCALL_HEADERS_TOO_LARGE', message: expect.any(String) } });
  });

  it('bad request lines: 400 ROLLCALL_BAD_REQUEST in SCIM shape', async () => {
    for (const line of [
      `GET ${conn.base}/Us ers HTTP/1.1`, // a space in the target
      `GET ${conn.base}/Users\x01 HTTP/1.1`, // a control character
      `GET ${conn.base}/Users HTTP/9.9`, // no such version
      'HELLO', // no request line at all: no path to go by, SCIM's shape as for every path outside the admin API
    ]) {
      expectScimError(lastAnswer(await exchange([`${line}\r\nHost: x\r\n\r\n`])), 400, 'ROLLCALL_BAD_REQUEST');
    }
    const admin = lastAnswer(await exchange(['GET /api/v1/organ izations HTTP/1.1\r\nHost: x\r\n\r\n']));
    expect(admin.body.error).toMatchObject({ status: 400, code: 'ROLLCALL_BAD_REQUEST' });
  });

  it('after a valid request on a kept-alive connection, and when the header block arrives in several reads', async () => {
    const raw = await exchange([
      `GET ${conn.base}/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${conn.token}\r\n\r\n`,
      `GET ${conn.base}/Users HTTP/1.1\r\nHost: x\r\n`,
      bigHeader + '\r\n',
    ]);
    expect(raw.startsWith('HTTP/1.1 200 ')).toBe(true);
    expectScimError(lastAnswer(raw), 431, 'ROLLCALL_HEADERS_TOO_LARGE');
  });

  it('the server keeps serving after each refusal', async () => {
    const res = await fetch(`http://127.0.0.1:${port}${conn.base}/Users`, { headers: { authorization: `Bearer ${conn.token}` } });
    expect(res.status).toBe(200);
  });
});
