// @ts-check
/**
 * Starts the pretend SaaS:
 *
 *   node examples/host-app/server.js
 *
 * Environment: PORT (default 3000), HOST (default 127.0.0.1), DATABASE_URL (default
 * sqlite:./data/host-app.db), PUBLIC_URL (default http://localhost:$PORT).
 * On a database without connections, a demo connection is created and its SCIM
 * base URL and bearer token are printed (the token only this once).
 */
import { createHostApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const databaseUrl = process.env.DATABASE_URL ?? 'sqlite:./data/host-app.db';
const publicUrl = (process.env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');

const saas = await createHostApp({ databaseUrl, publicUrl });

const existing = await saas.rollcall.connections.list();
if (existing.length === 0) {
  const c = await saas.createConnection('Pretend SaaS demo (Entra ID)');
  console.log(`SCIM connection created: ${c.id}`);
  console.log(`  SCIM base URL: ${c.scimUrl}`);
  console.log(`  Bearer token:  ${c.token}`);
} else {
  for (const c of existing) console.log(`SCIM connection ${c.id}: ${saas.directory.scimUrl(c.id)}`);
}

await saas.app.listen({ port, host });
const address = saas.app.server.address();
console.log(`Pretend SaaS listening on http://${host}:${typeof address === 'object' && address ? address.port : port} (public URL ${publicUrl})`);

let stopping = false;
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    saas.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
