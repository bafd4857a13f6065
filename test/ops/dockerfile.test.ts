/**
 * The Dockerfile, replayed outside a container (no container runtime runs here):
 * its stages' COPY, RUN, ENV, WORKDIR, USER, CMD and HEALTHCHECK lines run in a
 * fresh directory per stage, as an unprivileged user, and the server they start
 * must answer /readyz. What a replay cannot do the same way, and does instead:
 *   - absolute paths of the image (/app, /data) live under the stage's directory;
 *   - the image's user `node` is the unprivileged user running the replay;
 *   - RUN lines installing system packages (apt-get) are the machine's job;
 *   - PORT=0 instead of 8080, so the replay never collides with a running server;
 *   - the host's Node stands in for the FROM image's.
 * The build's `npm ci` compiles better-sqlite3, so this takes a few minutes.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../support/databases.js';
import { waitFor } from '../support/wait.js';

const repo = path.resolve(__dirname, '../..');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  steps: Instruction[];
}

/** Instructions per stage, continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`cannot read Dockerfile line: ${line}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      stages.push({ name: /\sAS\s+(\S+)/i.exec(m[2])?.[1] ?? String(stages.length), steps: [] });
      continue;
    }
    if (!stages.length) continue; // ARG before the first FROM
    stages[stages.length - 1].steps.push({ op, args: m[2].replace(/\s+/g, ' ') });
  }
  return stages;
}

/** ENV's `K=V K2=V2` (values without spaces, as ours are). */
function envPairs(args: string): [string, string][] {
  return args.split(' ').map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

const asRoot = process.getuid?.() === 0;
/** The unprivileged user: nobody when the tests run as root (CI), else whoever runs them. */
const uid = asRoot ? 65534 : process.getuid!();
const gid = asRoot ? 65534 : process.getgid!();

/**
 * The machine's npm settings that a fresh HOME would lose: where Node's headers
 * are for node-gyp (no download from nodejs.org) and which registry to use.
 */
function npmSetting(name: string): string | undefined {
  const r = spawnSync('npm', ['config', 'get', name], { encoding: 'utf8' });
  const v = r.stdout?.trim();
  return r.status === 0 && v && v !== 'undefined' && v !== 'null' ? v : undefined;
}
const npmEnv: NodeJS.ProcessEnv = {};
for (const name of ['nodedir', 'registry', 'cafile']) {
  const v = npmSetting(name);
  if (v) npmEnv[`npm_config_${name}`] = v;
}
// How this machine reaches the registry (a proxy, its CA): a build host would be told the same.
for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy']) {
  if (process.env[name]) npmEnv[name] = process.env[name];
}

/**
 * Runs a shell command without blocking this worker: `npm ci` takes minutes, and
 * a synchronous child would starve Vitest's worker RPC (it times out after 60 s).
 */
function run(command: string, options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number }): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-256 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-dockerfile-'));
let server: ReturnType<typeof spawn> | undefined;

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(workRoot, { recursive: true, force: true });
});

