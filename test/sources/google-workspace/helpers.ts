/**
 * A Rollcall on the backend under test with one Google Workspace connection, and
 * the fake Google (fake-google.mjs) it syncs from: the real @googleapis/admin and
 * google-auth-library clients, pointed at a local server by rootUrl and token URL.
 */
import { randomBytes } from 'node:crypto';
import { createRollcall, type Rollcall, type RollcallOptions } from '../../../src/rollcall.js';
import { requestContext, type RequestContext } from '../../../src/directory/context.js';
import { readApp } from '../../../src/directory/emitted-events.js';
import type { RollcallEvent } from '../../../src/events/types.js';
import type { SourcesOptions } from '../../../src/sources/index.js';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { type FakeGoogle, googleGroup, googleUser, serviceAccountKey, startFakeGoogle } from './fake-google.mjs';

export const ADMIN_EMAIL = 'admin@example.com';
export const DOMAIN = 'example.com';

export interface GoogleSetup {
  rc: Rollcall;
  fake: FakeGoogle;
  database: TestDatabase;
  connectionId: string;
  organizationId: string;
  ctx: RequestContext;
  keyText: string;
  options: RollcallOptions;
  /** What the instances logged (failed runs log an error). */
  logged: { level: string; msg: string; obj: object }[];
  /** Another Rollcall on the same database and fake (a second instance). */
  another(): Promise<Rollcall>;
  /** Every live user of the connection (SCIM documents with row state), by userName. */
  users(): Promise<Map<string, { id: string; state: string; doc: any; app: any }>>;
  /** Every group with its members' user ids, by displayName. */
  groups(): Promise<Map<string, { id: string; members: string[] }>>;
  /** Events stored since the last call (all, on the first). */
  newEvents(): Promise<RollcallEvent[]>;
  close(): Promise<void>;
}

export const fastRetries = { retryBaseMs: 1, retryMaxMs: 20 };

/** Users 0..n-1 in the fake, and groups 0..g-1 whose members are every `step`th user from the group's index. */
export function populate(fake: FakeGoogle, users: number, groups = 0, step = 10): void {
  for (let i = 0; i < users; i++) {
    const u = googleUser(i, DOMAIN);
    fake.state.users.set(u.id, u);
  }
  const all = [...fake.state.users.values()];
  for (let g = 0; g < groups; g++) {
    const group = googleGroup(g, DOMAIN);
    fake.state.groups.set(group.id, group);
    const members = all.filter((_, i) => i % step === g % step).map((u) => ({ kind: 'admin#directory#member', id: u.id, email: u.primaryEmail, role: 'MEMBER', type: 'USER', status: 'ACTIVE' }));
    fake.state.members.set(group.id, members);
  }
}

/** `requestLog`: keep the provisioning log (off by default: most tests do not read it). */
export async function googleSetup(opts: { settings?: unknown; sources?: SourcesOptions; orgUnits?: string[]; delayMs?: number; requestLog?: boolean } = {}): Promise<GoogleSetup> {
  const key = serviceAccountKey();
  const fake = await startFakeGoogle({ publicKey: key.publicKey, clientEmail: key.key.client_email, adminEmail: ADMIN_EMAIL, delayMs: opts.delayMs });
  const database = await freshDatabase('rollcall-google-');
  const logged: GoogleSetup['logged'] = [];
  const logger = {
    error: (obj: object, msg: string) => logged.push({ level: 'error', msg, obj }),
    warn: (obj: object, msg: string) => logged.push({ level: 'warn', msg, obj }),
    info: (obj: object, msg: string) => logged.push({ level: 'info', msg, obj }),
  };
  const options: RollcallOptions = {
    logger,
    databaseUrl: database.url,
    publicUrl: 'https://rollcall.test.example',
    secretKey: randomBytes(32),
    requestLog: { enabled: opts.requestLog ?? false },
    sources: { ...opts.sources, googleWorkspace: { rootUrl: fake.rootUrl, tokenUrl: fake.tokenUrl, ...fastRetries, ...opts.sources?.googleWorkspace } },
  };
  const rc = await createRollcall(options);
  const conn = await rc.sources.createGoogleWorkspace({ name: 'Acme on Google', key: key.text, adminEmail: ADMIN_EMAIL, domain: DOMAIN, orgUnits: opts.orgUnits, settings: opts.settings });
  const ctx = requestContext(conn.id, conn, conn.scimUrl);
  const others: Rollcall[] = [];
  let cursor: string | undefined;
  const setup: GoogleSetup = {
    rc,
    fake,
    database,
    connectionId: conn.id,
    organizationId: conn.organizationId!,
    ctx,
    keyText: key.text,
    options,
    logged,
    async another() {
      const other = await createRollcall(options);
      others.push(other);
      return other;
    },
    async users() {
      const out = new Map<string, { id: string; state: string; doc: any; app: any }>();
      for (let start = 1; ; start += 1000) {
        const { records } = await rc.users.list(ctx, { startIndex: start, count: 1000 });
        for (const r of records) out.set(r.row.user_name, { id: r.row.id, state: r.row.state, doc: r.doc, app: readApp(r.row.app) });
        if (records.length < 1000) return out;
      }
    },
    async groups() {
      const { records } = await rc.groups.list(ctx, { startIndex: 1, count: 1000 });
      const members = await rc.groups.membersOf(records.map((r) => r.row.id));
      const out = new Map<string, { id: string; members: string[] }>();
      for (const r of records) {
        out.set(r.row.display_name, { id: r.row.id, members: (members.get(r.row.id) ?? []).map((m) => m.value).sort() });
      }
      return out;
    },
    async newEvents() {
      const out: RollcallEvent[] = [];
      for (;;) {
        const page = await rc.events.feed({ after: cursor, limit: 1000, organizationId: conn.organizationId! });
        out.push(...page.events);
        const done = page.next === cursor || page.events.length < 1000;
        cursor = page.next;
        if (done) return out;
      }
    },
    async close() {
      for (const o of others) await o.close();
      await rc.close();
      await fake.close();
      await database.drop();
    },
  };
  return setup;
}

/** Events by type, e.g. { 'user.created': 3 }. */
export function countByType(events: RollcallEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) out[e.type] = (out[e.type] ?? 0) + 1;
  return out;
}
