/** The service object: one database, the directories on top of it. */
import { openDatabase, type OpenedDatabase } from './store/db.js';
import { ConnectionDirectory } from './directory/connections.js';
import { UserDirectory } from './directory/users.js';
import { GroupDirectory } from './directory/groups.js';
import { type Clock, systemClock } from './directory/context.js';

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
  close(): Promise<void>;
}

export async function createRollcall(opts: RollcallOptions): Promise<Rollcall> {
  const database = await openDatabase(opts.databaseUrl);
  const clock = opts.clock ?? systemClock;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  return {
    publicUrl,
    database,
    connections: new ConnectionDirectory(database.db, database.readDb, database.readSnapshot, clock, publicUrl, opts.scimPlans ?? ['enterprise']),
    users: new UserDirectory(database.db, database.readDb, database.dialect, clock),
    groups: new GroupDirectory(database.db, database.readDb, database.dialect, clock),
    close: () => database.close(),
  };
}
