/** The profiling workload (BENCH_CPU_PROF): one operation against a server run with --cpu-prof. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, startServer } from '../../test/conformance/server-process.mjs';
import { formatSummary, summarizeProfile } from '../cpuprofile-summary.mjs';
import { CONNECTIONS, PROF_RATE, SEED_CONNECTIONS } from '../lib/config.mjs';
import { fmtInt, fmtUs, log } from '../lib/format.mjs';
import { load, problems, warmThenMeasure } from '../lib/load.mjs';
import { createUserRequest, filterByUserName, getRequest } from '../lib/users.mjs';

/**
 * Restart the server on the same database with --cpu-prof, load one operation for
 * BENCH_DURATION seconds (POST: a bounded number of new users), and summarise the profile.
 */
export async function profileOp(backend, server, conn, op, w, extraEnv) {
  const labels = { get: 'GET /Users/{id}', filter: 'GET /Users?filter=userName eq', post: 'POST /Users' };
  log(`\nProfiling ${labels[op]} on ${backend.label} (server restarted with --cpu-prof) …`);
  const dir = server.dir;
  await server.stop({ keepDir: true });
  const profDir = path.join(dir, `prof-${op}`);
  const s2 = await startServer({ dir, logLevel: 'warn', extraEnv, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  try {
    const api = `/scim/v2/${conn.id}`;
    const auth = { authorization: `Bearer ${conn.token}` };
    const base = { url: s2.baseUrl, connections: op === 'post' ? SEED_CONNECTIONS : CONNECTIONS, headers: auth };
    let req;
    if (op === 'get') req = [getRequest(() => `${api}/Users/${w.randomId()}`)];
    else if (op === 'filter') req = [getRequest(() => filterByUserName(api, w.randomName()))];
    else req = [createUserRequest(`${api}/Users`, auth, w.nextUser)];
    let r;
    if (op === 'post') {
      r = await load([{ ...base, amount: 5000, requests: req }], { pids: [s2.child.pid], stopAfterS: 120 });
    } else {
      const rate = PROF_RATE ? { overallRate: PROF_RATE } : {};
      r = await warmThenMeasure([{ ...base, ...rate, requests: req }], { pids: [s2.child.pid] });
    }
    const bad = problems(r);
    if (bad) backend.notes.push(`${backend.label}: ${labels[op]} under the profiler: ${bad}.`);
    log(`  under the profiler: ${fmtInt(r.reqPerSec)} req/s, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req${bad ? ` (${bad})` : ''}`);
  } finally {
    await s2.stop({ keepDir: true });
  }
  const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (!files.length) {
    log('  no .cpuprofile was written (did the server exit cleanly on SIGTERM?)');
    return null;
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(path.join(profDir, files[0]), 'utf8')), { top: 20 });
  try {
    // Keep the raw profile for a closer look (Chrome DevTools, Performance, load profile). .bench-tmp/ is git-ignored.
    const keep = path.join(repoRoot, '.bench-tmp');
    mkdirSync(keep, { recursive: true });
    copyFileSync(path.join(profDir, files[0]), path.join(keep, `bench-${backend.key}-${op}.cpuprofile`));
    log(`  raw profile kept at .bench-tmp/bench-${backend.key}-${op}.cpuprofile`);
  } catch {
    /* best effort */
  }
  log(formatSummary(summary));
  return { op: `${labels[op]} on ${backend.label}`, ...summary };
}
