import { configDefaults, defineConfig } from 'vitest/config';

/**
 * One Vitest project per database backend, named after it (`sqlite`, `postgres`),
 * so the output says which backend a failure is on. Each sets
 * ROLLCALL_TEST_DATABASE for its tests (test/support/databases.ts) and for the
 * processes they start.
 *
 *   ROLLCALL_TEST_DATABASES=sqlite,postgres   comma list of backends to run
 *   ROLLCALL_TEST_PG_URL=postgres://…         PostgreSQL admin URL (a fresh database per test app)
 *
 * Default: `sqlite`; `sqlite,postgres` when ROLLCALL_TEST_PG_URL is set (and, for
 * older habits, only ROLLCALL_TEST_DATABASE=<backend> when that alone is set).
 * `--project postgres` runs one of the selected projects.
 */
const BACKENDS = ['sqlite', 'postgres'] as const;
/** Files that must run with nothing else running (see the projects below). */
const ALONE = 'test/**/*.alone.test.ts';
type Backend = (typeof BACKENDS)[number];

function testDatabases(env = process.env): Backend[] {
  const raw = env.ROLLCALL_TEST_DATABASES?.trim() || env.ROLLCALL_TEST_DATABASE?.trim() || (env.ROLLCALL_TEST_PG_URL ? 'sqlite,postgres' : 'sqlite');
  const names = [...new Set(raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))];
  const unknown = names.filter((n) => !(BACKENDS as readonly string[]).includes(n));
  if (unknown.length || !names.length) {
    throw new Error(`ROLLCALL_TEST_DATABASES='${raw}': expected a comma list of ${BACKENDS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return names as Backend[];
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native better-sqlite3 and real ports: separate processes are the safe pool.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: testDatabases().flatMap((backend, i) => {
      const project = {
        extends: true,
        test: {
          name: backend,
          env: { ROLLCALL_TEST_DATABASE: backend },
          exclude: [...configDefaults.exclude, ALONE],
          ...(backend === 'postgres'
            ? {
                // Pure unit tests (parser, evaluator, PATCH, policies) never touch a database.
                exclude: [...configDefaults.exclude, ALONE, 'test/unit/**'],
                // Fails the run at once when ROLLCALL_TEST_PG_URL is missing or unreachable.
                globalSetup: ['test/support/pg-global-setup.ts'],
              }
            : {}),
        },
      };
      // Tests that time latency (`*.alone.test.ts`, e.g. the fairness test) run after
      // every other project, one backend at a time, so other test files' CPU does
      // not show up as their latency.
      // Not `extends`: the root's include would be merged into this one.
      const alone = {
        test: {
          pool: 'forks' as const,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          name: `${backend}-alone`,
          env: { ROLLCALL_TEST_DATABASE: backend },
          include: [ALONE],
          sequence: { groupOrder: i + 1 },
          ...(backend === 'postgres' ? { globalSetup: ['test/support/pg-global-setup.ts'] } : {}),
        },
      };
      return [project, alone];
    }),
  },
});
