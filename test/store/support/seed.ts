/**
 * A seeded directory for the filter property tests: one main connection with ~300
 * varied users and a few groups, plus a second connection whose users must never
 * show up in the main connection's results.
 */
import fs from 'node:fs';
import { freshDatabase, onPostgres } from '../../support/databases.js';
import os from 'node:os';
import path from 'node:path';
import { createRollcall, type Rollcall } from '../../../src/rollcall.js';
import { scimUrl } from '../../../src/directory/connections.js';
import type { RequestContext } from '../../../src/directory/context.js';
import { userToScim, type UserRecord } from '../../../src/directory/users.js';
import { groupToScim, type GroupRecord } from '../../../src/directory/groups.js';
import { ENTERPRISE_USER } from '../../../src/scim/schemas.js';
import { Rng } from './rng.js';
import { tenantOf } from '../../../src/store/tenant.js';

export const PUBLIC_URL = 'https://scim.test.example';
export const ENT = ENTERPRISE_USER;
export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const FIRST = [
  'alice', 'Alice', 'ALINA', 'al', 'bob', 'Bobby', 'bo', 'Élodie', 'élodie', 'ELODIE', 'straße', 'STRASSE', 'Strasse',
  'zoë', 'Zoe', 'Ömer', 'İlker', 'ilker', 'Ann', 'anna', 'Annabel', 'Anne-Marie', "o'brien", 'Jean_Luc', 'li', 'Łukasz',
  'Σοφία', 'Иван', 'たろう', 'x%y', 'back\\slash', 'quote"d', '😀smile', 'ｆullwidth', 'z', 'Zed',
];
const LAST = ['smith', 'Smith', 'SMITH-JONES', 'jensen', 'Jensen', 'Müller', 'MUELLER', 'García', 'de la Cruz', 'O’Neil', 'nguyen', 'Ng', 'Straße'];
const DOMAINS = ['example.com', 'Example.COM', 'contoso.onmicrosoft.com', 'okta.test', 'müller.de', 'ex.co'];
const TITLES = ['Engineer', 'Senior Engineer', 'engineer II', 'ENGINEERING MANAGER', 'Manager', 'VP Sales', 'vp sales', 'Straße-Planer', 'Intern', ''];
const DEPARTMENTS = ['Sales', 'sales', 'SALES-EMEA', 'R&D', 'Engineering', 'Eng', 'engineering', 'Marketing', 'Straße', 'Ünits', ''];
const COST_CENTERS = ['CC-1', 'cc-1', 'CC-10', 'CC-100', '4130', '00123', 'Cost/Center'];
const EMAIL_TYPES = ['work', 'work', 'home', 'other', 'Work', 'HOME', undefined] as const;
const PHONE_TYPES = ['work', 'mobile', 'Mobile', 'home', undefined] as const;
const LOCALITIES = ['Berlin', 'berlin', 'MÜNCHEN', 'München', 'Paris', 'São Paulo', ''];
const GROUP_NAMES = [
  'Engineering', 'engineering-emea', 'Engineering EMEA', 'Sales', 'Sales-US', 'sales-eu', 'All Staff', 'Ünicode Gruppe',
  'Straße-Team', 'admins', 'Admins-Readonly', 'x', 'Y', 'Ops "Night"', 'Σ Team', 'empty', 'Support', 'support-l2',
  'Marketing', 'R&D', 'Finance', 'finance-ap', 'HR', 'hr-ops', 'Legal',
];

export interface Seeded {
  rc: Rollcall;
  dir: string;
  dbFile: string;
  connectionId: string;
  otherConnectionId: string;
  ctx: RequestContext;
  /** SCIM JSON of every live user of the main connection, by id. */
  users: Map<string, Record<string, unknown>>;
  /** SCIM JSON of every group of the main connection, by id. */
  groups: Map<string, Record<string, unknown>>;
  deletedUserIds: string[];
  /** Every timestamp the clock handed out (created/lastModified values). */
  timestamps: string[];
  close(): Promise<void>;
}

function uniqueName(base: string, taken: Set<string>, rng: Rng): string {
  let name = base;
  while (taken.has(name.toLowerCase())) name = `${base}${rng.int(1, 999)}`;
  taken.add(name.toLowerCase());
  return name;
}

