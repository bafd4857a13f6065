/**
 * The admin console: the single-page app built from web/ (npm run build puts it in
 * dist/console), served at /admin with its index for every page the app routes
 * itself (/admin/organizations/…, /admin/setup). It talks only to the admin API.
 * Pages are never framed, send no Referer (a setup link's secret is in the URL
 * fragment, which browsers never send anyway), and load only their own scripts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

export const CONSOLE_PREFIX = '/admin';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/console beside dist/http when built; from src/http (tests, tsx) the repository's dist/console. */
export function consoleDir(): string | undefined {
  return [path.resolve(here, '../console'), path.resolve(here, '../../dist/console')].find((d) => fs.existsSync(path.join(d, 'index.html')));
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export async function registerConsole(app: FastifyInstance): Promise<void> {
  const root = consoleDir();
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_req, reply, payload) => {
      reply.headers(SECURITY_HEADERS);
      return payload;
    });
    if (!root) {
      const missing = (_req: unknown, reply: FastifyReply) =>
        reply.status(503).type('text/plain; charset=utf-8').send('The admin console is not built: run `npm run build` (it builds web/ into dist/console).\n');
      scope.get(CONSOLE_PREFIX, missing);
      scope.get(`${CONSOLE_PREFIX}/*`, missing);
      return;
    }
    await scope.register(fastifyStatic, { root, prefix: `${CONSOLE_PREFIX}/`, wildcard: false, index: ['index.html'], cacheControl: false });
    // Hashed asset names can be cached for good; the index never (it names the current ones).
    scope.addHook('onSend', async (req, reply, payload) => {
      if (req.url.startsWith(`${CONSOLE_PREFIX}/assets/`)) reply.header('cache-control', 'public, max-age=31536000, immutable');
      else reply.header('cache-control', 'no-cache');
      return payload;
    });
    // /admin itself is the index: @fastify/static serves /admin/ and the router ignores the trailing slash.
    const index = (_req: unknown, reply: FastifyReply) => reply.type('text/html; charset=utf-8').sendFile('index.html');
    // Any page of the app that is not a file: the app routes it.
    scope.get(`${CONSOLE_PREFIX}/*`, (req, reply) => {
      const rel = (req.params as { '*': string })['*'];
      if (rel.startsWith('assets/')) return reply.callNotFound();
      const file = path.join(root, rel);
      if (rel && file.startsWith(root + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) return reply.sendFile(rel);
      return index(req, reply);
    });
  });
}
