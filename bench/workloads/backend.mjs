/**
 * The main workload, once per backend: seed a fresh server through POST /Users up to
 * every size, measuring the creates, then GET /Users/{id} and the userName filter at
 * each size; on PostgreSQL the scaling run follows, and BENCH_CPU_PROF's profiles.
 */
import { createConnection, startServer } from '../../test/conformance/server-process.mjs';
import { CONNECTIONS, CPU_PROF, KEEP_DB, SCALE, SEED_CONNECTIONS, SEED_TIMEOUT_S, SIZES } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, fmtPgCost, log, redact } from '../lib/format.mjs';
import { load, problems, warmThenMeasure } from '../lib/load.mjs';
import { outputSince } from '../lib/servers.mjs';
import { fileSize, rssMiB } from '../lib/system.mjs';
import { createUserRequest, filterByUserName, getRequest } from '../lib/users.mjs';
import { measureBaseline } from './baseline.mjs';
import { profileOp } from './profile.mjs';
import { scalingRun } from './scaling.mjs';

/**
 * Seeds a fresh server on `backend` to every size and measures the GETs there (plus,
 * on PostgreSQL, the scaling run and, with BENCH_CPU_PROF, the profiles). Fills
 * backend.cells (by row key), backend.notes, backend.created/seedSeconds; throws on a
 * failure that leaves the figures meaningless (the server died, a seeding check failed).
 */