function userBody(rng: Rng, taken: Set<string>, earlierIds: string[]): Record<string, unknown> {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const domain = rng.pick(DOMAINS);
  const shape = rng.int(0, 5);
  let base: string;
  if (shape <= 2) base = `${first}.${last}@${domain}`.replace(/ /g, '');
  else if (shape === 3) base = `${first}${rng.int(1, 30)}`;
  else if (shape === 4) base = first;
  else base = `${rng.recase(first)}@${domain}`;
  const userName = uniqueName(rng.recase(base, 0.2), taken, rng);

  const body: Record<string, unknown> = { schemas: [CORE_USER_URN], userName };
  if (rng.chance(0.8)) body.displayName = rng.chance(0.04) ? '' : `${rng.recase(first, 0.2)} ${rng.recase(last, 0.2)}`;
  if (rng.chance(0.6)) body.title = rng.pick(TITLES);
  body.active = rng.chance(0.75) ? true : rng.chance(0.8) ? false : rng.pick(['False', 'True']);
  if (rng.chance(0.7)) {
    const ext = ['EXT-', 'ext-', 'Ext_', ''][rng.int(0, 3)];
    body.externalId = rng.chance(0.1) ? rng.pick(['jyoung', 'JYoung', '12345', '0012345']) : `${ext}${rng.int(1, 400)}`;
  }
  if (rng.chance(0.85)) {
    const name: Record<string, unknown> = {};
    if (rng.chance(0.9)) name.givenName = rng.recase(first, 0.2);
    if (rng.chance(0.85)) name.familyName = rng.recase(last, 0.2);
    if (rng.chance(0.2)) name.formatted = `${first} ${last}`;
    body.name = name;
  }
  const nEmails = rng.weighted([[2, 0], [5, 1], [3, 2], [1, 3]] as const);
  if (nEmails > 0) {
    const emails: Record<string, unknown>[] = [];
    for (let i = 0; i < nEmails; i++) {
      const local = rng.chance(0.6) ? userName.split('@')[0] : `${rng.pick(FIRST)}.${rng.pick(LAST)}`;
      const e: Record<string, unknown> = { value: rng.recase(`${local}@${rng.pick(DOMAINS)}`.replace(/ /g, ''), 0.3) };
      const type = rng.pick(EMAIL_TYPES);
      if (type !== undefined) e.type = type;
      if (rng.chance(0.35)) e.primary = rng.chance(0.7);
      emails.push(e);
    }
    body.emails = emails;
  }
  if (rng.chance(0.3)) {
    const phones: Record<string, unknown>[] = [];
    for (let i = rng.int(1, 2); i > 0; i--) {
      const p: Record<string, unknown> = { value: `+1 555 01${rng.int(10, 99)}` };
      const type = rng.pick(PHONE_TYPES);
      if (type !== undefined) p.type = type;
      if (rng.chance(0.3)) p.primary = true;
      phones.push(p);
    }
    body.phoneNumbers = phones;
  }
  if (rng.chance(0.15)) {
    body.addresses = [{ type: rng.pick(['work', 'home', 'Work']), locality: rng.pick(LOCALITIES), country: rng.pick(['DE', 'de', 'FR', 'BR']) }];
  }
  if (rng.chance(0.7)) {
    const ext: Record<string, unknown> = {};
    if (rng.chance(0.8)) ext.department = rng.pick(DEPARTMENTS);
    if (rng.chance(0.6)) ext.employeeNumber = rng.chance(0.3) ? rng.int(1, 999) : rng.pick(['00123', '701984', '12', '9', 'E-77', 'e-77']);
    if (rng.chance(0.5)) ext.costCenter = rng.pick(COST_CENTERS);
    if (rng.chance(0.25) && earlierIds.length) ext.manager = { value: rng.pick(earlierIds), displayName: 'ignored (readOnly)' };
    body[rng.chance(0.15) ? ENT.toLowerCase() : ENT] = ext;
    (body.schemas as string[]).push(ENT);
  }
  return body;
}

export interface SeedOptions {
  seed: number;
  users: number;
  groups: number;
}

