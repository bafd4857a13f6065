#!/usr/bin/env node
/**
 * Memory at size (SQLite): seeds BENCH_MEMORY_USERS users (default 1,000,000)
 * into a fresh database in-process, through the directory's own create path
 * (policies, events, memberships' tables — everything but HTTP, which would take
 * an hour at this size), then starts `rollcall serve` on that file and serves an
 * Entra ID-shaped mix for BENCH_DURATION seconds (default 60): `userName eq`
 * lookups, GET /Users/{id}, PATCH deactivations, the occasional filtered list.
 * Prints the server's RSS (anonymous / file-backed) and JS heap every 10 s.
 *
 *   npm run build && BENCH_MEMORY_USERS=100000 node bench/memory.mjs
 *
 * BENCH_MEMORY_FILE=path keeps the seeded database there and reuses it on the
 * next run (seeding 1,000,000 users takes a while; the server flags can then be
 * compared on the same file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRollcall } from '../dist/index.js';
import { requestContext } from '../dist/directory/context.js';
import { SHIPPED_NODE_ARGS, startServer } from '../test/conformance/server-process.mjs';
import { rssSplitMiB, rssMiB } from './lib/system.mjs';

const SECONDS = Number(process.env.BENCH_DURATION ?? 60);
const kept = process.env.BENCH_MEMORY_FILE;
const dir = kept ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-memory-'));
const file = kept ? path.resolve(kept) : path.join(dir, 'rollcall.db');
// A reused file keeps the size it was seeded with, whatever BENCH_MEMORY_USERS says now.
const saved = kept && fs.existsSync(`${file}.json`) ? JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) : undefined;
const reuse = saved !== undefined;
const USERS = reuse ? saved.users : Number(process.env.BENCH_MEMORY_USERS ?? 1_000_000);

const t0 = performance.now();
const rc = await createRollcall({ databaseUrl: `sqlite:${file}`, publicUrl: 'http://127.0.0.1:1' });
const conn = reuse ? saved : await rc.connections.create({ name: 'Memory' });
const ctx = requestContext(conn.id, conn, 'http://127.0.0.1:1');
let next = 0;
const seed = async () => {
  while (next < USERS) {
    const n = next++;
    await rc.users.create(ctx, {
      externalId: `ext-${n}`,
      userName: `user${n}@memory.test`,
      active: true,
      displayName: `User ${n}`,
      name: { givenName: 'User', familyName: `${n}` },
      emails: [{ primary: true, type: 'work', value: `user${n}@memory.test` }],
      title: 'Engineer',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: `D${n % 40}` },
    });
    if (n % 50_000 === 0) console.log(`seeded ${n.toLocaleString('en-US')} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
};
if (reuse) next = USERS;
await Promise.all(Array.from({ length: 64 }, seed));
await rc.close();
if (kept && !reuse) fs.writeFileSync(`${file}.json`, JSON.stringify({ id: conn.id, token: conn.token, users: USERS }));
const seededS = (performance.now() - t0) / 1000;
const bytes = fs.statSync(file).size;
console.log(`${reuse ? 'reused' : 'seeded'} ${USERS.toLocaleString('en-US')} users in ${seededS.toFixed(0)} s; file ${(bytes / 2 ** 20).toFixed(0)} MiB (${Math.round(bytes / USERS)} B per user)`);

// The server runs with the flags it ships with (SHIPPED_NODE_ARGS, from `npm start`);
// BENCH_SERVER_NODE_ARGS="--max-semi-space-size=1" (or "none") compares V8 settings on one file.
const METRICS_TOKEN = 'memory-bench-metrics-token';
const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS === undefined ? SHIPPED_NODE_ARGS : process.env.BENCH_SERVER_NODE_ARGS.split(' ').filter((a) => a && a !== 'none');
const server = await startServer({ name: 'rollcall-memory', logLevel: 'warn', nodeArgs, extraEnv: { DATABASE_URL: `sqlite:${file}`, ROLLCALL_METRICS_TOKEN: METRICS_TOKEN } });
const api = `${server.baseUrl}/scim/v2/${conn.id}`;
const headers = { authorization: `Bearer ${conn.token}`, 'content-type': 'application/scim+json' };
const rnd = () => Math.floor(Math.random() * USERS);
const ids = [];
const started = performance.now();
const samples = [];
let requests = 0;
let errors = 0;
const worker = async () => {
  while (performance.now() - started < SECONDS * 1000) {
    const n = rnd();
    const look = await fetch(`${api}/Users?filter=${encodeURIComponent(`userName eq "user${n}@memory.test"`)}`, { headers });
    const body = await look.json();
    requests++;
    if (look.status !== 200 || body.totalResults !== 1) errors++;
    const id = body.Resources?.[0]?.id;
    if (!id) continue;
    ids.push(id);
    const get = await fetch(`${api}/Users/${ids[Math.floor(Math.random() * ids.length)]}`, { headers });
    await get.arrayBuffer();
    requests++;
    if (get.status !== 200) errors++;
    if (n % 10 === 0) {
      const patch = await fetch(`${api}/Users/${id}`, { method: 'PATCH', headers, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: n % 20 === 0 ? 'False' : 'True' }] }) });
      await patch.arrayBuffer();
      requests++;
      if (patch.status !== 200) errors++;
    }
    if (n % 100 === 0) {
      const list = await fetch(`${api}/Users?count=100&filter=${encodeURIComponent('title co "gine" and active eq true')}`, { headers });
      await list.arrayBuffer();
      requests++;
      if (list.status !== 200) errors++;
    }
  }
};
const sampler = setInterval(() => {
  const s = { at: (performance.now() - started) / 1000, rss: rssMiB(server.child.pid), ...rssSplitMiB(server.child.pid) };
  samples.push(s);
  console.log(`${s.at.toFixed(0)} s: RSS ${s.rss.toFixed(0)} MiB (anonymous ${s.anon.toFixed(0)}, file ${s.file.toFixed(0)}), ${requests.toLocaleString('en-US')} requests`);
}, 10_000);
await Promise.all(Array.from({ length: 8 }, worker));
clearInterval(sampler);
const end = { rss: rssMiB(server.child.pid), ...rssSplitMiB(server.child.pid) };
// Where the anonymous memory is: the JS heap by space, buffers outside it.
const metrics = await (await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
const gauge = (name) =>
  metrics
    .split('\n')
    .filter((l) => l.startsWith(name) && Number(l.split(' ').at(-1)) > 0)
    .map((l) => `${l.slice(name.length, l.lastIndexOf(' '))} ${(Number(l.split(' ').at(-1)) / 2 ** 20).toFixed(1)} MiB`);
console.log('heap by space (used):', gauge('rollcall_nodejs_heap_space_size_used_bytes').join(', '));
console.log('heap by space (size):', gauge('rollcall_nodejs_heap_space_size_total_bytes').join(', '));
console.log('external:', gauge('rollcall_nodejs_external_memory_bytes').join(', '));
await server.stop();
if (dir) fs.rmSync(dir, { recursive: true, force: true });
console.log(
  `\n| users | file MiB | B per user | requests served | errors | RSS MiB at the end | of it anonymous | of it file-backed | highest RSS sampled |\n|---|---|---|---|---|---|---|---|---|\n| ${USERS.toLocaleString('en-US')} | ${(bytes / 2 ** 20).toFixed(0)} | ${Math.round(bytes / USERS)} | ${requests.toLocaleString('en-US')} | ${errors} | ${end.rss.toFixed(0)} | ${end.anon.toFixed(0)} | ${end.file.toFixed(0)} | ${Math.max(...samples.map((s) => s.rss)).toFixed(0)} |`,
);
if (errors) process.exitCode = 1;