// ROLLCALL_SKIP_DOCKERFILE_REPLAY=1: CI replays it once, in its Node 24 step, not in every Node's run.
describe.skipIf(onPostgres || process.env.ROLLCALL_SKIP_DOCKERFILE_REPLAY === '1')('Dockerfile, replayed outside a container', () => {
  it('builds, starts as an unprivileged user and answers /readyz and its HEALTHCHECK', async () => {
    const stages = parseDockerfile(fs.readFileSync(path.join(repo, 'Dockerfile'), 'utf8'));
    expect(stages.map((s) => s.name)).toEqual(['build', '1']);
    const home = path.join(workRoot, 'home');
    fs.mkdirSync(home);
    const roots = new Map<string, string>();
    let started: { cmd: string[]; env: NodeJS.ProcessEnv; cwd: string; healthcheck: string[] } | undefined;

    for (const stage of stages) {
      const root = path.join(workRoot, `stage-${stage.name}`);
      fs.mkdirSync(root);
      roots.set(stage.name, root);
      const inStage = (p: string, cwd: string) => (path.isAbsolute(p) ? path.join(root, p) : path.join(cwd, p));
      /** The image's absolute paths (/app, /data) under this stage's directory; the image's user is ours. */
      const mapped = (s: string) => s.replace(/(^|[\s:=])\/(app|data)\b/g, (_m, pre: string, dir: string) => `${pre}${root}/${dir}`).replace(/\bnode:node\b/g, `${uid}:${gid}`);
      let cwd = root;
      let user = 'root';
      // The Node that runs these tests first (CI also runs them on a fetched Node 24).
      const env: NodeJS.ProcessEnv = { PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter), HOME: home, npm_config_cache: path.join(home, '.npm'), npm_config_update_notifier: 'false', CI: 'true', ...npmEnv };
      const args: Record<string, string> = {};
      for (const { op, args: a } of stage.steps) {
        if (op === 'ARG') {
          const [k, v = ''] = a.split('=');
          args[k] = v;
        } else if (op === 'ENV') {
          for (const [k, v] of envPairs(a)) env[k] = mapped(v.replace(/\$\{(\w+)\}/g, (_m, n: string) => args[n] ?? ''));
        } else if (op === 'WORKDIR') {
          cwd = inStage(a, cwd);
          fs.mkdirSync(cwd, { recursive: true });
        } else if (op === 'COPY') {
          const parts = a.split(' ');
          const from = parts[0].startsWith('--from=') ? roots.get(parts.shift()!.slice('--from='.length)) : undefined;
          const dest = parts.pop()!;
          for (const src of parts) {
            const source = from ? path.join(from, src) : path.join(repo, src);
            const target = dest.endsWith('/') || parts.length > 1 ? path.join(inStage(dest, cwd), path.basename(src)) : inStage(dest, cwd);
            fs.cpSync(source, target, { recursive: true, verbatimSymlinks: true });
          }
        } else if (op === 'RUN') {
          const commands = a
            .split('&&')
            .map((c) => c.trim())
            .filter((c) => !/^(apt-get|rm -rf \/var\/lib\/apt)/.test(c));
          if (!commands.length) continue;
          if (asRoot) spawnSync('chown', ['-R', `${uid}:${gid}`, workRoot]);
          const r = await run(mapped(commands.join(' && ')), { cwd, env, uid: user === 'root' && !asRoot ? undefined : uid, gid: user === 'root' && !asRoot ? undefined : gid });
          expect(r.status, `RUN ${a}\n${r.output}`).toBe(0);
        } else if (op === 'USER') {
          user = a;
        } else if (op === 'CMD') {
          const healthcheck = stage.steps.find((s) => s.op === 'HEALTHCHECK')!.args.replace(/^.*?CMD /, '');
          started = { cmd: JSON.parse(a) as string[], env: { ...env }, cwd, healthcheck: JSON.parse(healthcheck) as string[] };
        }
      }
      if (stage.name !== 'build') expect(user, 'the image runs as an unprivileged user').toBe('node');
    }

    // The final image holds no compiler output it does not need: no dev dependencies.
    const runRoot = roots.get('1')!;
    expect(fs.existsSync(path.join(runRoot, 'app/node_modules/vitest'))).toBe(false);
    expect(fs.existsSync(path.join(runRoot, 'app/dist/cli.js'))).toBe(true);
    expect(started!.env.HOST).toBe('0.0.0.0');

    if (asRoot) spawnSync('chown', ['-R', `${uid}:${gid}`, workRoot]);
    const env = { ...started!.env, PORT: '0' };
    server = spawn(started!.cmd[0], started!.cmd.slice(1), { cwd: started!.cwd, env, uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    // waitFor returns only a truthy value.
    const url = (await waitFor(() => {
      if (server!.exitCode !== null) throw new Error(`the server exited: ${out}`);
      return /listening on (http:\/\/\S+)/.exec(out)?.[1];
    }, 'the server to start', 60_000)) as string;
    const port = new URL(url).port;
    expect(new URL(url).hostname).toBe('0.0.0.0');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    // The database is where the image's volume is.
    expect(fs.existsSync(path.join(runRoot, 'data/rollcall.db'))).toBe(true);
    // Its HEALTHCHECK command passes against it.
    const hc = spawnSync(started!.healthcheck[0], started!.healthcheck.slice(1), { env: { ...env, PORT: port }, encoding: 'utf8' });
    expect(hc.status, hc.stderr).toBe(0);
  }, 900_000);
});
