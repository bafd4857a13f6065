/**
 * `userName eq` at a million users (issue 14): does the lookup IdPs make before every
 * create stay as fast when the store is 100 times larger? Seeding a million users
 * through the API takes longer than the rest of the bench, so:
 *   1. a fresh server is seeded through the API with BASE users (10,000);
 *   2. the filter is measured at 4 connections (an IdP's concurrency: latency, not queueing);
 *   3. the server stops and the users (and their e-mail rows) are copied in SQL, each
 *      copy with its own ids, names, external ids and documents, to LOOKUP_USERS;
 *   4. the server starts again on that database (its start refreshes planner
 *      statistics) and the filter is measured the same way over all the names.
 * The copies carry no events or history (the lookup reads neither), so the file is
 * smaller than a million users provisioned through the API would make it.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { createConnection, startServer } from '../../test/conformance/server-process.mjs';
import { DURATION, LOOKUP_BASE, LOOKUP_CONNECTIONS, LOOKUP_USERS, SEED_CONNECTIONS, TARGET_LOOKUP_GROWTH, TARGET_LOOKUP_P50_MS } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, log } from '../lib/format.mjs';
import { load, problems, warmThenMeasure } from '../lib/load.mjs';
import { fileSize } from '../lib/system.mjs';
import { createUserRequest, filterByUserName, getRequest } from '../lib/users.mjs';

const nameOf = (copy, n) => `${copy ? `k${copy}.` : ''}bench.user.${String(n).padStart(7, '0')}@example.com`;

/** Column → SQL expression of a copy (`:p` the copy's prefix); columns not named are copied as they are. */
const USER_COPY = {
  user_name: ":p || user_name",
  user_name_lc: ":p || user_name_lc",
  external_id: "case when external_id is null then null else :p || external_id end",
  external_key: "case when external_key is null then null else :p || external_key end",
  doc: 'replace(doc, user_name, :p || user_name)',
  app: 'replace(app, user_name, :p || user_name)',
};

