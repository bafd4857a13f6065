/**
 * The webhook egress policy (SSRF): the table of refused addresses and URLs in
 * their normal and odd spellings, refusal when an endpoint is added (library,
 * admin API) with the catalogue code and nothing stored, the connect-time check
 * on the addresses the socket is given (DNS rebinding), redirects not followed,
 * and delivery reasons that are ours, short, and free of the receiver's body.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type dns from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { buildServer } from '../../src/http/server.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { type LookupAll, addressRefusal, checkWebhookTarget, guardedLookup, urlRefusal } from '../../src/events/egress-policy.js';
import { MAX_REASON_LENGTH, networkReason, openEgress, closeEgress, sendWebhook, type Egress } from '../../src/events/delivery-send.js';
import { checkWebhookUrl, Webhooks } from '../../src/events/webhooks.js';
import { DeliveryWorker } from '../../src/events/delivery.js';
import { hasCode, isRollcallError } from '../../src/scim/errors.js';
import { emitEvents, newEvent, waitFor } from './helpers.js';

const quiet = { error: () => {}, warn: () => {}, info: () => {} };

/** A lookup answering every name with `addresses`, counting its calls. */
function fakeLookup(...addresses: string[]): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const fn = ((hostname: string, _o: dns.LookupAllOptions, cb: (err: NodeJS.ErrnoException | null, a: dns.LookupAddress[]) => void) => {
    calls.push(hostname);
    setImmediate(() => cb(null, addresses.map((address) => ({ address, family: net.isIP(address) }))));
  }) as LookupAll & { calls: string[] };
  fn.calls = calls;
  return fn;
}
const failingLookup: LookupAll = (_h, _o, cb) => setImmediate(() => cb(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []));

const STRICT = { allowPrivate: false, lookup: failingLookup };

