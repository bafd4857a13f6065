/**
 * A Vitest reporter that prints one line of counts per project, i.e. per database
 * backend (vitest.config.ts names the projects `sqlite` and `postgres`):
 *
 *   sqlite: 790 passed, 0 failed (37 files)
 *   postgres: 432 passed, 0 failed, 32 skipped (33 files)
 *
 * Used by .ci/run next to the default and JSON reporters (the JSON report does not
 * say which project a test belongs to):
 *   npx vitest run --reporter=default --reporter=./test/support/backend-summary-reporter.ts
 */
import type { Reporter, TestModule } from 'vitest/node';

interface Counts {
  files: number;
  brokenFiles: number;
  passed: number;
  failed: number;
  skipped: number;
}

export default class BackendSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byProject = new Map<string, Counts>();
    for (const m of testModules) {
      const name = m.project.name || '(default)';
      let c = byProject.get(name);
      if (!c) byProject.set(name, (c = { files: 0, brokenFiles: 0, passed: 0, failed: 0, skipped: 0 }));
      c.files++;
      // A file that failed outside any test (import error, failing beforeAll) counts as failed too.
      if (m.state() === 'failed' && m.errors().length) c.brokenFiles++;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') c.passed++;
        else if (state === 'failed') c.failed++;
        else c.skipped++;
      }
    }
    if (!byProject.size) return;
    const lines = [...byProject].map(([name, c]) => {
      const skipped = c.skipped ? `, ${c.skipped} skipped` : '';
      const broken = c.brokenFiles ? `, ${c.brokenFiles} failed to run` : '';
      return `  ${name}: ${c.passed} passed, ${c.failed} failed${skipped} (${c.files} files${broken})`;
    });
    process.stdout.write(`\nTests per database backend:\n${lines.join('\n')}\n`);
  }
}
