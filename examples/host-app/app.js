// @ts-check
/**
 * "Pretend SaaS": a host application with its own Fastify app that embeds Rollcall.
 *
 * - Its identity providers provision users into it over SCIM at
 *   `<publicUrl>/identity/scim/v2/<connection id>` (Rollcall's routes, mounted by the host).
 * - It reacts to provisioning in process: a new user gets an invitation, a
 *   deactivated or deleted one loses access.
 * - Its own pages read the directory by connection id.
 *
 * Everything comes from the package name, as in any application that ran
 * `npm install rollcall`.
 */
import Fastify from 'fastify';
import { createRollcall, onEvents, rollcallDirectory, rollcallScim } from 'rollcall';

export const SCIM_PREFIX = '/identity/scim/v2';

/**
 * @param {{ databaseUrl: string, publicUrl: string, log?: (line: string) => void }} opts
 */
export async function createHostApp({ databaseUrl, publicUrl, log = console.log }) {
  const rollcall = await createRollcall({ databaseUrl, publicUrl });
  const directory = rollcallDirectory(rollcall, { prefix: SCIM_PREFIX });

  // What the SaaS does when its customers' IdPs change something.
  const unsubscribe = onEvents(rollcall, ['user.created', 'user.deactivated', 'user.reactivated', 'user.deleted'], (event) => {
    switch (event.type) {
      case 'user.created':
        log(`invite sent to ${event.data.email ?? event.data.userName}`);
        break;
      case 'user.deactivated':
        log(`access revoked for ${event.data.userName}`);
        break;
      case 'user.reactivated':
        log(`access restored for ${event.data.userName}`);
        break;
      case 'user.deleted':
        log(`access revoked for ${event.data.userName} (account deleted)`);
        break;
    }
  });

  // Entra ID has been seen calling /users: a case-insensitive router serves it.
  const app = Fastify({ logger: false, routerOptions: { caseSensitive: false } });

  // The SaaS's own routes, with its own JSON handling.
  app.get('/', async () => ({ app: 'Pretend SaaS', scim: `${publicUrl}${SCIM_PREFIX}/<connection id>` }));
  app.get('/team/:connectionId', async (req) => {
    const { connectionId } = /** @type {{ connectionId: string }} */ (req.params);
    const page = await directory.users.list(connectionId, { filter: 'active eq true', sortBy: 'userName', count: 100 });
    return { total: page.totalResults, members: page.items.map((u) => ({ id: u.id, userName: u.userName, email: u.email, role: u.role })) };
  });

  // Rollcall's SCIM API under the SaaS's own prefix.
  await app.register(rollcallScim, { rollcall, prefix: SCIM_PREFIX, publicUrl });

  return {
    app,
    rollcall,
    directory,
    /** A new SCIM connection (with its own organisation) for a customer's IdP. */
    async createConnection(/** @type {string} */ name) {
      const c = await rollcall.connections.create({ name });
      return { id: c.id, token: c.token, scimUrl: directory.scimUrl(c.id) };
    },
    async close() {
      unsubscribe();
      await app.close();
      await rollcall.close();
    },
  };
}
