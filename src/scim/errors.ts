/**
 * The one catalogue of SCIM errors (RFC 7644 §3.12). Every refusal in the code is a
 * ScimError built from here; one Fastify error handler renders it.
 */
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

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

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  /** Extra response headers, e.g. WWW-Authenticate on 401. */
  readonly headers?: Record<string, string>;

  constructor(status: number, detail: string, scimType?: ScimType, headers?: Record<string, string>) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
  }

  get detail(): string {
    return this.message;
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      schemas: [SCIM_ERROR_SCHEMA],
      // RFC 7644 §3.12: status is a string in the JSON document.
      status: String(this.status),
    };
    if (this.scimType) body.scimType = this.scimType;
    body.detail = this.message;
    return body;
  }
}

/** Constructors, one per kind of refusal, so call sites read as what went wrong. */
export const errors = {
  invalidFilter: (detail: string) => new ScimError(400, detail, 'invalidFilter'),
  tooMany: (detail: string) => new ScimError(400, detail, 'tooMany'),
  uniqueness: (detail: string) => new ScimError(409, detail, 'uniqueness'),
  mutability: (detail: string) => new ScimError(400, detail, 'mutability'),
  invalidSyntax: (detail: string) => new ScimError(400, detail, 'invalidSyntax'),
  invalidPath: (detail: string) => new ScimError(400, detail, 'invalidPath'),
  noTarget: (detail: string) => new ScimError(400, detail, 'noTarget'),
  invalidValue: (detail: string) => new ScimError(400, detail, 'invalidValue'),
  invalidVersion: (detail: string) => new ScimError(400, detail, 'invalidVers'),
  badRequest: (detail: string) => new ScimError(400, detail),
  unauthorized: (detail: string) =>
    new ScimError(401, detail, undefined, { 'WWW-Authenticate': 'Bearer realm="rollcall"' }),
  forbidden: (detail: string) => new ScimError(403, detail),
  notFound: (detail: string) => new ScimError(404, detail),
  methodNotAllowed: (detail: string) => new ScimError(405, detail),
  preconditionFailed: (detail: string) => new ScimError(412, detail),
  payloadTooLarge: (detail: string) => new ScimError(413, detail),
  unsupportedMediaType: (detail: string) => new ScimError(415, detail),
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    new ScimError(429, detail, undefined, { 'Retry-After': String(retryAfterSeconds) }),
  notImplemented: (detail: string) => new ScimError(501, detail),
  serviceUnavailable: (detail: string, retryAfterSeconds: number) =>
    new ScimError(503, detail, undefined, { 'Retry-After': String(retryAfterSeconds) }),
  internal: () => new ScimError(500, 'Internal server error; the request id is logged for the operator.'),
};

export function isScimError(e: unknown): e is ScimError {
  return e instanceof ScimError;
}
