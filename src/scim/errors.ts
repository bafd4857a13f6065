/**
 * The one error catalogue. Every refusal anywhere in Rollcall (SCIM API, admin API,
 * CLI, library calls) is a RollcallError made by `fail(code, message)` with a code
 * listed here; the code fixes the HTTP status and the SCIM `scimType`, the message
 * says what happened in this case. One handler per API renders it: SCIM's RFC 7644
 * §3.12 shape on SCIM paths (the code in an extension), `{error: {status, code,
 * message}}` on the admin API. Callers decide on `code`, never on message text.
 *
 * It lives in scim/, the lowest layer, so that every layer can throw from it.
 * docs/errors.md lists every code (`npm run docs:errors` writes it from here; a test
 * checks that it is current and that every code is thrown somewhere in src/).
 */
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** Rollcall's extension of the SCIM error document: `{ "code": "ROLLCALL_…" }`. */
export const ROLLCALL_ERROR_SCHEMA = 'urn:rollcall:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

interface Definition {
  status: number;
  scimType?: ScimType;
  /** One line for docs/errors.md: when this is answered. */
  summary: string;
}

const def = (status: number, summary: string, scimType?: ScimType): Definition => ({ status, summary, scimType });

/**
 * Every code, grouped by the layer that raises it. Add a code where its cause is;
 * reuse one only when the cause is the same (same status, same remedy).
 */
