/** `rollcall webhook …` and `rollcall events`: endpoints, their deliveries, and the events feed. */
import type { Command } from 'commander';
import { fail } from '../scim/errors.js';
import { MAX_FEED_LIMIT } from '../events/feed.js';
import { eventTypesOption, limitOption } from './options.js';
import { print } from './output.js';
import { withRollcall } from './runtime.js';

export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('manage webhook endpoints (per organisation; events are POSTed to them, signed)');
  webhook
    .command('add')
    .description('register an endpoint for an organisation\'s events; prints its id and signing secret (shown only once)')
    .argument('<orgId>', 'organisation id')
    .argument('<url>', 'http(s) URL the events are POSTed to')
    .option('--events <types>', `comma-separated event types (default: all), e.g. user.created,user.deactivated`, eventTypesOption)
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, url: string, opts: { events?: string[]; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const w = await rc.webhooks.add(orgId, { url, events: opts.events });
        print(
          opts.json,
          { id: w.id, url: w.url, events: w.events, secret: w.secret, organizationId: w.organizationId, createdAt: w.createdAt },
          [
            `Webhook added: ${w.id}`,
            `  URL:     ${w.url}`,
            `  Events:  ${w.events.length ? w.events.join(', ') : 'all'}`,
            `  Secret:  ${w.secret}`,
            `The secret is shown only this once; check each delivery's Rollcall-Signature header with it (README: Events and webhooks).`,
          ].join('\n'),
        );
      });
    });
  webhook
    .command('list')
    .description('list an organisation\'s endpoints (secrets are not shown)')
    .argument('<orgId>', 'organisation id')
    .option('--json', 'print a JSON array')
    .action(async (orgId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const list = await rc.webhooks.list(orgId);
        print(
          opts.json,
          list,
          list.length ? list.map((w) => `${w.id}  ${w.url}  ${w.events.length ? w.events.join(',') : 'all events'}`).join('\n') : `No webhooks for organisation ${orgId}.`,
        );
      });
    });
  webhook
    .command('remove')
    .description('remove an endpoint (its delivery record goes with it)')
    .argument('<id>', 'webhook id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        if (!(await rc.webhooks.remove(id))) throw fail('ROLLCALL_CLI_NOT_FOUND', `no webhook with id '${id}'`);
        print(opts.json, { id, removed: true }, `Webhook ${id} removed.`);
      });
    });
  webhook
    .command('deliveries')
    .description('an endpoint\'s deliveries, newest event first: status, attempts, last answer')
    .argument('<id>', 'webhook id')
    .option('--status <status>', 'pending, delivered or failed')
    .option('--limit <n>', 'at most this many (1 to 1000, default 100)', limitOption(1000))
    .option('--json', 'print a JSON array')
    .action(async (id: string, opts: { status?: string; limit?: number; json?: boolean }) => {
      if (opts.status && !['pending', 'delivered', 'failed'].includes(opts.status)) throw fail('ROLLCALL_CLI_BAD_INPUT', `--status must be pending, delivered or failed, not '${opts.status}'`);
      await withRollcall(async (rc) => {
        const list = await rc.webhooks.deliveries(id, { status: opts.status as 'pending' | undefined, limit: opts.limit });
        print(
          opts.json,
          list,
          list.length
            ? list
                .map(
                  (d) =>
                    `${d.sequence}  ${d.eventType}  ${d.eventId}  ${d.status}  attempts ${d.attempts}` +
                    (d.lastStatusCode !== null || d.lastError ? `  last: ${d.lastError ?? d.lastStatusCode}` : '') +
                    (d.nextAttemptAt ? `  next ${d.nextAttemptAt}` : ''),
                )
                .join('\n')
            : 'No deliveries.',
        );
      });
    });
  webhook
    .command('redeliver')
    .description('deliver an event to an endpoint again (with a fresh retry window)')
    .argument('<id>', 'webhook id')
    .argument('<eventId>', 'event id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, eventId: string, opts: { json?: boolean }) => {
      await withRollcall(async (rc) => {
        const d = await rc.webhooks.redeliver(id, eventId);
        print(opts.json, d, `Event ${eventId} queued for delivery to webhook ${id} (the running server sends it).`);
      });
    });

  program
    .command('events')
    .description('print stored events in commit order (the events feed)')
    .option('--after <cursor>', 'continue after this cursor (the `next` of a previous call)')
    .option('--limit <n>', `at most this many (1 to ${MAX_FEED_LIMIT}, default 100)`, limitOption(MAX_FEED_LIMIT))
    .option('--org <id>', 'only this organisation\'s events')
    .option('--json', 'print one JSON object {events, next}')
    .action(async (opts: { after?: string; limit?: number; org?: string; json?: boolean }) => {
      await withRollcall(async (rc) => {
        const page = await rc.events.feed({ after: opts.after, limit: opts.limit, organizationId: opts.org });
        print(
          opts.json,
          page,
          [
            ...page.events.map((e) => `${e.occurredAt}  ${e.type}  org ${e.organizationId ?? '-'} #${e.sequence}  ${e.id}`),
            page.events.length ? `next: ${page.next}` : `No events after this cursor; next: ${page.next}`,
          ].join('\n'),
        );
      });
    });
}
