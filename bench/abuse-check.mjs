// Times the abusive requests of issue 12 against a fresh server with N users (default 20,000): each is sent while /healthz is polled; prints a table row per request (status and code, ms, the longest /healthz wait meanwhile). Run after `npm run build`.
import { createConnection, startServer } from '../test/conformance/server-process.mjs';
const N = Number(process.env.N ?? 20000);
const server = await startServer({ name: 'abuse', logLevel: 'warn' });
const c = await createConnection(server, 'Abuse');
const api = server.baseUrl + new URL(c.scimUrl).pathname;
const h = { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' };
const req = async (method, url, body) => { const s = performance.now(); const r = await fetch(api + url, { method, headers: h, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) }); const t = await r.text(); return { status: r.status, ms: performance.now() - s, text: t }; };
for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => req('POST', '/Users', { userName: `u${i + j}@x.test`, title: `T${j}` })));
const u = JSON.parse((await req('POST', '/Users', { userName: 'victim@x.test' })).text).id;
// While each runs, how long /healthz waits.
async function timed(name, fn) {
  let worst = 0; let stop = false;
  const probe = (async () => { while (!stop) { const s = performance.now(); await fetch(server.baseUrl + '/healthz'); worst = Math.max(worst, performance.now() - s); await new Promise((r) => setTimeout(r, 5)); } })();
  const r = await fn(); stop = true; await probe;
  console.log(`| ${name} | ${r.status} ${(JSON.parse(r.text || '{}')['urn:rollcall:params:scim:api:messages:2.0:Error']?.code ?? '')} | ${r.ms.toFixed(0)} | ${worst.toFixed(0)} |`);
}
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
await timed('PATCH: 100 operations each appending 200 e-mails', () => req('PATCH', `/Users/${u}`, { schemas: [PATCH_OP], Operations: Array.from({ length: 100 }, (_, i) => ({ op: 'add', path: 'emails', value: Array.from({ length: 200 }, (_, j) => ({ value: `e${i}-${j}@x.test` })) })) }));
await timed('excludedAttributes with 1,000,000 entries (.search)', () => req('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], excludedAttributes: Array.from({ length: 1_000_000 }, () => 'title').join(',') }));
await timed('filter of 500 `co` terms joined by `or`', () => req('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: Array.from({ length: 500 }, (_, i) => `title co "z${i}"`).join(' or ') }));
await timed(`filter of 100 \`co\` terms (the most allowed) over ${N.toLocaleString('en-US')} users`, () => req('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: Array.from({ length: 100 }, (_, i) => `title co "z${i}"`).join(' or ') }));
await timed('POST with a 1 MB userName', () => req('POST', '/Users', { userName: 'u'.repeat(1 << 20) }));
await timed('POST with a 9 MB title', () => req('POST', '/Users', { userName: 't@x.test', title: 't'.repeat(9 << 20) }));
await timed('POST with 100,000 e-mails', () => req('POST', '/Users', { userName: 'm@x.test', emails: Array.from({ length: 100000 }, (_, i) => ({ value: `e${i}@x.test` })) }));
await server.stop();