export const CATALOGUE = {
  // --- HTTP and framework: raised before or around the routes ---------------------
  ROLLCALL_INTERNAL: def(500, 'An unexpected error; the request id is in the server log. Always a bug to report.'),
  ROLLCALL_ROUTE_NOT_FOUND: def(404, 'No endpoint has this method and path.'),
  ROLLCALL_MALFORMED_URL: def(400, 'The router cannot read the URL (bad percent-encoding or similar).', 'invalidSyntax'),
  ROLLCALL_URL_SEGMENT_TOO_LONG: def(414, 'A path segment is longer than any resource id can be.'),
  ROLLCALL_BODY_TOO_LARGE: def(413, 'The request body is larger than ROLLCALL_BODY_LIMIT.'),
  ROLLCALL_UNSUPPORTED_MEDIA_TYPE: def(415, 'The Content-Type is not application/scim+json or application/json.'),
  ROLLCALL_EMPTY_BODY: def(400, 'A JSON body is required and the request has none.', 'invalidSyntax'),
  ROLLCALL_BAD_REQUEST: def(400, 'The HTTP framework refused the request (bad header, bad content length, …); the message says why.', 'invalidSyntax'),
  ROLLCALL_HEADERS_TOO_LARGE: def(431, "The request's header block is larger than Node's limit (16 KiB by default); answered before routing."),
  ROLLCALL_REQUEST_TIMEOUT: def(408, 'The client did not send the whole request within the server\'s request timeout; answered before routing.'),
  ROLLCALL_DATABASE_BUSY: def(503, 'A lock conflict or timeout in the database; nothing was changed. Retry after Retry-After.'),
  // --- scim/: protocol (filter, PATCH, resources, serialisation) ------------------
  ROLLCALL_INVALID_FILTER_SYNTAX: def(400, 'The filter is not RFC 7644 §3.4.2.2 syntax (or nests deeper than 50 levels); the message gives the position.', 'invalidFilter'),
  ROLLCALL_FILTER_TOO_LONG: def(400, 'The filter is longer than ROLLCALL_MAX_FILTER_LENGTH (10,000 characters by default).', 'invalidFilter'),
  ROLLCALL_FILTER_OPERATOR_MISMATCH: def(400, "The operator does not apply to the attribute's type or to the value (e.g. gt with a boolean, co with null).", 'invalidFilter'),
  ROLLCALL_INVALID_PATH_SYNTAX: def(400, 'A PATCH path is not RFC 7644 §3.5.2 syntax; the message gives the position.', 'invalidPath'),
  ROLLCALL_PATH_TOO_LONG: def(400, 'A PATCH path is longer than 10,000 characters.', 'invalidPath'),
  ROLLCALL_PATCH_INVALID_BODY: def(400, "The PATCH body is not an object with a non-empty 'Operations' array of operation objects.", 'invalidSyntax'),
  ROLLCALL_PATCH_SCHEMA_MISSING: def(400, "The PATCH body's 'schemas' does not name urn:ietf:params:scim:api:messages:2.0:PatchOp.", 'invalidSyntax'),
  ROLLCALL_PATCH_UNKNOWN_OP: def(400, "An operation's 'op' is missing or not add, replace or remove (any case).", 'invalidSyntax'),
  ROLLCALL_PATCH_VALUE_MISSING: def(400, "An add or replace operation has no 'value'.", 'invalidSyntax'),
  ROLLCALL_PATCH_VALUE_NOT_AN_OBJECT: def(400, 'An add or replace without a path (or of a whole extension) has a value that is not an object.', 'invalidSyntax'),
  ROLLCALL_PATCH_ONE_VALUE_EXPECTED: def(400, 'A value-filter path (emails[type eq "work"]) was given several values; it takes one object.', 'invalidSyntax'),
  ROLLCALL_PATCH_REMOVE_WITHOUT_PATH: def(400, "A remove operation has no 'path'.", 'noTarget'),
  ROLLCALL_PATCH_NO_TARGET: def(400, 'No value matches the path\'s filter, and the filter does not describe a value to create.', 'noTarget'),
  ROLLCALL_PATCH_UNKNOWN_SCHEMA: def(400, 'A PATCH path starts with a schema URN this resource type does not have.', 'invalidPath'),
  ROLLCALL_PATCH_UNKNOWN_ATTRIBUTE: def(400, 'A PATCH path names an attribute the resource type does not have.', 'invalidPath'),
  ROLLCALL_PATCH_INVALID_PATH: def(400, 'A PATCH path is well-formed but cannot be applied (a filter on a single-valued attribute, a sub-attribute before the filter, removing the resource itself).', 'invalidPath'),
  ROLLCALL_PATCH_MEMBERS_PATH: def(400, "Group members are changed through 'members' or 'members[value eq \"…\"]', not a member's sub-attribute.", 'invalidPath'),
  ROLLCALL_PATCH_MEMBERS_FILTER: def(400, "A members filter other than 'value eq \"…\"' joined by 'or'.", 'invalidFilter'),
  ROLLCALL_PATCH_TOO_MANY_OPERATIONS: def(400, 'A PATCH carries more operations than ROLLCALL_MAX_PATCH_OPERATIONS.', 'tooMany'),
  ROLLCALL_PATCH_TOO_MANY_VALUES: def(400, 'A PATCH carries more values over all its operations than ROLLCALL_MAX_PATCH_VALUES (group members excepted).', 'tooMany'),
  ROLLCALL_READ_ONLY_ATTRIBUTE: def(400, 'A PATCH changes a read-only attribute (id, meta, groups, …).', 'mutability'),
  ROLLCALL_REQUIRED_ATTRIBUTE_MISSING: def(400, 'A required attribute (userName, displayName) is missing, or a PATCH removes or empties it.', 'invalidValue'),
  ROLLCALL_MEMBER_WITHOUT_VALUE: def(400, "A group member has no 'value' (the member's id).", 'invalidValue'),
  ROLLCALL_BODY_NOT_AN_OBJECT: def(400, 'The body of a POST or PUT is not a JSON object.', 'invalidSyntax'),
  ROLLCALL_INVALID_SCHEMAS: def(400, "'schemas' is not an array of schema URNs.", 'invalidSyntax'),
  ROLLCALL_EXTENSION_NESTED: def(400, 'A schema-qualified object (urn:…:core:2.0:User) appears inside itself.', 'invalidSyntax'),
  ROLLCALL_ATTRIBUTE_TYPE_MISMATCH: def(400, "An attribute's value is not of its schema type (boolean, number, dateTime, string, object, one value).", 'invalidSyntax'),
  ROLLCALL_VALUE_TOO_LONG: def(400, 'A string value is longer than the server accepts (ROLLCALL_MAX_IDENTIFIER_LENGTH for identifiers, ROLLCALL_MAX_VALUE_LENGTH for others).', 'invalidValue'),
  ROLLCALL_TOO_MANY_VALUES: def(400, 'A multi-valued attribute has more values than ROLLCALL_MAX_VALUES_PER_ATTRIBUTE.', 'invalidValue'),
  ROLLCALL_TOO_MANY_MEMBERS: def(400, 'One request names more group members than ROLLCALL_MAX_MEMBERS_PER_REQUEST; send them in several requests.', 'invalidValue'),
  ROLLCALL_TOO_MANY_PROJECTION_ATTRIBUTES: def(400, "'attributes' or 'excludedAttributes' lists more distinct entries than ROLLCALL_MAX_PROJECTION_ATTRIBUTES.", 'invalidValue'),
  ROLLCALL_ATTRIBUTES_AND_EXCLUDED: def(400, "A request gives both 'attributes' and 'excludedAttributes'.", 'invalidValue'),
  // --- store/: database answers ----------------------------------------------------
  ROLLCALL_FILTER_UNKNOWN_ATTRIBUTE: def(400, 'The filter names an attribute the resource type does not have (or one that cannot be filtered).', 'invalidFilter'),
  ROLLCALL_UNFILTERABLE_ATTRIBUTE: def(400, 'The filter names a sub-attribute that exists but cannot be filtered on (e.g. emails.display).', 'invalidFilter'),
  ROLLCALL_FILTER_NEEDS_SUB_ATTRIBUTE: def(400, 'The filter compares a complex attribute (name, meta, …) as a whole; name one of its sub-attributes.', 'invalidFilter'),
  ROLLCALL_FILTER_VALUE_MISMATCH: def(400, "The filter's value is not of the attribute's type (a boolean, dateTime or number).", 'invalidFilter'),
  ROLLCALL_QUERY_TOO_SLOW: def(400, 'A list or search ran longer than the statement budget (DATABASE_STATEMENT_TIMEOUT_MS) and was stopped; narrow the filter.', 'tooMany'),
  ROLLCALL_FILTER_TOO_COMPLEX: def(400, 'The filter has more terms than ROLLCALL_MAX_FILTER_TERMS or nests deeper than ROLLCALL_MAX_FILTER_DEPTH.', 'invalidFilter'),
  ROLLCALL_FILTER_NOT_MULTI_VALUED: def(400, 'A value filter `attr[…]` names an attribute that is not multi-valued.', 'invalidFilter'),
  ROLLCALL_FILTER_NESTED_MULTI_VALUED: def(400, 'The filter reaches into a multi-valued attribute inside another one.', 'invalidFilter'),
  ROLLCALL_UNKNOWN_SORT_ATTRIBUTE: def(400, "'sortBy' names an attribute the resource type does not have.", 'invalidValue'),
  ROLLCALL_UNSORTABLE_ATTRIBUTE: def(400, "'sortBy' names a complex or multi-valued attribute, which has no single value to sort by.", 'invalidValue'),
  // --- directory/: domain rules, policies, connections, settings, import ---------
  ROLLCALL_USER_NOT_FOUND: def(404, 'No user of this connection has this id (or it was deleted).'),
  ROLLCALL_GROUP_NOT_FOUND: def(404, 'No group of this connection has this id.'),
  ROLLCALL_ORGANIZATION_NOT_FOUND: def(404, 'No organisation has this id.'),
  ROLLCALL_CONNECTION_NOT_FOUND: def(404, 'No connection has this id.'),
  ROLLCALL_USERNAME_TAKEN: def(409, 'Another live user of this connection has this userName (compared case-insensitively).', 'uniqueness'),
  ROLLCALL_EXTERNAL_ID_TAKEN: def(409, 'Another live user of this connection has this externalId.', 'uniqueness'),
  ROLLCALL_GROUP_NAME_TAKEN: def(409, 'Another group of this connection has this displayName.', 'uniqueness'),
  ROLLCALL_EXCLUSIVE_GROUP: def(409, 'The connection allows one group per user (exclusiveGroups) and the user is already in another group.', 'uniqueness'),
  ROLLCALL_USER_BEING_RESTORED: def(409, 'A deleted user with this mapping key is being restored or purged by another request; retry.', 'uniqueness'),
  ROLLCALL_NESTED_GROUP: def(400, 'A group is given as a member of a group; nested groups are not supported.', 'invalidValue'),
  ROLLCALL_MEMBER_NOT_FOUND: def(400, 'A member id names no user of this connection; members must exist.', 'invalidValue'),
  ROLLCALL_MAPPING_KEY_LOCKED: def(400, "The change would alter the user's mapping key (userName or externalId), which the connection locks.", 'mutability'),
  ROLLCALL_MAPPING_KEY_CHANGED: def(503, "The connection's mappingKey setting changed while the request ran; nothing was changed. Retry after Retry-After."),
  ROLLCALL_CONCURRENT_CHANGE: def(412, 'Another request changed the resource while this one ran (or before it could be deleted); retry.'),
  ROLLCALL_VERSION_MISMATCH: def(412, "If-Match names a version the resource no longer has."),
  ROLLCALL_DOMAIN_NOT_VERIFIED: def(400, "An e-mail address is at a domain outside the connection's verifiedDomains.", 'invalidValue'),
  ROLLCALL_EMAIL_WITHOUT_DOMAIN: def(400, 'An e-mail address has no domain while the connection accepts only verifiedDomains.', 'invalidValue'),
  ROLLCALL_COLLECTIVE_ADDRESS: def(400, 'An e-mail address is a shared role mailbox (info@, team@, …) and the connection refuses collective addresses.', 'invalidValue'),
  ROLLCALL_INVALID_LANGUAGE: def(400, 'preferredLanguage (or a language setting) is not a language tag Rollcall can normalise to ISO 639-1.', 'invalidValue'),
  ROLLCALL_INVALID_SETTINGS: def(400, 'A connection settings document does not validate; the message lists every problem.'),
  ROLLCALL_INVALID_PLAN: def(400, 'A plan name is not letters, digits, - and _ (at most 64).'),
  ROLLCALL_NAME_REQUIRED: def(400, 'An organisation, connection or workspace name is empty.'),
  ROLLCALL_ORGANIZATION_HAS_SCIM_CONNECTION: def(409, 'The organisation already has a SCIM connection (one per organisation).'),
  ROLLCALL_MAPPING_KEY_CONFLICT: def(409, 'mappingKey cannot become externalId: several live users of the connection share one externalId.'),
  ROLLCALL_ORGANIZATION_NOT_EMPTY: def(409, 'The organisation still has connections; delete them before the organisation.'),
  ROLLCALL_CONNECTION_HAS_NO_TOKEN: def(409, 'The connection holds CSV-imported users or is pulled from a directory source (Google Workspace); it has no SCIM token or client secret.'),
  ROLLCALL_CLIENT_SECRET_EXPIRY: def(400, 'A client secret must expire after 365 to 1,095 days (one to three years).'),
  ROLLCALL_CLIENT_SECRETS_FULL: def(409, 'The connection already has the most active client secrets it may have (10); revoke one first.'),
  ROLLCALL_CLIENT_SECRET_NOT_FOUND: def(404, 'The connection has no active client secret with that id.'),
  ROLLCALL_CSV_IMPORT_LOCKED: def(409, 'A CSV import into an organisation whose users a SCIM connection manages.'),
  ROLLCALL_CSV_UNREADABLE: def(400, 'The CSV file cannot be parsed or is empty.'),
  ROLLCALL_CSV_NO_EMAIL_COLUMN: def(400, 'The CSV header names no e-mail column.'),
  ROLLCALL_CSV_NOT_UTF8: def(400, 'The CSV file is not UTF-8 (Latin-1, UTF-16, …); save it as UTF-8 (a byte order mark is fine).'),
  ROLLCALL_CSV_DELIMITER_UNCLEAR: def(400, 'The CSV header line uses more than one of comma, semicolon and tab between its columns, so the delimiter is unclear.'),
  ROLLCALL_CSV_ROW_WITHOUT_EMAIL: def(400, 'A CSV row has no e-mail address (reported per line; the other rows are imported).'),
  ROLLCALL_CSV_INVALID_EMAIL: def(400, 'A CSV row has an e-mail address that is not one (reported per line; the other rows are imported).', 'invalidValue'),
  ROLLCALL_ADMIN_KEY_FROM_ENV: def(409, 'Rotating the admin key while ROLLCALL_ADMIN_TOKEN is set: that key is the environment\'s to change.'),
  // --- sources/: directories Rollcall pulls from (Google Workspace) ---------------
  ROLLCALL_SOURCE_NOT_CONFIGURED: def(409, 'The connection is not pulled from a directory source (it is a SCIM or CSV import connection), so it has no sync.'),
  ROLLCALL_SOURCE_SECRET_KEY_REQUIRED: def(409, 'A pulled connection stores its credentials encrypted and ROLLCALL_SECRET_KEY is not set.'),
  ROLLCALL_SOURCE_KEY_INVALID: def(400, 'The uploaded Google service account key is not one (JSON with type service_account, client_email, client_id and private_key).'),
  ROLLCALL_SOURCE_INVALID_CONFIG: def(400, "A source setting cannot be used (admin e-mail, domain, organisational unit path, group address or sync interval); the message names it."),
  ROLLCALL_SOURCE_SYNC_RUNNING: def(409, "Another run (in this or another instance) holds the connection's sync lease; a connection syncs one run at a time."),
  ROLLCALL_SOURCE_REQUEST_BUDGET: def(503, 'The run made as many requests to the source as one run may (the request budget) and stopped; nothing after that point was changed.'),
  ROLLCALL_SOURCE_API_ERROR: def(502, "The source's API refused or failed a request after the retries (Google's status and message are in the message); the run stopped."),
  ROLLCALL_SOURCE_CREDENTIALS_UNREADABLE: def(503, "The source's stored credentials (the service account key) do not open under this server's ROLLCALL_SECRET_KEY (it is unset, another key, or the sealed value was altered); the run failed and the next one is due after the interval. Set the key they were stored under, or upload the key file again."),
  ROLLCALL_SOURCE_SYNC_CANCELLED: def(409, 'The connection was disabled or deleted, or is no longer pulled from this source, while its run ran; the run stopped after the unit of work it was on, keeping what it finished.'),
  // --- http/: SCIM routes, authentication, discovery, list parameters -------------
  ROLLCALL_INVALID_JSON: def(400, 'The request body is not valid JSON.', 'invalidSyntax'),
  ROLLCALL_BODY_TOO_DEEP: def(400, 'The JSON body nests deeper than 32 levels (a SCIM body needs a handful).', 'invalidSyntax'),
  ROLLCALL_INVALID_UTF8: def(400, 'The request body is not valid UTF-8 (Latin-1, UTF-16, …); JSON bodies are UTF-8 only.', 'invalidSyntax'),
  ROLLCALL_NUMBER_OUT_OF_RANGE: def(400, 'A number in the body is beyond the range of a double (1e400); the message names where.', 'invalidValue'),
  ROLLCALL_NUL_CHARACTER: def(400, 'A string or key in the body contains U+0000, which PostgreSQL cannot store (refused on every backend alike); the message names where.', 'invalidValue'),
  ROLLCALL_TOKEN_MISSING: def(401, 'A SCIM request has no `Authorization: Bearer <token>` header.'),
  ROLLCALL_TOKEN_INVALID: def(401, 'The bearer token is not valid for this connection (or the connection does not exist).'),
  ROLLCALL_CONNECTION_DISABLED: def(403, 'An administrator disabled the connection; its SCIM requests are refused until it is enabled again.'),
  ROLLCALL_SCIM_NOT_IN_PLAN: def(403, "The organisation's plan does not include SCIM provisioning (see ROLLCALL_SCIM_PLANS)."),
  ROLLCALL_RATE_LIMITED: def(429, 'The connection has made its ROLLCALL_RATE_LIMIT requests this minute; retry after Retry-After.'),
  ROLLCALL_SCHEMA_NOT_FOUND: def(404, 'GET /Schemas/<id> names a schema this server does not have.'),
  ROLLCALL_RESOURCE_TYPE_NOT_FOUND: def(404, 'GET /ResourceTypes/<id> names a resource type this server does not have.'),
  ROLLCALL_BULK_NOT_SUPPORTED: def(501, '/Bulk was called; bulk operations are not supported (ServiceProviderConfig says so).'),
  ROLLCALL_ME_NOT_SUPPORTED: def(501, '/Me was called; connection tokens do not identify a user.'),
  ROLLCALL_FILTER_NOT_A_STRING: def(400, "The 'filter' parameter of a list or search is not a string.", 'invalidFilter'),
  ROLLCALL_NOT_AN_INTEGER: def(400, "'startIndex' or 'count' of a list or search is not an integer.", 'invalidValue'),
  ROLLCALL_INVALID_SORT_BY: def(400, "'sortBy' of a list or search is not an attribute name.", 'invalidValue'),
  ROLLCALL_INVALID_SORT_ORDER: def(400, "'sortOrder' is neither 'ascending' nor 'descending'.", 'invalidValue'),
  ROLLCALL_SEARCH_BODY_NOT_AN_OBJECT: def(400, 'The body of a POST …/.search is not a JSON object.', 'invalidSyntax'),
  ROLLCALL_SEARCH_SORT_BY_UNKNOWN: def(400, "POST /.search: 'sortBy' names an attribute neither Users nor Groups have.", 'invalidValue'),
  ROLLCALL_SEARCH_FILTER_UNKNOWN: def(400, 'POST /.search: the filter names attributes neither Users nor Groups have.', 'invalidFilter'),
  // --- admin API ----------------------------------------------------------------
  ROLLCALL_ADMIN_KEY_REQUIRED: def(401, 'An admin API request has no `Authorization: Bearer <admin key>` header.'),
  ROLLCALL_ADMIN_KEY_INVALID: def(401, 'The admin key is not valid (rotated, or not the ROLLCALL_ADMIN_TOKEN).'),
  ROLLCALL_ADMIN_BAD_INPUT: def(400, "An admin API body or query does not fit the endpoint's schema; the message names the field."),
  ROLLCALL_ADMIN_NOT_FOUND: def(404, 'No organisation, connection, user, request, webhook, setup link or event the caller may see has the id in the admin API URL.'),
  ROLLCALL_ADMIN_FORBIDDEN: def(403, "A setup link's session asked for something only the admin may do (other organisations, plans, webhooks, the events feed)."),
  ROLLCALL_SESSION_INVALID: def(401, 'The console session cookie is unknown, expired or signed out; sign in again.'),
  ROLLCALL_CSRF_HEADER_REQUIRED: def(403, 'A state-changing request authenticated by the session cookie lacks the X-Rollcall-Console header (cross-site forms cannot send it).'),
  ROLLCALL_SETUP_LINK_INVALID: def(401, 'No setup link has this secret.'),
  ROLLCALL_SETUP_LINK_EXPIRED: def(410, 'The setup link has expired; the organisation needs a new one.'),
  ROLLCALL_SETUP_LINK_REVOKED: def(410, 'The setup link was revoked; the organisation needs a new one.'),
  // --- events/: feed and webhooks -----------------------------------------------
  ROLLCALL_INVALID_CURSOR: def(400, "'after' or 'cursor' is not one this list returned (for the feed: or one of another organisation's feed)."),
  ROLLCALL_INVALID_LIMIT: def(400, "'limit' of the events feed or of a webhook's deliveries is out of range."),
  ROLLCALL_INVALID_WEBHOOK_URL: def(400, "A webhook's 'url' is missing, too long, not absolute http(s), or has a #fragment."),
  ROLLCALL_WEBHOOK_URL_NOT_ALLOWED: def(400, "The egress policy refuses a webhook's 'url': credentials in it, not https, or a host that is or resolves to a loopback, private, link-local (metadata), reserved or internal address; the message says which. ROLLCALL_WEBHOOK_ALLOW_PRIVATE=true allows all but credentials, for local development."),
  ROLLCALL_INVALID_EVENT_TYPES: def(400, "A webhook's 'events' is not a non-empty array of known event types."),
  ROLLCALL_WEBHOOK_NOT_FOUND: def(404, 'No webhook endpoint has this id.'),
  ROLLCALL_EVENT_NOT_FOUND: def(404, "No event has this id in the webhook's organisation."),
  // --- configuration and CLI -----------------------------------------------------
  ROLLCALL_CONFIG_INVALID: def(400, 'An environment variable has a value Rollcall cannot use; the message names the variable and what it accepts.'),
  ROLLCALL_CLI_BAD_INPUT: def(400, 'A command\'s argument or option cannot be used (empty name, unreadable or non-JSON file, bad timestamp or status).'),
  ROLLCALL_CLI_NOT_FOUND: def(404, 'A command names a connection or webhook id that does not exist.'),
  ROLLCALL_CLI_CANNOT_OPEN_DATABASE: def(503, 'The command cannot open or migrate the database at DATABASE_URL; the message says why.'),
  ROLLCALL_CLI_CANNOT_START: def(500, '`rollcall serve` cannot listen on HOST:PORT or set up the admin API key.'),
  // --- operations: schema, backup, restore, export -------------------------------------
  ROLLCALL_SCHEMA_NEWER: def(503, 'The database holds migrations this version of Rollcall does not know (a newer version migrated it); upgrade Rollcall or restore a backup.'),
  ROLLCALL_MIGRATIONS_PENDING: def(503, 'ROLLCALL_MIGRATE=off and the database has migrations to apply; run `rollcall migrate` first.'),
  ROLLCALL_MIGRATION_FAILED: def(503, 'A migration failed and was rolled back; the message names it and the database error.'),
  ROLLCALL_BACKUP_UNSUPPORTED: def(400, '`rollcall backup` and `restore` work on SQLite; PostgreSQL is backed up with its own tools (pg_dump, pg_basebackup).'),
  ROLLCALL_BACKUP_FAILED: def(500, 'The backup could not be written (target not writable, disk full); the message says why. A partial file is removed.'),
  ROLLCALL_RESTORE_REFUSED: def(400, 'The file to restore is not a complete Rollcall SQLite database of a schema this version knows; the current database is untouched.'),
  ROLLCALL_RESTORE_SERVER_RUNNING: def(409, 'The database to replace is in use by a running server (its write lock is held); stop the server before `rollcall restore`.'),
} satisfies Record<string, Definition>;