export async function runBackend(backend, run) {
  const pgDb = backend.pg;
  const extraEnv = pgDb ? { DATABASE_URL: pgDb.dbUrl } : {};
  const probe = pgDb?.probe ?? null;
  const server = await startServer({ name: `rollcall-bench-${backend.key}`, logLevel: 'warn', extraEnv });
  backend.server = server;
  const { cells, notes } = backend;
  try {
    const conn = await createConnection(server, 'benchmark');
    const api = `/scim/v2/${conn.id}`;
    const auth = { authorization: `Bearer ${conn.token}` };
    const origin = server.baseUrl;
    log(`\n=== ${backend.label} ===`);
    log(`Server ${origin} (pid ${server.child.pid}), connection ${conn.id}, database ${pgDb ? `${pgDb.dbName} on ${redact(pgDb.dbUrl)}` : server.dbPath}`);

    const ids = [];
    const userNames = [];
    let next = 1;
    let created = 0;
    backend.seedSeconds = 0;
    const w = {
      randomId: () => ids[(Math.random() * ids.length) | 0],
      randomName: () => userNames[(Math.random() * userNames.length) | 0],
      nextUser: () => next++,
      ids,
      userNames,
    };

    /** POST /Users requests for autocannon, collecting the created users; failed creates' first bodies in `bad`. */
    const postRequests = (bad) => [
      createUserRequest(`${api}/Users`, auth, () => next++, (status, body) => {
        if (status !== 201) {
          if (bad.length < 3) bad.push(`${status} ${String(body).slice(0, 300)}`);
          return;
        }
        const u = JSON.parse(body);
        ids.push(u.id);
        userNames.push(u.userName);
      }),
    ];
    backend.postRequests = postRequests;

    /** Records (note + console) what went wrong in a measurement; `out` is what the server(s) printed meanwhile. */
    const report = (what, r, out, bad = []) => {
      const k = r.pgCounts;
      if (k && (k.rollbacks > 0 || k.deadlocks > 0)) {
        notes.push(`${what}: PostgreSQL counted ${fmtInt(k.rollbacks)} rolled-back transactions and ${fmtInt(k.deadlocks)} deadlocks in the bench database meanwhile (pg_stat_database, approximate).`);
        log(`  Note: ${fmtInt(k.rollbacks)} rollbacks, ${fmtInt(k.deadlocks)} deadlocks in PostgreSQL meanwhile`);
      }
      const p = problems(r);
      if (!p) return false;
      const md = (t) => `\`${t.replace(/\s*\n\s*/g, ' ⏎ ').replace(/`/g, "'")}\``;
      notes.push(`${what}: ${p}.${bad.length ? ` First failed responses: ${bad.map(md).join('; ')}.` : ''}${out ? ` Server output meanwhile: ${md(out)}` : ''}`);
      log(`  WARNING: ${p}`);
      return true;
    };

    const seedTo = async (key, target) => {
      const want = target - created;
      if (want <= 0) return;
      const before = created;
      log(`\nPOST /Users: creating ${fmtInt(want)} users (${fmtInt(before)} → ${fmtInt(target)}) …`);
      const bad = [];
      const mark = server.output().length;
      const r = await load([{ url: origin, connections: SEED_CONNECTIONS, amount: want, requests: postRequests(bad) }], {
        stopAfterS: SEED_TIMEOUT_S,
        pids: [server.child.pid],
        pgProbe: probe,
      });
      const flagged = report(`${backend.label}: POST /Users ${fmtInt(before)} → ${fmtInt(target)}`, r, outputSince(server, mark), bad);
      created = ids.length;
      backend.created = created;
      backend.seedSeconds += r.elapsedS;
      if (created < target) notes.push(`${backend.label}: seeding to ${fmtInt(target)} stopped at ${fmtInt(created)} users${r.elapsedS >= SEED_TIMEOUT_S - 1 ? ` (cut short after ${SEED_TIMEOUT_S} s)` : ''}.`);
      cells[key] = { reqPerSec: (created - before) / r.elapsedS, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, pgCpuUsPerReq: r.pgCpuUsPerReq, flagged: flagged || created < target };
      log(`  ${fmtInt(created - before)} users in ${r.elapsedS.toFixed(1)} s = ${fmtInt((created - before) / r.elapsedS)} users/s, ${fmtLatencyCpu(r)}${probe ? fmtPgCost(r) : ''}`);
    };

    const verify = async () => {
      const res = await fetch(`${origin}${api}/Users?count=1&attributes=userName`, { headers: auth });
      const body = await res.json();
      if (res.status !== 200 || body.totalResults !== created) {
        throw new Error(`after seeding, GET /Users reports totalResults ${body.totalResults} (status ${res.status}), expected ${created}`);
      }
    };

    const measureGet = async (key, label, users, makePath, check) => {
      await check();
      let mark;
      const target = { url: origin, connections: CONNECTIONS, headers: auth, requests: [getRequest(makePath)] };
      const r = await warmThenMeasure([target], { pids: [server.child.pid], pgProbe: probe }, () => (mark = server.output().length));
      const flagged = report(`${backend.label}: ${label} at ${fmtInt(users)} users`, r, outputSince(server, mark));
      cells[key] = { reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, pgCpuUsPerReq: r.pgCpuUsPerReq, flagged, users };
      log(`${label.padEnd(34)} ${fmtInt(users).padStart(8)} users: ${fmtInt(r.reqPerSec)} req/s, ${fmtLatencyCpu(r)}${probe ? fmtPgCost(r) : ''}`);
    };

    for (const size of SIZES) {
      await seedTo(`create:${size}`, size);
      if (server.exitInfo) throw new Error(`the server exited while seeding`);
      if (!created) throw new Error('no user could be created');
      await verify();
      const rss = rssMiB(server.child.pid);
      let store;
      if (pgDb) {
        const [{ bytes }] = (await pgDb.admin.query('select pg_database_size($1)::bigint as bytes', [pgDb.dbName])).rows;
        store = `${backend.label}: store at ${fmtInt(created)} users: database ${(Number(bytes) / 2 ** 20).toFixed(0)} MiB (pg_database_size, ${fmtInt(Math.round(Number(bytes) / created))} B per user), server RSS ${rss ? rss.toFixed(0) : '?'} MiB.`;
      } else {
        const dbMiB = fileSize(server.dbPath) / 2 ** 20;
        const walMiB = fileSize(`${server.dbPath}-wal`) / 2 ** 20;
        store = `${backend.label}: store at ${fmtInt(created)} users: database file ${dbMiB.toFixed(0)} MiB (${fmtInt(Math.round(fileSize(server.dbPath) / created))} B per user) + WAL ${walMiB.toFixed(0)} MiB, server RSS ${rss ? rss.toFixed(0) : '?'} MiB.`;
        // A WAL far larger than the database means checkpoints cannot recycle it (a reader holding a snapshot?).
        if (walMiB > 64 && walMiB > 2 * dbMiB) {
          notes.push(`WARNING: the WAL (${walMiB.toFixed(0)} MiB) is ${(walMiB / Math.max(dbMiB, 1)).toFixed(0)}× the database file at ${fmtInt(created)} users: it is not being checkpointed/reset while the server runs.`);
          log(`  ${notes[notes.length - 1]}`);
        }
      }
      log(`  ${store}`);
      notes.push(store);

      if (!run.baseline) {
        // The baseline serves a real user document as Rollcall returns it.
        const res = await fetch(`${origin}${api}/Users/${ids[0]}`, { headers: auth });
        const doc = await res.text();
        if (res.status !== 200) throw new Error(`GET /Users/{id} answered ${res.status}: ${doc}`);
        run.baseline = await measureBaseline(doc, `${api}/Users/${ids[0]}`, auth);
      }

      log('');
      await measureGet(`get:${size}`, 'GET /Users/{id}', created, () => `${api}/Users/${w.randomId()}`, async () => {
        const res = await fetch(`${origin}${api}/Users/${ids[ids.length - 1]}`, { headers: auth });
        if (res.status !== 200) throw new Error(`GET /Users/{id} answered ${res.status}`);
      });
      await measureGet(
        `filter:${size}`,
        'GET /Users?filter=userName eq "…"',
        created,
        () => filterByUserName(api, w.randomName()),
        async () => {
          const name = userNames[userNames.length - 1];
          const res = await fetch(`${origin}${filterByUserName(api, name)}`, { headers: auth });
          const body = await res.json();
          if (res.status !== 200 || body.totalResults !== 1 || body.Resources?.[0]?.userName !== name) {
            throw new Error(`filter userName eq "${name}" answered ${res.status} with ${JSON.stringify(body).slice(0, 300)}`);
          }
        },
      );
      if (server.exitInfo) throw new Error('the server exited during the GET measurements');
    }
    backend.overallCreate = backend.seedSeconds ? created / backend.seedSeconds : 0;
    if (SIZES.length > 1) cells['create-overall'] = { reqPerSec: backend.overallCreate, p50: null, p99: null, cpuUsPerReq: null, pgCpuUsPerReq: null };

    if (pgDb && SCALE) {
      try {
        backend.scaling = await scalingRun(backend, server, { api, auth, w, report });
      } catch (e) {
        backend.scaling = { failed: e?.message ?? String(e) };
        notes.push(`${backend.label}: the scaling run failed: ${backend.scaling.failed}`);
        log(`Scaling run failed: ${e?.stack ?? e}`);
      }
    }

    for (const op of CPU_PROF) {
      const p = await profileOp(backend, server, conn, op, w, extraEnv);
      if (p) backend.profiles.push(p);
    }
  } catch (e) {
    const out = server.output().trim();
    const exit = server.exitInfo;
    throw new Error(
      `${e?.stack ?? e}\n${exit ? `The server exited (code ${exit.code}, signal ${exit.signal}).\n` : ''}Server output (last part):\n${out.slice(-4000)}`,
    );
  } finally {
    await server.stop({ keepDir: KEEP_DB && !pgDb });
    if (KEEP_DB && !pgDb) log(`Database kept: ${server.dbPath}`);
  }
}
