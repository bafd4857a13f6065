/**
 * The ceiling of the Entra-shaped cycle (bench/lib/entra-cycle.mjs): a SCIM server on
 * loopback that does next to nothing. It keeps userName → id and displayName → id in
 * maps (so a lookup after a create finds it, as the cycle expects), answers a create
 * with the body it got plus an id, a PATCH with 204, a read with a fixed user. No
 * auth, validation, storage or framework: what the client and this machine can do.
 *
 *   node bench/null-scim-server.mjs     (prints "null SCIM server listening on http://127.0.0.1:PORT")
 */
import http from 'node:http';
import { serveChild } from './lib/serve-child.mjs';

const users = new Map();
const groups = new Map();
let nextId = 1;
const JSON_TYPE = 'application/scim+json; charset=utf-8';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0' });
    return res.end();
  }
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': String(buf.length) });
  res.end(buf);
}

const list = (found) => ({ schemas: [LIST], totalResults: found.length, startIndex: 1, itemsPerPage: found.length, Resources: found });
/** The quoted value of `attr eq "…"` in a filter, or null. */
const eqValue = (filter) => /eq\s+"([^"]*)"/.exec(filter ?? '')?.[1] ?? null;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const u = new URL(req.url, 'http://x');
    const parts = u.pathname.split('/').filter(Boolean);
    const kind = parts.at(-1) === 'Users' || parts.at(-1) === 'Groups' ? parts.at(-1) : parts.at(-2);
    const id = kind === parts.at(-1) ? null : parts.at(-1);
    const store = kind === 'Groups' ? groups : users;
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
    if (req.method === 'GET' && !id) {
      const name = eqValue(u.searchParams.get('filter'));
      if (name === null) return send(res, 200, { ...list([]), totalResults: store.size });
      const doc = store.get(name);
      return send(res, 200, list(doc ? [doc] : []));
    }
    if (req.method === 'POST' && !id) {
      const key = kind === 'Groups' ? body.displayName : body.userName;
      const doc = { ...body, id: String(nextId++), meta: { resourceType: kind === 'Groups' ? 'Group' : 'User' } };
      store.set(key, doc);
      return send(res, 201, doc);
    }
    if (req.method === 'PATCH' && id) return send(res, 204);
    if (req.method === 'GET' && id) return send(res, 200, { id, schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'] });
    send(res, 404, { status: '404' });
  });
});
serveChild(server, 'null SCIM server');
