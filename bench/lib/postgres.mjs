/**
 * PostgreSQL for the bench: which server (BENCH_PG_URL, ROLLCALL_TEST_PG_URL or a
 * throwaway cluster), a fresh database on it, and the CPU of its backends.
 */
import pg from 'pg';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, PG_CLUSTER_SCRIPT } from './config.mjs';
import { log, redact } from './format.mjs';
import { cpuSeconds } from './system.mjs';

/**
 * The PostgreSQL server to use: { adminUrl, source, stop? }; throws with the reason
 * when there is none. A throwaway cluster is started (and stopped by stop()) only
 * when neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set.
 */
export async function resolvePostgres() {
  if (env.BENCH_PG_URL) return { adminUrl: env.BENCH_PG_URL, source: 'BENCH_PG_URL' };
  if (env.ROLLCALL_TEST_PG_URL) return { adminUrl: env.ROLLCALL_TEST_PG_URL, source: 'ROLLCALL_TEST_PG_URL' };
  if (!existsSync(PG_CLUSTER_SCRIPT)) throw new Error('neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set, and there is no scripts/pg-test-cluster.sh to start a cluster');
  log('\nPostgreSQL: neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set; starting a throwaway cluster (scripts/pg-test-cluster.sh start) …');
  // Its own state file, so a cluster someone else started with the script is neither refused nor touched.
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollcall-bench-pg-state-'));
  const scriptEnv = { ...env, ROLLCALL_PG_TEST_STATE: path.join(stateDir, 'cluster.env') };
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile('bash', [PG_CLUSTER_SCRIPT, 'start'], { env: scriptEnv, timeout: 180_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? err.signal ?? 'error') : 0, stdout, stderr }),
    );
  });
  const url = /^export ROLLCALL_TEST_PG_URL=(\S+)$/m.exec(stdout)?.[1];
  const dir = /^export ROLLCALL_TEST_PG_DIR=(\S+)$/m.exec(stdout)?.[1];
  const stopSync = () => {
    if (!dir) return;
    try {
      execFileSync('bash', [PG_CLUSTER_SCRIPT, 'stop', dir], { env: scriptEnv, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    } catch (e) {
      console.error(`scripts/pg-test-cluster.sh stop ${dir} failed: ${e.stderr?.toString().trim() || e.message}`);
    }
  };
  if (code !== 0 || !url) {
    stopSync();
    rmSync(stateDir, { recursive: true, force: true });
    const why = stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${code}`;
    throw new Error(`neither BENCH_PG_URL nor ROLLCALL_TEST_PG_URL is set, and scripts/pg-test-cluster.sh start failed: ${why}`);
  }
  process.once('exit', stopSync); // Ctrl-C: server-process.mjs turns it into an exit
  log(`  cluster ready: ${url} (${dir})`);
  return {
    adminUrl: url,
    source: 'a throwaway cluster started by scripts/pg-test-cluster.sh',
    stop: () => {
      process.removeListener('exit', stopSync);
      stopSync();
      rmSync(stateDir, { recursive: true, force: true });
      log(`PostgreSQL: throwaway cluster stopped (${dir})`);
    },
  };
}

/** The URL of database `name` on the server of `adminUrl` (same credentials and parameters). */
function databaseUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Connects to the admin URL, records the server's settings and creates a fresh
 * database for the bench. Resolves to { admin (an open pg.Client), dbName, dbUrl, info,
 * probe (PostgreSQL backend CPU, or null with probeWhy) }.
 */
export async function preparePostgres(adminUrl) {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  admin.on('error', (e) => log(`PostgreSQL admin connection: ${e.message}`));
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`cannot connect to ${redact(adminUrl)}: ${e.message}`);
  }
  try {
    const q = async (sql, params) => (await admin.query(sql, params)).rows;
    const [{ v }] = await q(`select current_setting('server_version') as v`);
    const settings = {};
    for (const name of ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections']) {
      settings[name] = (await q('select current_setting($1) as s', [name]))[0].s;
    }
    const dbName = `rollcall_bench_${randomBytes(5).toString('hex')}`;
    await admin.query(`create database ${dbName}`);
    // Backend CPU from /proc works only when PostgreSQL runs on this machine, in this PID namespace.
    let probe = null;
    let probeWhy = '';
    const [{ pid }] = await q('select pg_backend_pid() as pid');
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* not visible */
    }
    if (comm.startsWith('postgres') && cpuSeconds(pid) != null) probe = pgCpuProbe(admin, dbName);
    else probeWhy = 'PostgreSQL does not run on this machine (its backends are not visible in /proc)';
    return { admin, dbName, dbUrl: databaseUrl(adminUrl, dbName), version: v, settings, probe, probeWhy };
  } catch (e) {
    await admin.end().catch(() => {});
    throw new Error(`cannot prepare a database on ${redact(adminUrl)}: ${e.message}`);
  }
}

/**
 * CPU of the PostgreSQL backends serving the bench database (pids from pg_stat_activity,
 * CPU from /proc/<pid>/stat). A backend that appears during a measurement counts whole;
 * one that exits during it is lost (idle pool connections closing, a few ms at most).
 * Shared background processes (WAL writer, checkpointer) are not counted.
 */
function pgCpuProbe(admin, dbName) {
  return {
    async snapshot() {
      const { rows } = await admin.query('select pid from pg_stat_activity where datname = $1', [dbName]);
      const cpu = new Map();
      for (const { pid } of rows) {
        const c = cpuSeconds(pid);
        if (c != null) cpu.set(pid, c);
      }
      const db = (await admin.query('select xact_commit::bigint as c, xact_rollback::bigint as r, deadlocks::bigint as d from pg_stat_database where datname = $1', [dbName])).rows[0];
      return { cpu, commits: Number(db?.c ?? 0), rollbacks: Number(db?.r ?? 0), deadlocks: Number(db?.d ?? 0) };
    },
    delta(a, b) {
      let s = 0;
      for (const [pid, c] of b.cpu) s += c - (a.cpu.get(pid) ?? 0);
      return s;
    },
    /**
     * Transactions (each autocommitted statement counts as one), rollbacks and deadlocks
     * between two snapshots, from pg_stat_database: approximate, as backends report them
     * at most once a second.
     */
    counts: (a, b) => ({ xacts: b.commits + b.rollbacks - a.commits - a.rollbacks, rollbacks: b.rollbacks - a.rollbacks, deadlocks: b.deadlocks - a.deadlocks }),
  };
}
