// Writes dist/build-info.json with the commit being built, when this is a git
// checkout; src/build-info.ts reads it so an installed build still knows its commit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let commit;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // no git or not a checkout: the build knows no commit (ROLLCALL_COMMIT may say it)
}
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/build-info.json', JSON.stringify(commit ? { commit } : {}) + '\n');
