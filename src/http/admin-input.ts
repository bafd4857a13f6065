/**
 * The admin API's input: zod schemas for bodies and queries, and the helpers
 * that turn what does not fit into one catalogue error naming the field.
 */
import { z } from 'zod';
import { fail } from '../scim/errors.js';
import { MAX_FEED_LIMIT } from '../events/feed.js';
import { MAX_REQUEST_PAGE, STATUS_FILTER } from '../directory/provisioning-log.js';
import { MAX_BROWSE_PAGE } from '../directory/browse.js';

export const bad = (message: string) => fail('ROLLCALL_ADMIN_BAD_INPUT', message);
export const notFound = (message: string) => fail('ROLLCALL_ADMIN_NOT_FOUND', message);

/** zod's first complaint as one sentence naming the field. */
export function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length ? `'${issue.path.join('.')}'` : what;
  if (issue.code === 'unrecognized_keys') throw bad(`${what} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`);
  throw bad(`${where}: ${issue.message}`);
}

const intParam = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `'${name}' must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `'${name}' must be a whole number from ${min} to ${max}`);

export const WebhookBody = z
  .object({
    url: z.string({ required_error: 'required: an absolute http(s) URL', invalid_type_error: 'must be a string' }),
    events: z.array(z.string({ invalid_type_error: 'must be event type names' }), { invalid_type_error: 'must be an array of event types' }).optional(),
  })
  .strict();

export const EventsQuery = z
  .object({
    after: z.string().optional(),
    limit: intParam('limit', 1, MAX_FEED_LIMIT).optional(),
    organizationId: z.string().min(1).max(200).optional(),
  })
  .strict();

export const DeliveriesQuery = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
    limit: intParam('limit', 1, 1000).optional(),
  })
  .strict();

const name = (what: string) => z.string({ required_error: `required: the ${what}'s name`, invalid_type_error: 'must be a string' }).min(1, 'must not be empty').max(200);
const plan = z.string({ invalid_type_error: 'must be a string' }).min(1).max(64);

export const OrganizationBody = z.object({ name: name('organisation'), plan: plan.optional() }).strict();
export const OrganizationPatch = z
  .object({ name: name('organisation').optional(), plan: plan.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.plan !== undefined, 'send "name", "plan" or both');
export const ConnectionBody = z
  .object({
    name: name('connection'),
    workspace: z.string({ invalid_type_error: 'must be a string' }).min(1).max(200).optional(),
    settings: z.record(z.unknown(), { invalid_type_error: 'must be an object of connection settings' }).optional(),
  })
  .strict();
const googleFields = {
  adminEmail: z.string({ invalid_type_error: 'must be the e-mail address of a Workspace admin' }).max(320),
  domain: z.string({ invalid_type_error: "must be the customer's primary domain" }).max(253),
  orgUnits: z.array(z.string().max(1000), { invalid_type_error: 'must be an array of organisational unit paths like /Sales' }).max(50).optional(),
  groups: z.array(z.string().max(320), { invalid_type_error: 'must be an array of group e-mail addresses' }).max(500).optional(),
  customAttributes: z.record(z.string().max(200), { invalid_type_error: 'must map Schema.field to a SCIM attribute' }).optional(),
  intervalMinutes: z.number({ invalid_type_error: 'must be a number of minutes (5 to 1440)' }).int().min(5).max(1440).optional(),
};
/** The service account key: the downloaded file's JSON object, or its text. */
const serviceAccountKey = z.union([z.string().min(2).max(20_000), z.record(z.unknown())], { invalid_type_error: 'must be the service account key file (its JSON object or text)' });
export const GoogleConnectionBody = z
  .object({
    name: name('connection'),
    workspace: z.string({ invalid_type_error: 'must be a string' }).min(1).max(200).optional(),
    settings: z.record(z.unknown(), { invalid_type_error: 'must be an object of connection settings' }).optional(),
    key: serviceAccountKey,
    ...googleFields,
  })
  .strict();
export const GoogleSourcePatch = z
  .object({
    key: serviceAccountKey.optional(),
    adminEmail: googleFields.adminEmail.optional(),
    domain: googleFields.domain.optional(),
    orgUnits: googleFields.orgUnits,
    groups: googleFields.groups,
    customAttributes: googleFields.customAttributes,
    intervalMinutes: googleFields.intervalMinutes,
  })
  .strict();
export const RunsQuery = z.object({ limit: z.coerce.number({ invalid_type_error: 'must be a number (1 to 100)' }).int().min(1).max(100).optional() }).strict();

/** The key as the text the source stores (an object is what the file held). */
export const keyText = (key: string | Record<string, unknown>): string => (typeof key === 'string' ? key : JSON.stringify(key));

export const CredentialBody = z
  .object({
    name: z.string({ invalid_type_error: 'must be a string' }).max(200).optional(),
    expiresInDays: z.number({ invalid_type_error: 'must be a number of days (365 to 1095)' }).int().min(365).max(1095).optional(),
  })
  .strict();
export const RotateBody = z.object({ graceSeconds: z.number({ invalid_type_error: 'must be a number of seconds' }).int().min(0).max(30 * 86_400).optional() }).strict();

/** The body as an object (an empty body counts as {} where `empty` allows it). */
export function objectBody(body: unknown, example: string, empty = false): Record<string, unknown> {
  if ((body === undefined || body === null || body === '') && empty) return {};
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw bad(`send a JSON object: ${example}`);
  return body as Record<string, unknown>;
}

export const RequestsQuery = z
  .object({
    limit: intParam('limit', 1, MAX_REQUEST_PAGE).optional(),
    before: z.string().regex(/^[0-9a-f-]{36}$/, "must be the 'next' of an earlier page").optional(),
    status: z.string().regex(STATUS_FILTER, "must be a status code (201), a class (4xx) or 'error'").optional(),
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], { errorMap: () => ({ message: 'must be GET, POST, PUT, PATCH or DELETE' }) }))
      .optional(),
    resource: z.string().min(1).max(200).optional(),
  })
  .strict();

export const BrowseQuery = z
  .object({
    limit: intParam('limit', 1, MAX_BROWSE_PAGE).optional(),
    cursor: z.string().min(1).max(500).optional(),
    search: z.string().min(1).max(200).optional(),
  })
  .strict();
export const UsersQuery = BrowseQuery.extend({
  state: z.enum(['active', 'deactivated', 'deleted'], { errorMap: () => ({ message: 'must be active, deactivated or deleted' }) }).optional(),
}).strict();

const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A path id no record can have is answered like an unknown one: 404. */
export function id(value: string | undefined, what: string): string {
  if (!value || !ID.test(value)) throw notFound(`no ${what} with id '${(value ?? '').slice(0, 100)}'`);
  return value;
}

export const SignInBody = z.object({ adminKey: z.string({ required_error: 'required: the admin key' }).min(1).max(500) }).strict();
export const SetupSessionBody = z.object({ secret: z.string({ required_error: "required: the setup link's secret (after # in its URL)" }).min(1).max(500) }).strict();
export const SetupLinkBody = z.object({ expiresIn: z.string({ invalid_type_error: 'must be a duration like 7d, 24h or 90m' }).max(20).optional() }).strict();
export const AuditQuery = z
  .object({
    limit: intParam('limit', 1, 200).optional(),
    before: z.string().regex(/^[0-9a-f-]{36}$/, "must be the 'next' of an earlier page").optional(),
  })
  .strict();