export async function seedDirectory(opts: SeedOptions): Promise<Seeded> {
  const rng = new Rng(opts.seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-filter-prop-'));
  const dbFile = path.join(dir, 'rollcall.db');
  // A clock that moves in uneven steps, sometimes not at all (equal timestamps).
  let now = Date.UTC(2024, 2, 1, 8, 0, 0, 0);
  const timestamps: string[] = [];
  const clock = () => {
    now += rng.weighted([[2, 0], [3, 1], [3, 37], [2, 999], [3, 1000], [2, 61_000], [1, 86_400_000]] as const);
    const d = new Date(now);
    timestamps.push(d.toISOString());
    return d;
  };
  // SQLite here, or a fresh PostgreSQL database with ROLLCALL_TEST_DATABASE=postgres.
  const database = onPostgres ? await freshDatabase('rollcall-prop-') : undefined;
  const rc = await createRollcall({ databaseUrl: database?.url ?? `sqlite:${dbFile}`, publicUrl: PUBLIC_URL, clock });
  // Plain SCIM for the filter tests: externalIds repeat and some addresses are role mailboxes.
  const settings = { mappingKey: 'userName', rejectCollectiveAddresses: false };
  const main = await rc.connections.create({ name: 'main', settings });
  const other = await rc.connections.create({ name: 'other', settings });
  const ctx: RequestContext = { connectionId: main.id, baseUrl: scimUrl(PUBLIC_URL, main.id), settings: main.settings };
  const otherCtx: RequestContext = { connectionId: other.id, baseUrl: scimUrl(PUBLIC_URL, other.id), settings: other.settings };

  const taken = new Set<string>();
  const ids: string[] = [];
  for (let i = 0; i < opts.users; i++) {
    const rec = await rc.users.create(ctx, userBody(rng, taken, ids));
    ids.push(rec.row.id);
  }
  // Same kinds of names in another tenant: never visible from the main connection.
  const otherTaken = new Set<string>();
  for (let i = 0; i < 25; i++) await rc.users.create(otherCtx, userBody(rng, otherTaken, []));
  await rc.groups.create(otherCtx, { displayName: 'Engineering' });

  // Some users are rewritten later (lastModified ≠ created) …
  for (const id of rng.shuffle(ids).slice(0, Math.floor(ids.length * 0.15))) {
    const cur = await rc.users.get(ctx, id);
    const body = { ...cur.doc, title: rng.pick(TITLES), externalId: cur.row.external_id ?? undefined };
    await rc.users.replace(ctx, id, body);
  }

  // … groups get members …
  const groupNames = rng.shuffle(GROUP_NAMES).slice(0, opts.groups);
  const groupIds: string[] = [];
  for (const name of groupNames) {
    const size = rng.weighted([[2, 0], [4, 3], [3, 15], [1, 60]] as const);
    const members = rng.shuffle(ids).slice(0, size).map((value) => ({ value }));
    const body: Record<string, unknown> = { displayName: name, members };
    if (rng.chance(0.6)) body.externalId = rng.pick(['grp-', 'GRP-', 'Grp_'])  + rng.int(1, 40);
    const rec = await rc.groups.create(ctx, body);
    groupIds.push(rec.row.id);
  }
  // … and a few users are deleted after joining groups (gone from results and from members).
  const deletedUserIds = rng.shuffle(ids).slice(0, 12);
  for (const id of deletedUserIds) await rc.users.delete(ctx, id);

  const seeded: Seeded = {
    rc,
    dir,
    dbFile,
    connectionId: main.id,
    otherConnectionId: other.id,
    ctx,
    users: new Map(),
    groups: new Map(),
    deletedUserIds,
    timestamps,
    async close() {
      await rc.close();
      await database?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await refreshViews(seeded);
  return seeded;
}

/** Reloads the SCIM JSON of every live user and group from the database. */
export async function refreshViews(s: Seeded): Promise<void> {
  const db = s.rc.database.db;
  const userRows = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant', '=', tenantOf(s.connectionId))
    .where('state', '<>', 'deleted')
    .execute();
  const groupsOf = await s.rc.users.groupsOf(userRows.map((r) => r.id));
  s.users.clear();
  for (const row of userRows) {
    const rec: UserRecord = { row, doc: JSON.parse(row.doc) };
    s.users.set(row.id, userToScim(s.ctx, rec, groupsOf.get(row.id) ?? []));
  }
  const groupRows = await db.selectFrom('groups').selectAll().where('tenant', '=', tenantOf(s.connectionId)).execute();
  const membersOf = await s.rc.groups.membersOf(groupRows.map((r) => r.id));
  s.groups.clear();
  for (const row of groupRows) {
    const rec: GroupRecord = { row, doc: JSON.parse(row.doc) };
    s.groups.set(row.id, groupToScim(s.ctx, rec, membersOf.get(row.id) ?? []));
  }
}
