/** The outbox cost workload: POST /Users on SQLite with ROLLCALL_EVENTS off vs on. */
import { OUTBOX_USERS } from '../lib/config.mjs';
import { createCostRun } from './create-cost.mjs';

/** What storing events costs POST /Users (the provisioning log off in both, so only events differ). */
export function outboxRun() {
  return createCostRun({ name: 'outbox', what: 'Outbox', variable: 'ROLLCALL_EVENTS', fixed: { ROLLCALL_REQUEST_LOG: 'off' }, users: OUTBOX_USERS });
}
