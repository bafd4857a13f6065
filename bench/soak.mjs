#!/usr/bin/env node
/**
 * Soak: an Entra ID-shaped provisioning cycle with concurrent reads and one
 * abusive connection, against one `rollcall serve` on SQLite (loopback only,
 * bounded in time).
 *
 *   npm run bench:soak
 *   BENCH_SOAK_USERS=20000 BENCH_SOAK_SECONDS=120 npm run bench:soak
 *
 * Three connections share the server:
 *   - "idp": for each user, `GET /Users?filter=userName eq "…"` then `POST /Users`,
 *     as Entra ID's initial cycle does, BENCH_SOAK_INFLIGHT (default 8) in flight;
 *   - "reader": `GET /Users/{id}` of its own users, one due every 20 ms and sent
 *     when due (open loop), each timed from when it was due (a stalled server shows
 *     as latency, not as fewer samples);
 *   - "abuser": two in flight, back to back, the heaviest requests the limits allow
 *     (a 100-term substring filter, 1,000-user pages with 100 projection entries,
 *     the most PATCH work, a group of the most members one request may name).
 * Every 5 s it samples the server's RSS, /healthz latency and the event-loop delay
 * gauges of /metrics. At the end it checks that every user the IdP created is
 * there exactly once, prints a report and writes it to docs/reliability.md
 * (between the soak markers) unless BENCH_NO_DOCS=1.
 *
 * Environment: BENCH_SOAK_USERS (default 100000), BENCH_SOAK_SECONDS (the cycle
 * stops there if not done; default 300), BENCH_SOAK_INFLIGHT (default 8),
 * BENCH_SOAK_ABUSER=0 (no abusive connection), BENCH_NO_DOCS=1.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createConnection, repoRoot, startServer } from '../test/conformance/server-process.mjs';
import { rssMiB, rssSplitMiB, machine, codeRevision } from './lib/system.mjs';

const env = process.env;
const USERS = Number(env.BENCH_SOAK_USERS ?? 100_000);
const SECONDS = Number(env.BENCH_SOAK_SECONDS ?? 300);
const INFLIGHT = Number(env.BENCH_SOAK_INFLIGHT ?? 8);
/** BENCH_SOAK_ABUSER=0: no abusive connection (memory and speed of the cycle alone). */
const ABUSER = env.BENCH_SOAK_ABUSER !== '0';
const METRICS_TOKEN = 'soak-metrics-token-0123456789';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request; resolves to { status, body, ms }. Never rejects: a network error is status 0. */
function request(base, method, url, token, body) {
  const started = performance.now();
  return new Promise((resolve) => {
    const u = new URL(base + url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { agent, method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(payload) } : {}) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, body: parsed, ms: performance.now() - started });
        });
      },
    );
    req.on('error', (e) => resolve({ status: 0, body: { error: e.message }, ms: performance.now() - started }));
    if (payload) req.write(payload);
    req.end();
  });
}

const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] : NaN);
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '–');

class Stats {
  constructor() {
    this.ms = [];
    this.errors = 0;
    this.statuses = new Map();
  }
  add(r, ok) {
    this.ms.push(r.ms);
    this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
    if (!ok) this.errors++;
  }
  row(name) {
    return `| ${name} | ${this.ms.length.toLocaleString('en-US')} | ${f1(pct(this.ms, 50))} | ${f1(pct(this.ms, 99))} | ${f1(Math.max(...this.ms))} | ${this.errors} | ${[...this.statuses].map(([s, n]) => `${s}×${n}`).join(' ')} |`;
  }
}

async function metricsGauge(base, name) {
  const r = await new Promise((resolve) => {
    http
      .get(`${base}/metrics`, { agent, headers: { authorization: `Bearer ${METRICS_TOKEN}` } }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(t));
      })
      .on('error', () => resolve(''));
  });
  const line = r.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