async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('addresses', () => {
  // [address, what the reason says]
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /private.*10\.0\.0\.0\/8/],
    ['172.16.0.1', /private.*172\.16\.0\.0\/12/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private.*192\.168/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.100.100.200', /carrier-grade NAT/], // Alibaba Cloud metadata
    ['169.254.169.254', /link-local.*metadata/], // AWS, GCP, Azure metadata
    ['169.254.0.1', /link-local/],
    ['0.0.0.0', /this network/],
    ['0.1.2.3', /this network/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['192.0.0.192', /IETF protocol/], // Oracle Cloud metadata
    ['192.0.2.1', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['192.88.99.1', /6to4 relay/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['febf:ffff::1', /link-local/],
    ['fc00::1', /unique local/],
    ['fd00:ec2::254', /unique local/], // AWS metadata over IPv6
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['::ffff:7f00:1', /IPv4-mapped for 127\.0\.0\.1, a loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped for 127\.0\.0\.1/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped for 169\.254\.169\.254, a link-local/],
    ['::ffff:10.0.0.1', /IPv4-mapped for 10\.0\.0\.1, a private/],
    ['64:ff9b::7f00:1', /NAT64 for 127\.0\.0\.1/],
    ['64:ff9b::10.0.0.1', /NAT64 for 10\.0\.0\.1/],
    ['64:ff9b:1::1', /local-use NAT64/],
    ['2002:7f00:1::1', /6to4 for 127\.0\.0\.1/],
    ['2002:c0a8:101::', /6to4 for 192\.168\.1\.1/],
    ['::7f00:1', /IPv4-compatible for 127\.0\.0\.1/],
    ['::8.8.8.8', /deprecated IPv4-compatible/],
    ['::ffff:0:7f00:1', /reserved IPv6/],
    ['2001::1', /Teredo/],
    ['2001:db8::1', /documentation/],
    ['100::1', /reserved IPv6/],
    ['4000::1', /reserved IPv6/],
  ];
  it.each(refused)('%s is refused (%s)', (address, why) => {
    expect(addressRefusal(address)).toMatch(why);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '100.63.255.255', '100.128.0.1', '172.32.0.1', '192.167.255.255', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    '%s is public',
    (address) => {
      expect(addressRefusal(address)).toBeUndefined();
    },
  );
});

describe('webhook URLs', () => {
  // Spelled as an admin might; checked after WHATWG URL normalised the host.
  const refused: [string, RegExp][] = [
    ['https://127.0.0.1/hook', /127\.0\.0\.1 is a loopback/],
    ['https://0x7f.1/hook', /127\.0\.0\.1 is a loopback/],
    ['https://0x7f000001/hook', /127\.0\.0\.1 is a loopback/],
    ['https://2130706433/hook', /127\.0\.0\.1 is a loopback/],
    ['https://017700000001/hook', /127\.0\.0\.1 is a loopback/],
    ['https://0177.0.0.1/hook', /127\.0\.0\.1 is a loopback/],
    ['https://127.1/hook', /127\.0\.0\.1 is a loopback/],
    ['https://0/hook', /0\.0\.0\.0 is "this network"/],
    ['https://2852039166/latest/meta-data', /169\.254\.169\.254 is a link-local/],
    ['https://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a link-local.*metadata/],
    ['https://0xa9.0xfe.0xa9.0xfe/', /169\.254\.169\.254/],
    ['https://[::1]/hook', /::1 is the loopback/],
    ['https://[0:0:0:0:0:0:0:1]/hook', /::1 is the loopback/],
    ['https://[::ffff:127.0.0.1]/hook', /::ffff:7f00:1 is IPv4-mapped for 127\.0\.0\.1/],
    ['https://[::ffff:169.254.169.254]/', /IPv4-mapped for 169\.254\.169\.254/],
    ['https://[fe80::1]/hook', /link-local/],
    ['https://[fd00:ec2::254]/latest/meta-data', /unique local/],
    ['https://[64:ff9b::10.0.0.1]/hook', /NAT64 for 10\.0\.0\.1/],
    ['https://[2002:a00:1::]/hook', /6to4 for 10\.0\.0\.1/],
    ['https://localhost/hook', /localhost is a loopback name/],
    ['https://LOCALHOST./hook', /localhost is a loopback name/],
    ['https://api.localhost/hook', /loopback name/],
    ['https://metadata.google.internal/computeMetadata/v1/', /\.internal.*metadata/],
    ['https://metadata/computeMetadata/v1/', /single-label/],
    ['https://instance-data/latest/', /single-label/],
    ['https://printer.local/hook', /multicast DNS/],
    ['https://router.home.arpa/', /home network/],
    ['http://hooks.example.com/rollcall', /not https/],
    ['https://user:secret@hooks.example.com/rollcall', /credentials/],
    ['https://token@hooks.example.com/rollcall', /credentials/],
  ];
  it.each(refused)('%s is refused (%s)', async (url, why) => {
    const e = await refusal(checkWebhookTarget(checkWebhookUrl(url), STRICT));
    expect(hasCode(e, 'ROLLCALL_WEBHOOK_URL_NOT_ALLOWED')).toBe(true);
    expect(e.message).toMatch(/^'url' is not allowed: /);
    expect(e.message).toMatch(why);
  });

  it('stores the normalised spelling, which is what the policy checked', () => {
    expect(checkWebhookUrl('http://0x7f.1:8080/x')).toBe('http://127.0.0.1:8080/x');
    expect(checkWebhookUrl('http://[::ffff:127.0.0.1]/x')).toBe('http://[::ffff:7f00:1]/x');
    expect(urlRefusal(new URL(checkWebhookUrl('https://2130706433/')), STRICT)).toBe('127.0.0.1 is a loopback address (127.0.0.0/8)');
  });

  it('resolves a name when it is added: refused when any address is private, accepted when all are public or it does not resolve yet', async () => {
    const url = 'https://hooks.example.com/rollcall';
    const internal = fakeLookup('10.0.0.5');
    let e = await refusal(checkWebhookTarget(url, { allowPrivate: false, lookup: internal }));
    expect(e.message).toBe("'url' is not allowed: hooks.example.com resolves to 10.0.0.5, a private address (10.0.0.0/8)");
    expect(internal.calls).toEqual(['hooks.example.com']);
    // A rebinding name often answers one public and one internal address.
    e = await refusal(checkWebhookTarget(url, { allowPrivate: false, lookup: fakeLookup('93.184.216.34', '::1') }));
    expect(e.message).toMatch(/resolves to ::1, the loopback address/);
    await expect(checkWebhookTarget(url, { allowPrivate: false, lookup: fakeLookup('93.184.216.34', '2606:2800:220:1::') })).resolves.toBeUndefined();
    await expect(checkWebhookTarget(url, STRICT)).resolves.toBeUndefined();
    // A lookup that never answers does not hold the admin up.
    const never: LookupAll = () => {};
    const t0 = Date.now();
    await expect(checkWebhookTarget(url, { allowPrivate: false, lookup: never }, 50)).resolves.toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('allowPrivate lets loopback, private addresses and plain http through, never credentials', async () => {
    const dev = { allowPrivate: true, lookup: fakeLookup('127.0.0.1') };
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:3000/hook', 'https://169.254.169.254/', 'http://[::1]/', 'http://hooks.example.com/']) {
      await expect(checkWebhookTarget(checkWebhookUrl(url), dev), url).resolves.toBeUndefined();
    }
    expect(dev.lookup.calls).toEqual([]);
    const e = await refusal(checkWebhookTarget('http://admin:pw@127.0.0.1/', dev));
    expect(hasCode(e, 'ROLLCALL_WEBHOOK_URL_NOT_ALLOWED')).toBe(true);
    expect(e.message).toMatch(/credentials/);
  });
});

describe('adding an endpoint under the default policy', () => {
  let database: TestDatabase;
  let rc: Rollcall;
  let orgId = '';
  const ADMIN = 'admin-token-for-egress-tests-0123456789';

  beforeAll(async () => {
    database = await freshDatabase('rollcall-egress-');
    rc = await createRollcall({ databaseUrl: database.url, publicUrl: 'https://scim.example', adminToken: ADMIN, logger: quiet });
    orgId = (await rc.connections.createOrganization('Egress Corp', 'enterprise')).id;
  });
  afterAll(async () => {
    await rc?.close();
    await database?.drop();
  });

  it('refuses private targets with ROLLCALL_WEBHOOK_URL_NOT_ALLOWED and stores nothing', async () => {
    for (const url of ['https://127.0.0.1/hook', 'https://0x7f.1/hook', 'https://[::ffff:127.0.0.1]/', 'https://169.254.169.254/', 'http://hooks.example.com/', 'https://u:p@hooks.example.com/']) {
      const e = await refusal(rc.webhooks.add(orgId, { url }));
      expect(isRollcallError(e) && e.code, url).toBe('ROLLCALL_WEBHOOK_URL_NOT_ALLOWED');
      expect(isRollcallError(e) && e.status).toBe(400);
    }
    // The URL is judged before the organisation: a bad URL is a 400 even for an unknown one.
    expect(hasCode(await refusal(rc.webhooks.add('no-such-org', { url: 'https://127.0.0.1/' })), 'ROLLCALL_WEBHOOK_URL_NOT_ALLOWED')).toBe(true);
    expect(await rc.database.db.selectFrom('webhooks').select('id').execute()).toEqual([]);
    // A public https endpoint (its name does not resolve here: checked again on every attempt).
    const ok = await rc.webhooks.add(orgId, { url: 'https://hooks.example.com/rollcall' });
    expect(ok.url).toBe('https://hooks.example.com/rollcall');
  });

  it('the admin API answers 400 with the code and the reason', async () => {
    const app = await buildServer(rc, { logger: false });
    try {
      for (const [url, why] of [
        ['https://169.254.169.254/latest/meta-data', /link-local/],
        ['https://[fd00:ec2::254]/', /unique local/],
        ['https://metadata.google.internal/', /metadata/],
        ['http://hooks.example.com/x', /not https/],
        ['https://me:pw@hooks.example.com/x', /credentials/],
      ] as const) {
        const res = await app.inject({ method: 'POST', url: `/api/v1/organizations/${orgId}/webhooks`, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, payload: JSON.stringify({ url }) });
        expect(res.statusCode, url).toBe(400);
        const body = JSON.parse(res.body) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('ROLLCALL_WEBHOOK_URL_NOT_ALLOWED');
        expect(body.error.message).toMatch(why);
      }
    } finally {
      await app.close();
    }
  });

  it('checks a stored endpoint again on every attempt (it may predate the policy)', async () => {
    // Added by a process that allowed private targets, delivered by one that does not.
    const lax = new Webhooks(rc.database.db, () => new Date(), { allowPrivate: true });
    const org2 = (await rc.connections.createOrganization('Lax Corp', 'enterprise')).id;
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const hook = await lax.add(org2, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` });
      await emitEvents(rc, [newEvent(org2)]);
      rc.startDelivery({ backoffMs: 60_000, pollMs: 20 });
      await waitFor(async () => (await rc.webhooks.deliveries(hook.id))[0]?.attempts === 1, 'one attempt');
      const [d] = await rc.webhooks.deliveries(hook.id);
      expect(d.status).toBe('pending');
      expect(d.lastStatusCode).toBeNull();
      expect(d.lastError).toMatch(/^blocked-by-egress-policy: it is not https/);
      expect(hits).toEqual([]);
    } finally {
      await rc.stopDelivery();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('checks at connect time the very addresses the socket connects to (DNS rebinding)', async () => {
    // A plain TCP listener on loopback: any connection that reaches it is an escape.
    let connections = 0;
    const trap = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const port = (trap.address() as AddressInfo).port;
    const org3 = (await rc.connections.createOrganization('Rebind Corp', 'enterprise')).id;
    try {
      // Public when added...
      const adding = new Webhooks(rc.database.db, () => new Date(), { lookup: fakeLookup('93.184.216.34') });
      const hook = await adding.add(org3, { url: `https://rebind.example.com:${port}/hook` });
      // ...loopback when the worker connects.
      const rebound = fakeLookup('127.0.0.1');
      const worker = new DeliveryWorker(rc.database.db, rc.database.dialect, () => quiet, { backoffMs: 60_000, pollMs: 20 }, Date.now, rebound);
      await emitEvents(rc, [newEvent(org3)]);
      worker.start();
      try {
        await waitFor(async () => (await rc.webhooks.deliveries(hook.id))[0]?.attempts === 1, 'one attempt');
      } finally {
        await worker.stop();
      }
      const [d] = await rc.webhooks.deliveries(hook.id);
      expect(d.lastError).toBe('blocked-by-egress-policy: rebind.example.com resolves to 127.0.0.1, a loopback address (127.0.0.0/8)');
      expect(connections).toBe(0);
      // One lookup for the one connection attempt: no second answer to differ from the checked one.
      expect(rebound.calls).toEqual(['rebind.example.com']);
    } finally {
      await new Promise((r) => trap.close(r));
    }
  });
});

describe('the guarded lookup', () => {
  it('answers in the shape asked for with checked addresses, and refuses a mixed answer', async () => {
    const lookup = guardedLookup({ allowPrivate: false, lookup: fakeLookup('93.184.216.34', '2606:2800:220:1::') });
    const one = await new Promise<unknown[]>((resolve) => lookup('example.com', {}, (...args: unknown[]) => resolve(args)));
    expect(one).toEqual([null, '93.184.216.34', 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup('example.com', { all: true }, (...args: unknown[]) => resolve(args)));
    expect(all).toEqual([null, [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::', family: 6 }]]);
    const mixed = guardedLookup({ allowPrivate: false, lookup: fakeLookup('93.184.216.34', '10.0.0.1') });
    const [err] = await new Promise<unknown[]>((resolve) => mixed('example.com', { all: true }, (...args: unknown[]) => resolve(args)));
    expect(networkReason(err)).toBe('blocked-by-egress-policy: example.com resolves to 10.0.0.1, a private address (10.0.0.0/8)');
  });
});

describe('sending and the recorded reason', () => {
  let egress: Egress;
  const servers: (http.Server | net.Server)[] = [];
  const body = JSON.stringify({ id: '0193a5c2-6f1e-7b3a-9c41-2f0d8e7a1b22' });
  const send = (url: string, timeoutMs = 5_000) => sendWebhook({ url, secret: 'whsec_test' }, body, timeoutMs, Date.now(), new AbortController(), egress);

  const sockets = new Set<net.Socket>();
  async function listen<S extends http.Server | net.Server>(s: S): Promise<number> {
    servers.push(s);
    s.on('connection', (c: net.Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  }
  beforeAll(() => {
    // The receivers are local: only the allowPrivate egress reaches them.
    egress = openEgress({ allowPrivate: true });
  });
  afterEach(async () => {
    for (const c of sockets) c.destroy();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });
  afterAll(() => closeEgress(egress));

  it('keeps the status and our words, never the receiver body', async () => {
    const port = await listen(http.createServer((_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>stack trace: password=hunter2</h1>' + 'x'.repeat(100_000))));
    const r = await send(`http://127.0.0.1:${port}/`);
    expect(r).toEqual({ ok: false, status: 500, error: 'http-5xx: HTTP 500' });
    const port2 = await listen(http.createServer((_req, res) => res.writeHead(404).end('no such hook')));
    expect(await send(`http://127.0.0.1:${port2}/`)).toEqual({ ok: false, status: 404, error: 'http-4xx: HTTP 404' });
  });

  it('does not follow a redirect', async () => {
    let followed = 0;
    const target = await listen(http.createServer((_req, res) => {
      followed++;
      res.end('ok');
    }));
    const port = await listen(http.createServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${target}/metadata` }).end()));
    expect(await send(`http://127.0.0.1:${port}/`)).toEqual({ ok: false, status: 307, error: 'http-3xx: HTTP 307 (redirects are not followed)' });
    expect(followed).toBe(0);
  });

  it('names refusals, timeouts, TLS and protocol failures by class and code', async () => {
    const closed = await listen(net.createServer());
    await new Promise((r) => servers.pop()!.close(r));
    expect(await send(`http://127.0.0.1:${closed}/`)).toEqual({ ok: false, status: null, error: 'refused: connection refused (ECONNREFUSED)' });

    const silent = await listen(http.createServer(() => {}));
    expect(await send(`http://127.0.0.1:${silent}/`, 150)).toEqual({ ok: false, status: null, error: 'timeout: no answer within 150 ms' });

    const plain = await listen(http.createServer((_req, res) => res.end('ok')));
    const tls = await send(`https://127.0.0.1:${plain}/`);
    expect(tls).toMatchObject({ ok: false, status: null });
    expect((tls as { error: string }).error).toMatch(/^tls: TLS failed \([A-Z0-9_]+\)$/);

    const garbage = await listen(net.createServer((s) => s.end('SSH-2.0-OpenSSH_9.6 receiver says hello\r\n')));
    const proto = await send(`http://127.0.0.1:${garbage}/`);
    expect((proto as { error: string }).error).toMatch(/^protocol: the answer is not valid HTTP \(HPE_[A-Z_]+\)$/);
  });

  it('keeps only the error code of a failure, bounded', () => {
    const e = Object.assign(new Error("Hostname/IP does not match certificate's altnames: DNS:internal.receiver.corp"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(networkReason(e)).toBe('tls: TLS failed (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(networkReason(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }))).toBe('dns: the host name did not resolve (ENOTFOUND)');
    expect(networkReason(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }))).toBe('unreachable: no route to the host (EHOSTUNREACH)');
    expect(networkReason(Object.assign(new Error('x'), { code: 'weird code with spaces; DROP TABLE' }))).toBe('network: the request failed');
    expect(networkReason(new Error('receiver text'))).toBe('network: the request failed');
    expect(networkReason(Object.assign(new Error('x'), { code: 'E' + 'X'.repeat(60) })).length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
  });

  it('refuses before connecting under the default policy', async () => {
    const strict = openEgress({ allowPrivate: false, lookup: failingLookup });
    try {
      let hits = 0;
      const port = await listen(http.createServer((_req, res) => {
        hits++;
        res.end('ok');
      }));
      const r = await sendWebhook({ url: `https://127.0.0.1:${port}/`, secret: 's' }, body, 1_000, Date.now(), new AbortController(), strict);
      expect(r).toEqual({ ok: false, status: null, error: 'blocked-by-egress-policy: 127.0.0.1 is a loopback address (127.0.0.0/8)' });
      expect(hits).toBe(0);
    } finally {
      closeEgress(strict);
    }
  });
});