export type ErrorCode = keyof typeof CATALOGUE;

export class RollcallError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly scimType?: ScimType;
  /** Extra response headers, e.g. WWW-Authenticate on 401, Retry-After on 429/503. */
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers?: Record<string, string>) {
    super(message);
    const d: Definition = CATALOGUE[code];
    this.name = 'RollcallError';
    this.code = code;
    this.status = d.status;
    this.scimType = d.scimType;
    this.headers = headers;
  }

  get detail(): string {
    return this.message;
  }

  /** The SCIM error document (RFC 7644 §3.12), with the code in Rollcall's extension. */
  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      schemas: [SCIM_ERROR_SCHEMA, ROLLCALL_ERROR_SCHEMA],
      // RFC 7644 §3.12: status is a string in the JSON document.
      status: String(this.status),
    };
    if (this.scimType) body.scimType = this.scimType;
    body.detail = this.message;
    body[ROLLCALL_ERROR_SCHEMA] = { code: this.code };
    return body;
  }
}

/** The error for `code` with this case's message (throw it). */
export function fail(code: ErrorCode, message: string, headers?: Record<string, string>): RollcallError {
  return new RollcallError(code, message, headers);
}

/** 401s carry the challenge RFC 6750 asks for. */
export const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="rollcall"' } as const;

/** Retry-After for 429 and 503 answers. */
export function retryAfter(seconds: number): Record<string, string> {
  return { 'Retry-After': String(seconds) };
}

export function isRollcallError(e: unknown): e is RollcallError {
  return e instanceof RollcallError;
}

/** True when `e` is a Rollcall error with one of `codes`. */
export function hasCode(e: unknown, ...codes: ErrorCode[]): e is RollcallError {
  return e instanceof RollcallError && codes.includes(e.code);
}

/** The names the library exported before the catalogue, kept for embedders. */
export { RollcallError as ScimError, isRollcallError as isScimError };
