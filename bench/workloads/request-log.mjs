/** The provisioning log's cost: POST /Users on SQLite with ROLLCALL_REQUEST_LOG off vs on (events on in both). */
import { OUTBOX_USERS } from '../lib/config.mjs';
import { createCostRun } from './create-cost.mjs';

export function requestLogRun() {
  return createCostRun({ name: 'request-log', what: 'Provisioning log', variable: 'ROLLCALL_REQUEST_LOG', fixed: { ROLLCALL_EVENTS: 'on' }, users: OUTBOX_USERS });
}
