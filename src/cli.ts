#!/usr/bin/env -S node --max-semi-space-size=2 --optimize-for-size
/**
 * `rollcall` command line: serve, org, connection, token, purge, import, webhook,
 * events, admin-token (the commands are in cli/). Commands that change data work
 * while the server runs on the same database.
 */
import { buildCli } from './cli/program.js';
import { isRollcallError } from './scim/errors.js';

async function main() {
  try {
    await buildCli().parseAsync(process.argv);
  } catch (e) {
    // Refusals (bad input, unknown ids, configuration) are one line; anything else is a bug with its stack.
    const known = isRollcallError(e);
    process.stderr.write(`rollcall: ${known ? (e as Error).message : `unexpected error: ${(e as Error)?.stack ?? e}`}\n`);
    process.exit(1);
  }
}

void main();
