/**
 * The benchmark's baseline: a bare node:http server on loopback that answers every
 * request with one fixed JSON document (a real SCIM user as Rollcall serves it,
 * passed in a file). It shows what this machine, Node and the load generator can do
 * with no framework, routing, auth or database at all.
 *
 *   node bench/baseline-server.mjs DOC_FILE     (prints "baseline listening on http://127.0.0.1:PORT")
 */
import http from 'node:http';
import { serveChild } from './lib/serve-child.mjs';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/baseline-server.mjs DOC_FILE');
  process.exit(2);
}
const doc = readFileSync(file);
JSON.parse(doc.toString('utf8')); // refuse to serve something that is not JSON
const headers = {
  'content-type': 'application/scim+json; charset=utf-8',
  'content-length': String(doc.length),
};

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(doc);
  });
});
serveChild(server, 'baseline');
