/**
 * sslmode as libpq reads it (store/postgres-tls.ts). Against the test server
 * (plain text) and against a small TLS front for it with a self-signed
 * certificate, made here with openssl: the case hosted databases present.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { postgresTls } from '../../src/store/postgres-tls.js';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/databases.js';

describe('sslmode → node-postgres ssl setting', () => {
  const at = (q: string) => postgresTls(new URL(`postgres://u@db.example:5432/x?pool=3&${q}`), {});

  it.each([
    ['', false, false],
    ['sslmode=disable', false, false],
    ['sslmode=prefer', { rejectUnauthorized: false }, true],
    ['sslmode=allow', { rejectUnauthorized: false }, true],
    ['sslmode=require', { rejectUnauthorized: false }, false],
    ['sslmode=no-verify', { rejectUnauthorized: false }, false],
    ['sslmode=verify-full', { rejectUnauthorized: true }, false],
  ])('%s', (q, ssl, fallback) => {
    const t = at(q);
    expect(t.ssl).toEqual(ssl);
    expect(t.fallbackToPlain).toBe(fallback);
    // The ssl* parameters leave the URL, so node-postgres cannot apply its own reading.
    expect(new URL(t.url).searchParams.has('sslmode')).toBe(false);
    expect(new URL(t.url).searchParams.get('pool')).toBe('3');
  });

  it('verify-ca checks the chain but not the host name; require with a root certificate does the same', () => {
    for (const q of ['sslmode=verify-ca', 'sslmode=require&sslrootcert=system']) {
      const t = at(q);
      expect(t.ssl).toMatchObject({ rejectUnauthorized: true });
      expect((t.ssl as tls.ConnectionOptions).checkServerIdentity!('db.example', {} as never)).toBeUndefined();
    }
  });

  it('takes PGSSLMODE when the URL has no sslmode', () => {
    expect(postgresTls(new URL('postgres://u@h/x'), { PGSSLMODE: 'require' }).ssl).toEqual({ rejectUnauthorized: false });
    expect(postgresTls(new URL('postgres://u@h/x?sslmode=disable'), { PGSSLMODE: 'require' }).ssl).toBe(false);
  });

  it('refuses an unknown sslmode and an unreadable certificate file by name', () => {
    expect(() => at('sslmode=bogus')).toThrow(/sslmode 'bogus' is not one of disable, allow, prefer, require, verify-ca, verify-full/);
    expect(() => at('sslmode=verify-full&sslrootcert=/no/such/ca.pem')).toThrow(/sslrootcert '\/no\/such\/ca.pem' cannot be read: ENOENT/);
  });
});

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A TLS front for a plain PostgreSQL server: answers the client's SSLRequest with
 * 'S', ends TLS with a self-signed certificate, and passes the bytes on.
 */
async function tlsFront(target: { host: string; port: number }, cert: Buffer, key: Buffer) {
  let tlsSessions = 0;
  const server = net.createServer((client) => {
    client.once('data', (first) => {
      const sslRequest = first.length === 8 && first.readInt32BE(4) === 80877103;
      if (!sslRequest) {
        client.destroy();
        return;
      }
      client.write('S');
      const secure = new tls.TLSSocket(client, { isServer: true, cert, key });
      secure.once('secure', () => tlsSessions++);
      const upstream = net.connect(target.port, target.host);
      secure.pipe(upstream).pipe(secure);
      const close = () => {
        secure.destroy();
        upstream.destroy();
      };
      secure.on('error', close);
      upstream.on('error', close);
    });
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions: () => tlsSessions,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe.skipIf(!onPostgres)('sslmode against a server', () => {
  let database: TestDatabase;
  let dir = '';
  let front: Awaited<ReturnType<typeof tlsFront>> | undefined;
  let certFile = '';

  beforeAll(async () => {
    database = await freshDatabase('rollcall-tls-');
    if (!haveOpenssl()) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-tls-'));
    certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=rollcall-test-db'], { stdio: 'ignore' });
    const target = new URL(database.url);
    front = await tlsFront({ host: target.hostname, port: Number(target.port || 5432) }, fs.readFileSync(certFile), fs.readFileSync(keyFile));
  });
  afterAll(async () => {
    await front?.close();
    await database?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const withMode = (url: string, q: string) => `${url}${url.includes('?') ? '&' : '?'}${q}`;
  const viaFront = (q: string) => {
    const u = new URL(database.url);
    u.hostname = '127.0.0.1';
    u.port = String(front!.port);
    return withMode(u.toString(), q);
  };
  const opens = async (url: string) => {
    const db = await openDatabase(url, { migrate: false });
    await db.close();
  };

  it('prefer connects whatever the server offers; require to a server without TLS says so', async () => {
    await opens(withMode(database.url, 'sslmode=prefer'));
    // The test cluster has no TLS (scripts/pg-test-cluster.sh); another server may.
    const refused = await opens(withMode(database.url, 'sslmode=require')).then(
      () => undefined,
      (e: Error) => e,
    );
    if (refused) expect(refused.message).toMatch(/cannot connect to PostgreSQL .*\(sslmode=require\): .*does not support SSL/);
  });

  it('require and prefer accept a self-signed certificate over TLS', async (ctx) => {
    if (!front) return ctx.skip();
    const before = front.sessions();
    await opens(viaFront('sslmode=require'));
    await opens(viaFront('sslmode=prefer'));
    expect(front.sessions()).toBeGreaterThanOrEqual(before + 2);
  });

  it('verify-full refuses the self-signed certificate; verify-ca accepts it given as sslrootcert', async (ctx) => {
    if (!front) return ctx.skip();
    await expect(opens(viaFront('sslmode=verify-full'))).rejects.toThrow(/\(sslmode=verify-full\): .*self[- ]signed/i);
    await opens(viaFront(`sslmode=verify-ca&sslrootcert=${encodeURIComponent(certFile)}`));
    // The certificate names another host: verify-full with the same root still refuses it.
    await expect(opens(viaFront(`sslmode=verify-full&sslrootcert=${encodeURIComponent(certFile)}`))).rejects.toThrow(/sslmode=verify-full/);
  });
});
