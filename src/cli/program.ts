/** The `rollcall` command tree: one module per command group. */
import { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerConnectionCommands } from './connections.js';
import { registerSourceCommands } from './sources.js';
import { registerOrganizationCommands } from './organizations.js';
import { registerWebhookCommands } from './webhooks.js';
import { registerSetupLinkCommands } from './setup-links.js';
import { registerMaintenanceCommands } from './maintenance.js';
import { registerBackupCommands, registerOperationCommands } from './operations.js';
import { buildInfo, versionLine } from '../build-info.js';

export function buildCli(): Command {
  const program = new Command();
  // Bad input is one line on stderr (scripts read it); `--help` shows the usage.
  program
    .name('rollcall')
    .description('Self-hosted SCIM 2.0 provisioning server')
    .version(`rollcall ${versionLine(buildInfo())}`, '-V, --version', 'print the version (and the commit when known)')
    .configureOutput({ outputError: (text, write) => write(`rollcall: ${text.replace(/^error: /, '').trim()} (see --help)\n`) });
  registerServe(program);
  registerConnectionCommands(program);
  registerSourceCommands(program);
  registerOrganizationCommands(program);
  registerMaintenanceCommands(program);
  registerWebhookCommands(program);
  registerSetupLinkCommands(program);
  registerOperationCommands(program);
  registerBackupCommands(program);
  return program;
}
