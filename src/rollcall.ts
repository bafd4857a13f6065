/** The service object: one database, the directories on top of it. */
import { openDatabase, type OpenedDatabase } from './store/db.js';
import { ConnectionDirectory } from './directory/connections.js';
import { UserDirectory } from './directory/users.js';
import { GroupDirectory } from './directory/groups.js';
import { type Clock, systemClock } from './directory/context.js';
import { type PurgeReport, purgeExpired } from './directory/lifecycle.js';
import { type ImportReport, importCsv } from './directory/import.js';
import { settingsChecks } from './directory/policies/index.js';

export interface RollcallOptions {
  databaseUrl: string;
  publicUrl: string;
  clock?: Clock;
  /** Plans whose organisations may use the SCIM API (default: enterprise). */
  scimPlans?: string[];
}

export interface Rollcall {
  readonly publicUrl: string;
  readonly database: OpenedDatabase;
  readonly connections: ConnectionDirectory;
  readonly users: UserDirectory;
  readonly groups: GroupDirectory;
  /** Imports users from CSV text into an organisation without a SCIM connection. */
  importCsv(organizationId: string, csvText: string): Promise<ImportReport>;
  /** Purges users past their connection's retention window, treating `asOf` as now. */
  purge(asOf?: Date): Promise<PurgeReport>;
  close(): Promise<void>;
}

export async function createRollcall(opts: RollcallOptions): Promise<Rollcall> {
  const database = await openDatabase(opts.databaseUrl);
  const clock = opts.clock ?? systemClock;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  const connections = new ConnectionDirectory(database.db, database.readDb, database.readSnapshot, clock, publicUrl, opts.scimPlans ?? ['enterprise'], settingsChecks);
  const users = new UserDirectory(database.db, database.writes, database.readDb, database.dialect, clock);
  const groups = new GroupDirectory(database.db, database.writes, database.readDb, database.dialect, clock);
  return {
    publicUrl,
    database,
    importCsv: (organizationId: string, csvText: string) => importCsv({ connections, users, groups }, organizationId, csvText),
    purge: (asOf?: Date) => purgeExpired(database, connections, asOf ?? clock()),
    connections,
    users,
    groups,
    close: () => database.close(),
  };
}