/** Copies of the base users in SQLite, `copies` of them, in one transaction per copy. */
function copySqlite(file, connectionId, copies) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const cols = db.prepare('pragma table_info(users)').all().map((c) => c.name);
  const emailCols = db.prepare('pragma table_info(user_emails)').all().map((c) => c.name);
  const q = (c) => `"${c}"`;
  const userExpr = cols.map((c) => (c === 'id' ? "printf('%08x-0000-7000-8000-%012x', :k, rowid)" : USER_COPY[c] ?? q(c)));
  const emailExpr = emailCols.map((c) => (c === 'user_id' ? "printf('%08x-0000-7000-8000-%012x', :k, u.rowid)" : c === 'value_lc' ? ':p || e.value_lc' : `e.${q(c)}`));
  const users = db.prepare(`insert into users (${cols.map(q).join(', ')}) select ${userExpr.join(', ')} from users where tenant = (select tenant from tenants where connection_id = :c) and user_name like 'bench.%'`);
  const emails = db.prepare(`insert into user_emails (${emailCols.map(q).join(', ')}) select ${emailExpr.join(', ')} from user_emails e join users u on u.id = e.user_id where u.tenant = (select tenant from tenants where connection_id = :c) and u.user_name like 'bench.%'`);
  for (let k = 1; k <= copies; k++) {
    db.transaction(() => {
      const p = `k${k}.`;
      users.run({ k, p, c: connectionId });
      emails.run({ k, p, c: connectionId });
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The same on PostgreSQL (ids derived from md5 of the copy number and the original id). */
async function copyPostgres(url, connectionId, copies) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const cols = (await client.query("select column_name from information_schema.columns where table_name = 'users' and table_schema = current_schema() order by ordinal_position")).rows.map((r) => r.column_name);
    const emailCols = (await client.query("select column_name from information_schema.columns where table_name = 'user_emails' and table_schema = current_schema() order by ordinal_position")).rows.map((r) => r.column_name);
    const q = (c) => `"${c}"`;
    const uuidOf = (ref) => `(substr(md5($1::text || ${ref}), 1, 8) || '-' || substr(md5($1::text || ${ref}), 9, 4) || '-7' || substr(md5($1::text || ${ref}), 14, 3) || '-8' || substr(md5($1::text || ${ref}), 18, 3) || '-' || substr(md5($1::text || ${ref}), 21, 12))`;
    const sub = (e) => e.replaceAll(':p', '$2::text');
    const userExpr = cols.map((c) => (c === 'id' ? uuidOf('id') : USER_COPY[c] ? sub(USER_COPY[c]) : q(c)));
    const emailExpr = emailCols.map((c) => (c === 'user_id' ? uuidOf('e.user_id') : c === 'value_lc' ? '$2::text || e.value_lc' : `e.${q(c)}`));
    for (let k = 1; k <= copies; k++) {
      await client.query('begin');
      await client.query(`insert into users (${cols.map(q).join(', ')}) select ${userExpr.join(', ')} from users where tenant = (select tenant from tenants where connection_id = $3) and user_name like 'bench.%'`, [k, `k${k}.`, connectionId]);
      await client.query(`insert into user_emails (${emailCols.map(q).join(', ')}) select ${emailExpr.join(', ')} from user_emails e join users u on u.id = e.user_id where u.tenant = (select tenant from tenants where connection_id = $3) and u.user_name like 'bench.%'`, [k, `k${k}.`, connectionId]);
      await client.query('commit');
    }
    await client.query('analyze users');
    await client.query('analyze user_emails');
  } finally {
    await client.end();
  }
}

/**
 * Runs the whole comparison on `backend` (its PostgreSQL database when it has one).
 * Sets backend.lookupScale = { base, users, small, large, growth, seedSeconds, copySeconds, bytes }.
 */
export async function lookupScaleRun(backend) {
  const pgDb = backend.pg;
  const copies = Math.max(0, Math.round(LOOKUP_USERS / LOOKUP_BASE) - 1);
  const total = LOOKUP_BASE * (copies + 1);
  log(`\n${backend.label}: userName eq at ${fmtInt(LOOKUP_BASE)} and ${fmtInt(total)} users (${LOOKUP_CONNECTIONS} connections; the larger store copied in SQL) …`);
  // A database of its own on PostgreSQL: the main run's stays as it was.
  let dbUrl = null;
  let dropDb = null;
  if (pgDb) {
    const name = `${pgDb.dbName}_lookup`;
    await pgDb.admin.query(`create database ${name}`);
    const u = new URL(pgDb.dbUrl);
    u.pathname = `/${name}`;
    dbUrl = u.toString();
    dropDb = () => pgDb.admin.query(`drop database if exists ${name} with (force)`);
  }
  const extraEnv = dbUrl ? { DATABASE_URL: dbUrl } : {};
  let server = await startServer({ name: `rollcall-bench-lookup-${backend.key}`, logLevel: 'warn', extraEnv });
  const dir = server.dir;
  try {
    const conn = await createConnection(server, 'lookup-scale');
    const api = `/scim/v2/${conn.id}`;
    const auth = { authorization: `Bearer ${conn.token}` };
    let next = 0;
    const t0 = Date.now();
    const seeded = await load([{ url: server.baseUrl, connections: SEED_CONNECTIONS, amount: LOOKUP_BASE, requests: [createUserRequest(`${api}/Users`, auth, () => next++)] }], { stopAfterS: 600 });
    if (problems(seeded)) throw new Error(`seeding ${fmtInt(LOOKUP_BASE)} users: ${problems(seeded)}`);
    const seedSeconds = (Date.now() - t0) / 1000;
    const measure = async (copiesNow) => {
      const pick = () => nameOf((Math.random() * (copiesNow + 1)) | 0, (Math.random() * LOOKUP_BASE) | 0);
      // One check first: the filter finds exactly that user.
      const probe = nameOf(copiesNow, 7);
      const res = await fetch(`${server.baseUrl}${filterByUserName(api, probe)}`, { headers: auth });
      const body = await res.json();
      if (res.status !== 200 || body.totalResults !== 1 || body.Resources[0].userName !== probe) throw new Error(`the filter for ${probe} answered ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      const r = await warmThenMeasure([{ url: server.baseUrl, connections: LOOKUP_CONNECTIONS, headers: auth, requests: [getRequest(() => filterByUserName(api, pick()))] }], { pids: [server.child.pid] });
      if (problems(r)) throw new Error(`filter at ${fmtInt(LOOKUP_BASE * (copiesNow + 1))} users: ${problems(r)}`);
      log(`  ${fmtInt(LOOKUP_BASE * (copiesNow + 1))} users: ${fmtInt(r.reqPerSec)} req/s, ${fmtLatencyCpu(r)}`);
      return r;
    };
    const small = await measure(0);
    await server.stop({ keepDir: true });
    const c0 = Date.now();
    if (dbUrl) await copyPostgres(dbUrl, conn.id, copies);
    else copySqlite(server.dbPath, conn.id, copies);
    const copySeconds = (Date.now() - c0) / 1000;
    log(`  copied to ${fmtInt(total)} users in ${copySeconds.toFixed(0)} s`);
    server = await startServer({ name: `rollcall-bench-lookup-${backend.key}`, logLevel: 'warn', extraEnv, dir });
    const large = await measure(copies);
    const bytes = dbUrl ? null : fileSize(server.dbPath) + fileSize(`${server.dbPath}-wal`);
    const growth = large.p50 / small.p50;
    backend.lookupScale = { base: LOOKUP_BASE, users: total, small, large, growth, seedSeconds, copySeconds, bytes, targetP50: TARGET_LOOKUP_P50_MS, targetGrowth: TARGET_LOOKUP_GROWTH };
  } finally {
    await server.stop({ keepDir: false });
    await dropDb?.().catch(() => {});
  }
}