async function main() {
  const server = await startServer({ name: 'rollcall-soak', logLevel: 'warn', extraEnv: { ROLLCALL_METRICS_TOKEN: METRICS_TOKEN } });
  const base = server.baseUrl;
  const pid = server.child.pid;
  const conn = async (name) => {
    const c = await createConnection(server, name);
    return { api: new URL(c.scimUrl).pathname, token: c.token };
  };
  const idp = await conn('Soak IdP');
  const reader = await conn('Soak reader');
  const abuser = await conn('Soak abuser');
  const stats = { lookup: new Stats(), create: new Stats(), read: new Stats(), abuse: new Stats(), health: new Stats() };
  const samples = [];
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let done = false;

  // The reader's and the abuser's own users.
  const readerIds = [];
  for (let i = 0; i < 50; i++) readerIds.push((await request(base, 'POST', `${reader.api}/Users`, reader.token, { userName: `reader${i}@soak.test` })).body.id);
  const abuserIds = [];
  for (let i = 0; i < 1000; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => request(base, 'POST', `${abuser.api}/Users`, abuser.token, { userName: `a${i + j}@soak.test`, title: `T${j}` })));
    for (const r of batch) abuserIds.push(r.body.id);
  }

  // The IdP's cycle: lookup, then create, INFLIGHT at a time, until all users or the time is up.
  let next = 0;
  let created = 0;
  const idpWorker = async () => {
    while (!done && next < USERS && elapsed() < SECONDS) {
      const n = next++;
      const userName = `user${n}@soak.test`;
      const look = await request(base, 'GET', `${idp.api}/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, idp.token);
      stats.lookup.add(look, look.status === 200);
      if (look.status === 200 && look.body.totalResults > 0) continue;
      const post = await request(base, 'POST', `${idp.api}/Users`, idp.token, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        externalId: `ext-${n}`,
        userName,
        active: true,
        displayName: `User ${n}`,
        name: { givenName: 'User', familyName: `${n}` },
        emails: [{ primary: true, type: 'work', value: userName }],
        title: 'Engineer',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: `D${n % 40}` },
      });
      stats.create.add(post, post.status === 201);
      if (post.status === 201) created++;
    }
  };

  // The reader: one read due every 20 ms, sent when due whether or not the one
  // before has been answered (open loop), and timed from when it was due.
  const readerLoop = async () => {
    const pending = [];
    for (let k = 0; !done; k++) {
      const due = started + k * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        request(base, 'GET', `${reader.api}/Users/${readerIds[k % readerIds.length]}`, reader.token).then((r) => stats.read.add({ ...r, ms: performance.now() - due }, r.status === 200)),
      );
    }
    await Promise.all(pending);
  };

  // The abuser: the heaviest requests the default limits allow, two in flight.
  const filter = Array.from({ length: 50 }, (_, i) => `title co "zz${i}" or emails.value co "q${i}"`).join(' or ');
  const excluded = Array.from({ length: 100 }, (_, i) => `x${i}`).join(',');
  const heavy = [
    () => request(base, 'GET', `${abuser.api}/Users?count=1000&filter=${encodeURIComponent(filter)}`, abuser.token),
    () => request(base, 'GET', `${abuser.api}/Users?count=1000&excludedAttributes=${excluded}`, abuser.token),
    () =>
      request(base, 'PATCH', `${abuser.api}/Users/${abuserIds[Math.floor(Math.random() * abuserIds.length)]}`, abuser.token, {
        schemas: [PATCH_OP],
        Operations: [
          { op: 'replace', path: 'emails', value: Array.from({ length: 100 }, (_, j) => ({ value: `e${j}@soak.test` })) },
          ...Array.from({ length: 99 }, (_, i) => ({ op: 'replace', path: `emails[value eq "e${i}@soak.test"].type`, value: `t${i}` })),
        ],
      }),
    async () => {
      const g = await request(base, 'POST', `${abuser.api}/Groups`, abuser.token, { displayName: `Big ${Math.random()}`, members: abuserIds.map((value) => ({ value })) });
      if (g.status !== 201) return g;
      const d = await request(base, 'DELETE', `${abuser.api}/Groups/${g.body.id}`, abuser.token);
      return { ...d, ms: g.ms + d.ms };
    },
  ];
  const abuserLoop = async (k) => {
    for (let i = k; !done; i++) {
      const r = await heavy[i % heavy.length]();
      stats.abuse.add(r, r.status > 0 && r.status < 300);
    }
  };

  // Every 5 s: RSS, /healthz, the event-loop gauges.
  const sampler = async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 5000));
      const h = await request(base, 'GET', '/healthz', '');
      stats.health.add(h, h.status === 200);
      samples.push({
        at: elapsed(),
        users: created,
        rss: rssMiB(pid),
        ...rssSplitMiB(pid),
        healthMs: h.ms,
        heap: (await metricsGauge(base, 'rollcall_nodejs_heap_size_total_bytes')) / 2 ** 20,
        external: (await metricsGauge(base, 'rollcall_nodejs_external_memory_bytes')) / 2 ** 20,
        loopP99: (await metricsGauge(base, 'rollcall_event_loop_delay_p99_seconds')) * 1000,
        loopMax: (await metricsGauge(base, 'rollcall_event_loop_delay_max_seconds')) * 1000,
      });
      const s = samples.at(-1);
      console.log(`${f1(s.at)} s: ${created.toLocaleString('en-US')} users, RSS ${f1(s.rss)} MiB (anonymous ${f1(s.anon)}, file ${f1(s.file)}; JS heap ${f1(s.heap)}, external ${f1(s.external)}), /healthz ${f1(s.healthMs)} ms, event-loop p99 ${f1(s.loopP99)} ms`);
    }
  };

  const background = [readerLoop(), ...(ABUSER ? [abuserLoop(0), abuserLoop(1)] : []), sampler()];
  await Promise.all(Array.from({ length: INFLIGHT }, idpWorker));
  const cycleSeconds = elapsed();
  done = true;
  await Promise.all(background);

  // Every user created is there exactly once.
  const total = (await request(base, 'GET', `${idp.api}/Users?count=0`, idp.token)).body.totalResults;
  const sample = [];
  for (let i = 0; i < 200; i++) {
    const n = Math.floor((i * created) / 200);
    const r = await request(base, 'GET', `${idp.api}/Users?filter=${encodeURIComponent(`userName eq "user${n}@soak.test"`)}`, idp.token);
    sample.push(r.body?.totalResults === 1 && r.body.Resources[0].externalId === `ext-${n}`);
  }
  const rssEnd = rssMiB(pid);
  await server.stop();

  const m = machine();
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${m.cores} cores (${m.cpu}), Node ${process.version}, code ${codeRevision()}; SQLite; ${INFLIGHT} IdP requests in flight${ABUSER ? '' : '; no abusive connection'}.`,
    '',
    `Cycle: ${created.toLocaleString('en-US')} of ${USERS.toLocaleString('en-US')} users created in ${cycleSeconds.toFixed(0)} s (${(created / cycleSeconds).toFixed(0)} users/s, ${((stats.lookup.ms.length + stats.create.ms.length) / cycleSeconds).toFixed(0)} IdP requests/s)${created < USERS ? ` — stopped at the BENCH_SOAK_SECONDS bound` : ''}. Stored afterwards: ${total.toLocaleString('en-US')} users; a sample of 200 read back: ${sample.filter(Boolean).length} correct.`,
    '',
    '| connection / request | requests | p50 ms | p99 ms | max ms | errors | statuses |',
    '|---|---|---|---|---|---|---|',
    stats.lookup.row('IdP: lookup `userName eq`'),
    stats.create.row('IdP: POST /Users'),
    stats.read.row('reader: GET /Users/{id} (from when due)'),
    stats.abuse.row('abuser: heaviest allowed requests'),
    stats.health.row('/healthz (every 5 s)'),
    '',
    '| time s | users | RSS MiB | of it anonymous | of it file-backed (mmap) | /healthz ms | event-loop p99 ms (60 s window) | max ms |',
    '|---|---|---|---|---|---|---|---|',
    ...samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || _ === samples.at(-1)).map((s) => `| ${s.at.toFixed(0)} | ${s.users.toLocaleString('en-US')} | ${f1(s.rss)} | ${f1(s.anon)} | ${f1(s.file)} | ${f1(s.healthMs)} | ${f1(s.loopP99)} | ${f1(s.loopMax)} |`),
    '',
    `RSS at the end: ${f1(rssEnd)} MiB.`,
  ];
  const report = lines.join('\n');
  console.log(`\n${report}\n`);
  const wellBehavedErrors = stats.lookup.errors + stats.create.errors + stats.read.errors;
  if (env.BENCH_NO_DOCS !== '1') {
    const doc = path.join(repoRoot, 'docs', 'reliability.md');
    const text = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : '';
    const [begin, end] = ['<!-- soak:begin -->', '<!-- soak:end -->'];
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a >= 0 && b > a) {
      fs.writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${report}\n${text.slice(b)}`);
      console.log(`written to ${path.relative(repoRoot, doc)}`);
    } else console.log(`docs/reliability.md has no soak markers; not written`);
  }
  if (wellBehavedErrors || total !== created || sample.some((ok) => !ok)) {
    console.error(`soak FAILED: ${wellBehavedErrors} errors for well-behaved clients; stored ${total} of ${created}; sample ${sample.filter(Boolean).length}/200`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
