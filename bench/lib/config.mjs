/**
 * The bench's settings, read once from the environment (see the list in bench/run.mjs).
 * Invalid BENCH_USERS or BENCH_BACKENDS end the process here, before anything starts.
 */
import path from 'node:path';
import { repoRoot } from '../../test/conformance/server-process.mjs';

export const env = process.env;
// The bench picks every server's database itself (DATABASE_URL); the test harness's backend switch must not.
delete env.ROLLCALL_TEST_DATABASE;

export const SIZES = (env.BENCH_USERS ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim().replace(/_/g, '')))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
export const BACKEND_LABELS = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
export const BACKENDS = [
  ...new Set(
    (env.BENCH_BACKENDS ?? 'sqlite,postgres')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .map((s) => (s === 'pg' || s === 'postgresql' ? 'postgres' : s))
      .filter(Boolean),
  ),
];
export const DURATION = posInt(env.BENCH_DURATION, 10);
export const CONNECTIONS = posInt(env.BENCH_CONNECTIONS, 20);
export const SEED_CONNECTIONS = posInt(env.BENCH_SEED_CONNECTIONS, 20);
export const SEED_TIMEOUT_S = posInt(env.BENCH_SEED_TIMEOUT, 420);
export const SCALE = env.BENCH_SCALE !== '0';
export const SCALE_USERS = posInt(env.BENCH_SCALE_USERS, 10000);
export const KEEP_DB = env.BENCH_KEEP_DB === '1';
export const OUTBOX = env.BENCH_OUTBOX !== '0';
export const OUTBOX_USERS = posInt(env.BENCH_OUTBOX_USERS, 20000);
export const OUTBOX_ROUNDS = 2;
export const REQUEST_LOG = env.BENCH_REQUEST_LOG !== '0';
export const RATE = env.BENCH_RATE !== '0';
export const RATE_ROUNDS = 2;
export const RATE_USERS = 2000;
export const RATE_LIMIT_ON = 100_000_000; // per minute: counted, never reached by this load
export const TARGET_OUTBOX_COST = 0.2; // issue 5: the outbox costs at most 20% of POST /Users throughput
export const TARGET_REQUEST_LOG_COST = 0.1; // issue 11: the provisioning log costs at most 10% of POST /Users throughput
export const WARMUP_S = 2;
// The Entra ID-shaped cycle (workloads/cycle.mjs, issue 14).
export const CYCLE = env.BENCH_CYCLE !== '0';
export const MAIN = env.BENCH_MAIN !== '0';
export const GOOGLE = env.BENCH_GOOGLE !== '0';
export const CYCLE_USERS = posInt(env.BENCH_CYCLE_USERS, 2000);
export const CYCLE_GROUPS = posInt(env.BENCH_CYCLE_GROUPS, 10);
export const CYCLE_IN_FLIGHT = (env.BENCH_CYCLE_IN_FLIGHT ?? '4,32')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
export const CYCLE_SINGLE_CREATES = posInt(env.BENCH_CYCLE_SINGLE_CREATES, 500);
export const CYCLE_KILL_USERS = Number(env.BENCH_CYCLE_KILL_USERS) > 0 ? Math.floor(Number(env.BENCH_CYCLE_KILL_USERS)) : 0;
// userName eq at a million users (workloads/lookup-scale.mjs, issue 14); 0 skips it.
export const LOOKUP_USERS = env.BENCH_LOOKUP_USERS === '0' ? 0 : posInt(env.BENCH_LOOKUP_USERS?.replace(/_/g, ''), 1_000_000);
export const LOOKUP_BASE = posInt(env.BENCH_LOOKUP_BASE, 10_000);
export const LOOKUP_CONNECTIONS = posInt(env.BENCH_LOOKUP_CONNECTIONS, 4);
export const TARGET_LOOKUP_P50_MS = 2;
export const TARGET_LOOKUP_GROWTH = 1.5;
// Where a write's time goes (workloads/write-budget.mjs, issue 14).
export const BUDGET = env.BENCH_BUDGET !== '0';
export const BUDGET_CREATES = posInt(env.BENCH_BUDGET_CREATES, 2000);
export const TARGET_CYCLE_SHARE = { sqlite: 0.8, postgres: 0.6 }; // issue 14, at 4 in flight
export const TARGET_SINGLE_CREATE_P50_MS = 1.5; // issue 14, SQLite
export const PROF_RATE = Number(env.BENCH_PROF_RATE) > 0 ? Number(env.BENCH_PROF_RATE) : 0;
// BENCH_CPU_PROF: 1 (= get) or a comma list of get, filter, post.
export const CPU_PROF = (env.BENCH_CPU_PROF ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .map((s) => (s === '1' || s === 'true' ? 'get' : s))
  .filter((s) => ['get', 'filter', 'post'].includes(s));
export const DOCS = path.join(repoRoot, 'docs', 'benchmarks.md');
export const PG_CLUSTER_SCRIPT = path.join(repoRoot, 'scripts', 'pg-test-cluster.sh');

export const TARGET_CREATE_PER_S = 3000;
export const TARGET_GET_RATIO = 0.5;
export const TARGET_FILTER_GROWTH = 1.5; // "about the same": p50 and p99 at the largest size within 1.5x of the smallest

function posInt(v, def) {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : def;
}
if (!SIZES.length) {
  console.error('BENCH_USERS must list positive integers, e.g. 10000,100000');
  process.exit(2);
}
const unknownBackends = BACKENDS.filter((b) => !BACKEND_LABELS[b]);
if (!BACKENDS.length || unknownBackends.length) {
  console.error(`BENCH_BACKENDS must list sqlite and/or postgres${unknownBackends.length ? `, not ${unknownBackends.join(', ')}` : ''}`);
  process.exit(2);
}
