/** Shared by the embedding tests: a Rollcall on a fresh database (the backend under test), Entra-shaped bodies. */
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';

export const HOST_URL = 'https://app.example.com';

export interface EmbeddedRollcall {
  rc: Rollcall;
  database: TestDatabase;
  /** A new SCIM connection with its own organisation. */
  connection(name?: string, settings?: unknown): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function startRollcall(publicUrl = HOST_URL): Promise<EmbeddedRollcall> {
  const database = await freshDatabase();
  const rc = await createRollcall({ databaseUrl: database.url, publicUrl, logger: { error() {}, warn() {}, info() {} } });
  return {
    rc,
    database,
    async connection(name = 'Acme (Entra ID)', settings?: unknown) {
      const c = await rc.connections.create({ name, settings });
      return { id: c.id, token: c.token };
    },
    async close() {
      await rc.close();
      await database.drop();
    },
  };
}

/** A user as Microsoft Entra ID provisions it (default attribute mappings). */
export function entraUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const [given, family] = userName.split('@')[0].split('.');
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId: `ext-${userName}`,
    userName,
    active: true,
    displayName: `${given ?? userName} ${family ?? ''}`.trim(),
    emails: [{ primary: true, type: 'work', value: userName }],
    name: { formatted: `${given} ${family}`, familyName: family ?? 'X', givenName: given ?? 'X' },
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Engineering' },
    ...extra,
  };
}

/** Entra ID's deactivation: a capitalised op and the boolean as a string. */
export const ENTRA_DEACTIVATE = {
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
};

export { waitFor } from '../support/wait.js';
