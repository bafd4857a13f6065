/**
 * A local stand-in for Google's Directory API and OAuth token endpoint, answering
 * the documented JSON shapes, for the tests and the benchmark (plain ESM so that
 * bench/ can import it without a build step; types in fake-google.d.mts).
 *
 *   POST /token                                   the JWT bearer grant (RS256 assertion checked against the key)
 *   GET  /admin/directory/v1/users                customer=my_customer, maxResults, pageToken, projection, query, showDeleted
 *   GET  /admin/directory/v1/users/{key}          one user by id or primary address (404 when deleted or unknown)
 *   GET  /admin/directory/v1/groups               customer=my_customer, maxResults, pageToken
 *   GET  /admin/directory/v1/groups/{key}/members maxResults, pageToken
 *
 * Errors come in Google's body `{"error": {code, message, errors: [...], status}}`;
 * `faults` injects them (with Retry-After on 429) for matching requests.
 */
import { createServer } from 'node:http';
import { createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';

export const SCOPES = [
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
];

const STATUS_NAMES = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
const REASONS = { 400: 'invalid', 401: 'authError', 403: 'forbidden', 404: 'notFound', 429: 'rateLimitExceeded', 500: 'backendError', 503: 'backendError' };

/** A service account key file for a fresh RSA key, as the Google Cloud console downloads it. */
export function serviceAccountKey(tokenUri = 'https://oauth2.googleapis.com/token') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = {
    type: 'service_account',
    project_id: 'rollcall-test',
    private_key_id: randomUUID().replace(/-/g, ''),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'rollcall-sync@rollcall-test.iam.gserviceaccount.com',
    client_id: '105' + String(Date.now()).slice(-15),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
  };
  return { key, text: JSON.stringify(key), publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A Google user as users.list returns it with projection=full. */
export function googleUser(i, domain = 'example.com', extra = {}) {
  const n = String(i).padStart(5, '0');
  return {
    kind: 'admin#directory#user',
    id: `1${n}000000000000000`.slice(0, 21),
    primaryEmail: `user${n}@${domain}`,
    name: { givenName: `Given${n}`, familyName: `Family${n}`, fullName: `Given${n} Family${n}` },
    isAdmin: false,
    suspended: false,
    archived: false,
    orgUnitPath: i % 2 ? '/Sales' : '/Engineering',
    emails: [{ address: `user${n}@${domain}`, primary: true }, { address: `user${n}@${domain}.test-google-a.com` }],
    organizations: [{ title: 'Engineer', department: 'R&D', primary: true, costCenter: 'CC-1' }],
    phones: [{ value: `+31 20 555 ${n}`, type: 'work' }],
    languages: [{ languageCode: 'en', preference: 'preferred' }],
    customSchemas: { Employment: { gender: i % 2 ? 'f' : 'm' } },
    ...extra,
  };
}

export function googleGroup(i, domain = 'example.com') {
  const n = String(i).padStart(3, '0');
  return { kind: 'admin#directory#group', id: `0group${n}`, email: `group${n}@${domain}`, name: `Group ${n}`, description: '', directMembersCount: '0' };
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/**
 * Starts the fake on 127.0.0.1. `state` is live: tests change users, groups and
 * members between runs. Returns the URLs to give the client and what it saw.
 */
export async function startFakeGoogle({ publicKey, clientEmail, adminEmail, delayMs = 0 } = {}) {
  const state = {
    /** id → user (not deleted). */
    users: new Map(),
    /** id → user deleted (listed with showDeleted=true). */
    deleted: new Map(),
    /** id → group. */
    groups: new Map(),
    /** group id → [{ id, email, type, role, status }]. */
    members: new Map(),
  };
  /** [{ when(req) → boolean, status, retryAfter?, times }] checked in order; times counts down. */
  const faults = [];
  const seen = { requests: [], tokens: 0, inFlight: 0, maxInFlight: 0 };
  /** Called with each request before it is answered (tests change the state mid-run). */
  const hooks = [];
  const tokens = new Set();
  let delay = delayMs;

  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const googleError = (res, status, message, headers) =>
    send(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason: REASONS[status] ?? 'unknown' }], status: STATUS_NAMES[status] ?? 'UNKNOWN' } }, headers);

  const page = (items, q, max, defaultMax) => {
    const size = Math.min(Number(q.get('maxResults') ?? defaultMax), max);
    const start = q.get('pageToken') ? Number(Buffer.from(q.get('pageToken'), 'base64url').toString()) : 0;
    const slice = items.slice(start, start + size);
    const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
    return { slice, next, index: Math.floor(start / size) + 1 };
  };

  const token = (req, res, body) => {
    seen.tokens++;
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return send(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
    const [h, p, sig] = (form.get('assertion') ?? '').split('.');
    if (!sig) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT' });
    const header = b64urlJson(h);
    const claims = b64urlJson(p);
    const ok = header.alg === 'RS256' && (!publicKey || createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(sig, 'base64url')));
    if (!ok) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    if (clientEmail && claims.iss !== clientEmail) return send(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    const scopes = String(claims.scope ?? '').split(' ');
    if (adminEmail && claims.sub !== adminEmail) return send(res, 401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' });
    if (!SCOPES.every((s) => scopes.includes(s))) return send(res, 401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' });
    const access = `ya29.fake-${randomUUID()}`;
    tokens.add(access);
    send(res, 200, { access_token: access, expires_in: 3599, token_type: 'Bearer' });
  };

  const byEmail = (a, b) => (a.primaryEmail < b.primaryEmail ? -1 : 1);

  const directory = (req, res, url) => {
    const auth = req.headers.authorization ?? '';
    if (!tokens.has(auth.replace(/^Bearer /, ''))) return googleError(res, 401, 'Login Required.', { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    const q = url.searchParams;
    const path = url.pathname.replace(/^\/admin\/directory\/v1/, '');
    if (path === '/users') {
      if (q.get('customer') !== 'my_customer' && !q.get('domain')) return googleError(res, 400, 'Bad Request');
      let users = [...(q.get('showDeleted') === 'true' ? state.deleted : state.users).values()];
      const query = q.get('query');
      if (query) {
        const m = /^orgUnitPath='([^']*)'$/.exec(query);
        if (!m) return googleError(res, 400, 'Invalid Input');
        users = users.filter((u) => u.orgUnitPath === m[1] || u.orgUnitPath.startsWith(m[1] + '/'));
      }
      users.sort(byEmail);
      const full = q.get('projection') === 'full';
      const { slice, next } = page(users, q, 500, 100);
      return send(res, 200, { kind: 'admin#directory#users', etag: '"e"', users: slice.map((u) => (full ? u : { ...u, customSchemas: undefined })), ...(next ? { nextPageToken: next } : {}) });
    }
    const one = /^\/users\/([^/]+)$/.exec(path);
    if (one) {
      const key = decodeURIComponent(one[1]);
      const u = state.users.get(key) ?? [...state.users.values()].find((x) => x.primaryEmail === key);
      if (!u) return googleError(res, 404, 'Resource Not Found: userKey');
      return send(res, 200, q.get('projection') === 'full' ? u : { ...u, customSchemas: undefined });
    }
    if (path === '/groups') {
      if (q.get('customer') !== 'my_customer' && !q.get('domain')) return googleError(res, 400, 'Bad Request');
      const { slice, next } = page([...state.groups.values()], q, 200, 200);
      return send(res, 200, { kind: 'admin#directory#groups', etag: '"e"', groups: slice, ...(next ? { nextPageToken: next } : {}) });
    }
    const m = /^\/groups\/([^/]+)\/members$/.exec(path);
    if (m) {
      const key = decodeURIComponent(m[1]);
      if (!state.groups.has(key)) return googleError(res, 404, 'Resource Not Found: groupKey');
      const { slice, next } = page(state.members.get(key) ?? [], q, 200, 200);
      return send(res, 200, { kind: 'admin#directory#members', etag: '"e"', members: slice, ...(next ? { nextPageToken: next } : {}) });
    }
    googleError(res, 404, 'Not Found');
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url, 'http://localhost');
      const record = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), at: Date.now() };
      seen.requests.push(record);
      for (const hook of hooks) hook(record);
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      try {
        if (delay) await new Promise((r) => setTimeout(r, delay));
        if (req.method === 'POST' && url.pathname === '/token') return token(req, res, Buffer.concat(chunks).toString('utf8'));
        const fault = faults.find((f) => f.times > 0 && f.when(record));
        if (fault) {
          fault.times--;
          fault.hits = (fault.hits ?? 0) + 1;
          return googleError(res, fault.status, fault.message ?? 'Injected failure', fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
        }
        if (req.method === 'GET' && url.pathname.startsWith('/admin/directory/v1/')) return directory(req, res, url);
        googleError(res, 404, 'Not Found');
      } finally {
        seen.inFlight--;
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    state,
    faults,
    hooks,
    seen,
    rootUrl: `http://127.0.0.1:${port}/`,
    tokenUrl: `http://127.0.0.1:${port}/token`,
    setDelay(ms) {
      delay = ms;
    },
    /** Directory API requests to `path` (e.g. '/admin/directory/v1/users') seen so far. */
    count(path) {
      return seen.requests.filter((r) => r.path === path).length;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}
