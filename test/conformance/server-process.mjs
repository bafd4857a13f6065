/**
 * Start and stop a real Rollcall server (`node dist/cli.js serve`) in a child
 * process on a fresh database, and create connections through the CLI.
 * Shared by the conformance runner (test/conformance/run-newman.mjs) and the
 * benchmark (bench/run.mjs). Needs `npm run build` to have produced dist/.
 *
 * The database follows the test backend (test/support/fresh-database.mjs): a
 * SQLite file `rollcall.db` in the server's directory by default, or with
 * ROLLCALL_TEST_DATABASE=postgres a fresh database on ROLLCALL_TEST_PG_URL whose
 * name is recorded in the directory (DATABASE_FILE), so a server restarted on the
 * same directory finds it again; it is dropped when the directory is removed.
 */
import { spawn, execFile } from 'node:child_process';
import fs, { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPgDatabase, dropPgDatabase, testDatabase } from '../support/fresh-database.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

/**
 * The node flags the server ships with (`npm start`; the same in the bin's shebang,
 * the Dockerfile and the systemd unit: test/ops/node-flags.test.ts): tests and
 * benchmarks measure the server as it is run. Read from package.json's start script.
 */
export const SHIPPED_NODE_ARGS = (() => {
  const start = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts.start;
  const m = /^node((?: --[^ ]+)*) dist\/cli\.js serve$/.exec(start);
  if (!m) throw new Error(`package.json's start script is not "node [--flags] dist/cli.js serve": ${start}`);
  return m[1].split(' ').filter(Boolean);
})();

const LISTENING = /Rollcall .*SCIM server listening on (https?:\/\/\S+)/;

// Ctrl-C or a SIGTERM to the runner must not leave servers behind: turn the signal
// into a normal exit so the 'exit' hooks below kill the children.
let signalsHooked = false;
function hookSignals() {
  if (signalsHooked) return;
  signalsHooked = true;
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}
const MAX_CAPTURE = 256 * 1024;

/** On PostgreSQL: `{ "name": …, "url": … }` of the server directory's database. */
const DATABASE_FILE = 'rollcall-database.json';

/**
 * The DATABASE_URL for a server directory: its SQLite file, or on PostgreSQL the
 * database recorded in it (created now when the directory has none yet).
 */
async function databaseFor(dir) {
  if (testDatabase() !== 'postgres') return { url: `sqlite:${path.join(dir, 'rollcall.db')}` };
  const marker = path.join(dir, DATABASE_FILE);
  if (existsSync(marker)) return JSON.parse(fs.readFileSync(marker, 'utf8'));
  const created = await createPgDatabase();
  fs.writeFileSync(marker, JSON.stringify(created));
  return created;
}

/** Removes a server directory and drops the PostgreSQL database recorded in it, if any. */
async function removeDir(dir) {
  const marker = path.join(dir, DATABASE_FILE);
  const pgName = existsSync(marker) ? JSON.parse(fs.readFileSync(marker, 'utf8')).name : undefined;
  await rm(dir, { recursive: true, force: true });
  if (pgName) await dropPgDatabase(pgName);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function appendCapped(buf, chunk) {
  const s = buf + chunk;
  return s.length > MAX_CAPTURE ? s.slice(s.length - MAX_CAPTURE) : s;
}

/**
 * Start `rollcall serve` on a fresh temporary database.
 * Resolves to { baseUrl, port, env, dir, databaseUrl, dbPath (the SQLite file),
 * child, output(), exited, stop() }.
 * The chosen port is passed as PORT and PUBLIC_URL so resource locations are
 * real URLs; if it was taken in between, another port is tried.
 */
export async function startServer({ name = 'rollcall', logLevel = 'warn', extraEnv = {}, nodeArgs = SHIPPED_NODE_ARGS, startTimeoutMs = 30_000, dir: givenDir } = {}) {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  hookSignals();
  // A given dir (holding rollcall.db) is reused and never removed; otherwise a fresh temp dir is made and removed on stop.
  const ownsDir = !givenDir;
  const dir = givenDir ?? (await mkdtemp(path.join(os.tmpdir(), `${name}-`)));
  // A DATABASE_URL in extraEnv wins: then no database is made here (none to leak).
  let database;
  try {
    database = extraEnv.DATABASE_URL ? { url: extraEnv.DATABASE_URL } : await databaseFor(dir);
  } catch (e) {
    if (ownsDir) await removeDir(dir);
    throw e;
  }
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const env = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: logLevel,
      ...extraEnv,
    };
    try {
      return await launch(env, dir, ownsDir, nodeArgs, startTimeoutMs);
    } catch (e) {
      lastError = e;
      if (!/EADDRINUSE|cannot listen/.test(String(e.message))) break;
    }
  }
  if (ownsDir) await removeDir(dir);
  throw lastError;
}

function launch(env, dir, ownsDir, nodeArgs, startTimeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, cliPath, 'serve'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let started = false;
    let exitInfo = null;
    const exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        exitInfo = { code, signal };
        res(exitInfo);
      });
    });
    // Never leave a server behind if this process dies first. (A PostgreSQL test
    // database cannot be dropped synchronously here; it is left on the test server.)
    const killOnExit = () => {
      try {
        child.kill('SIGKILL');
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
      } catch {
        /* already gone */
      }
    };
    process.once('exit', killOnExit);

    const onData = (chunk) => {
      out = appendCapped(out, chunk.toString());
      if (started) return;
      const m = LISTENING.exec(out);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      const baseUrl = m[1].replace(/\/+$/, '');
      const handle = {
        baseUrl,
        port: Number(new URL(baseUrl).port),
        env,
        dir,
        child,
        exited,
        output: () => out,
        get exitInfo() {
          return exitInfo;
        },
        databaseUrl: env.DATABASE_URL,
        dbPath: path.join(dir, 'rollcall.db'),
        stop: async ({ keepDir = !ownsDir } = {}) => {
          if (!exitInfo) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(t);
          }
          process.removeListener('exit', killOnExit);
          if (!keepDir) await removeDir(dir);
          return exitInfo;
        },
      };
      resolve(handle);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      if (started) return;
      child.kill('SIGKILL');
      reject(new Error(`server did not print its listening line within ${startTimeoutMs} ms; output:\n${out}`));
    }, startTimeoutMs);
    exited.then(({ code, signal }) => {
      if (started) return;
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}); output:\n${out}`));
    });
    child.once('error', (e) => {
      if (started) return;
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * `rollcall connection create --name NAME [--settings FILE] --json` against the
 * server's database; resolves to the parsed object.
 */
export function createConnection(server, name, settings) {
  const args = [cliPath, 'connection', 'create', '--name', name, '--json'];
  if (settings) {
    const file = path.join(server.dir, `settings-${Date.now()}.json`);
    fs.writeFileSync(file, JSON.stringify(settings));
    args.push('--settings', file);
  }
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: server.dir, env: server.env, timeout: 30_000, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`connection create failed: ${err.message}\n${stdout}${stderr}`));
        const line = stdout
          .trim()
          .split('\n')
          .reverse()
          .find((l) => l.trim().startsWith('{'));
        let conn;
        try {
          conn = JSON.parse(line ?? '');
        } catch {
          return reject(new Error(`connection create printed no JSON object:\n${stdout}${stderr}`));
        }
        if (!conn.id || !conn.token || !conn.scimUrl) {
          return reject(new Error(`connection create output lacks id/token/scimUrl: ${line}`));
        }
        resolve(conn);
      },
    );
  });
}
