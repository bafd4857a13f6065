/**
 * The Directory API through Google's own clients: a service account's JWT
 * (google-auth-library) acting as a Workspace admin by domain-wide delegation,
 * and @googleapis/admin's directory_v1 for users.list, groups.list and
 * members.list, paged with their page tokens.
 *
 * Quotas: the client's retry (gaxios) retries 429 and 5xx with exponential
 * backoff and full jitter, waiting at least what Retry-After asks (capped); every
 * attempt counts against the run's request budget, and a run that reaches it stops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { admin, type admin_directory_v1 } from '@googleapis/admin';
import { JWT } from 'google-auth-library';
import { fail, isRollcallError } from '../../scim/errors.js';
import type { DirectorySource, SourceGroup, SourceUser } from '../source.js';
import { GOOGLE_SCOPES, GOOGLE_WORKSPACE, type ServiceAccountKey, type StoredGoogleConfig } from './config.js';
import { googleGroupToScim, googleUserToScim } from './mapping.js';

/** Where google-auth-library sends the JWT bearer grant (replaced when `tokenUrl` is set). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface GoogleClientOptions {
  /** The Directory API's root (default https://admin.googleapis.com/); tests point it at a local server. */
  rootUrl?: string;
  /** The OAuth token endpoint (default Google's); tests point it at a local server. */
  tokenUrl?: string;
  /** Users, groups or members per page (Google allows 500 users, 200 groups and 200 members; default the most). */
  pageSize?: number;
  /** Retries of one request after a 429 or 5xx (default 6). */
  retries?: number;
  /** The first retry waits about this long, doubling each time (default 1,000 ms). */
  retryBaseMs?: number;
  /** No retry waits longer, even when Retry-After asks for more (default 64,000 ms). */
  retryMaxMs?: number;
  /** Requests one run may make, retries included (default 20,000). */
  requestBudget?: number;
}

type RetryError = { config?: { retryConfig?: { currentRetryAttempt?: number }; method?: string }; response?: { status?: number; headers?: unknown } };

/** Seconds from a Retry-After header (delta seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: unknown, now = Date.now()): number | undefined {
  // A fetch Headers (gaxios 7), or a plain object of lower-case names.
  const h = headers as { get?: (name: string) => string | null } & Record<string, unknown>;
  const raw = typeof h?.get === 'function' ? h.get('retry-after') : (h?.['retry-after'] as string | undefined);
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with full jitter: a random wait up to base·2^attempt, at least Retry-After, at most `max`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, retryAfter: number | undefined, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.min(maxMs, Math.max(retryAfter ?? 0, ceiling * (0.5 + random() / 2)));
}

/** Google's error body `{error: {code, message, status}}` or the token endpoint's `{error, error_description}` as one line. */
function describeGoogleError(e: unknown): string {
  const err = e as { response?: { status?: number; data?: unknown }; message?: string };
  const data = err.response?.data as { error?: unknown; error_description?: string } | undefined;
  if (data && typeof data.error === 'object' && data.error) {
    const g = data.error as { code?: number; status?: string; message?: string };
    return `${g.code ?? err.response?.status} ${g.status ?? ''}: ${g.message ?? ''}`.replace(/\s+:/, ':');
  }
  if (data && typeof data.error === 'string') {
    // The token endpoint: unauthorized_client means the delegation (client id and scopes) is not set up.
    const hint = data.error === 'unauthorized_client' ? ' (check the domain-wide delegation: the client id and the three scopes in the Admin console)' : '';
    return `${err.response?.status ?? ''} ${data.error}: ${data.error_description ?? ''}${hint}`.trim();
  }
  return err.message ?? String(e);
}

export class GoogleDirectorySource implements DirectorySource {
  readonly kind = GOOGLE_WORKSPACE;
  private made = 0;
  private readonly api: admin_directory_v1.Admin;
  private readonly budget: number;
  private readonly pageSize: number;
  private budgetSpent = false;

  constructor(
    key: ServiceAccountKey,
    private readonly config: StoredGoogleConfig,
    private readonly opts: GoogleClientOptions = {},
    /** Aborted when the instance shuts down: requests in flight and retry waits end at once, with the signal's reason. */
    private readonly signal?: AbortSignal,
  ) {
    this.budget = opts.requestBudget ?? 20_000;
    this.pageSize = opts.pageSize ?? 500;
    const auth = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: [...GOOGLE_SCOPES], subject: config.adminEmail });
    const tokenUrl = opts.tokenUrl;
    if (tokenUrl) {
      auth.transporter.interceptors.request.add({
        resolved: async (c) => {
          if (String(c.url) === GOOGLE_TOKEN_URL) c.url = new URL(tokenUrl);
          return c;
        },
      });
    }
    const base = opts.retryBaseMs ?? 1000;
    const max = opts.retryMaxMs ?? 64_000;
    this.api = admin({
      version: 'directory_v1',
      auth,
      ...(opts.rootUrl ? { rootUrl: opts.rootUrl } : {}),
      retry: true,
      retryConfig: {
        retry: opts.retries ?? 6,
        noResponseRetries: 2,
        httpMethodsToRetry: ['GET'],
        statusCodesToRetry: [
          [429, 429],
          [500, 599],
        ],
        shouldRetry: (err) => this.shouldRetry(err as RetryError, opts.retries ?? 6),
        retryBackoff: (err, _delay) => {
          const e = err as RetryError;
          const attempt = e.config?.retryConfig?.currentRetryAttempt ?? 0;
          return this.wait(backoffMs(attempt, base, max, retryAfterMs(e.response?.headers)));
        },
        onRetryAttempt: () => {
          this.made++;
        },
      },
    });
  }

  get requests(): number {
    return this.made;
  }

  /** A retry's wait, cut short when the run is stopped (call() then throws the signal's reason). */
  private wait(ms: number): Promise<void> {
    return sleep(ms, undefined, this.options);
  }

  /** Options of every Directory API call: the run's signal. */
  private get options() {
    return this.signal ? { signal: this.signal } : {};
  }

  private shouldRetry(e: RetryError, retries: number): boolean {
    if (this.signal?.aborted) return false;
    const status = e.response?.status;
    if ((e.config?.method ?? 'GET').toUpperCase() !== 'GET') return false;
    if (status !== undefined && status !== 429 && (status < 500 || status > 599)) return false;
    if ((e.config?.retryConfig?.currentRetryAttempt ?? 0) >= retries) return false;
    if (this.made >= this.budget) {
      this.budgetSpent = true;
      return false;
    }
    return true;
  }

  private budgetError() {
    return fail('ROLLCALL_SOURCE_REQUEST_BUDGET', `the run made ${this.made} requests to Google, its budget; it stopped there (raise the budget or restrict the sync to organisational units or groups)`);
  }

  /** One API call: counted, refused past the budget, Google's errors as ROLLCALL_SOURCE_API_ERROR. */
  private async call<T>(what: string, fn: () => Promise<{ data: T }>): Promise<T> {
    if (this.signal?.aborted) throw this.signal.reason;
    if (this.made >= this.budget) throw this.budgetError();
    this.made++;
    try {
      return (await fn()).data;
    } catch (e) {
      // Stopped (shutting down): the reason, not as Google's failure.
      if (this.signal?.aborted) throw this.signal.reason;
      if (isRollcallError(e)) throw e;
      if (this.budgetSpent) throw this.budgetError();
      throw fail('ROLLCALL_SOURCE_API_ERROR', `Google Workspace ${what} failed: ${describeGoogleError(e)}`);
    }
  }

  /** Every page of a listing, following nextPageToken. */
  private async *pages<T extends { nextPageToken?: string | null }>(what: string, fetch: (pageToken: string | undefined) => Promise<{ data: T }>): AsyncGenerator<T> {
    let pageToken: string | undefined;
    do {
      const page: T = await this.call(what, () => fetch(pageToken));
      yield page;
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
  }

  private listUsers(extra: admin_directory_v1.Params$Resource$Users$List) {
    return this.pages('users.list', (pageToken) =>
      this.api.users.list({ customer: 'my_customer', maxResults: Math.min(this.pageSize, 500), projection: 'full', orderBy: 'email', pageToken, ...extra }, this.options),
    );
  }

  /** In one of the listed organisational units (or a child of one); every user when none are listed. */
  private inScope(u: admin_directory_v1.Schema$User): boolean {
    const units = this.config.orgUnits;
    const path = u.orgUnitPath ?? '/';
    return !units.length || units.some((ou) => ou === '/' || path === ou || path.startsWith(ou + '/'));
  }

  /**
   * users.get by Google's id (immutable, unlike the primary address the listing is
   * ordered by): the user as the listing would have given it, or undefined when
   * Google has no such user (404) or it is outside the synced units.
   */
  async user(id: string): Promise<SourceUser | undefined> {
    const u = await this.call('users.get', async () => {
      try {
        return await this.api.users.get({ userKey: id, projection: 'full' }, this.options);
      } catch (e) {
        if ((e as { response?: { status?: number } }).response?.status === 404) return { data: undefined };
        throw e;
      }
    });
    if (!u?.id || !u.primaryEmail || u.id !== id || !this.inScope(u)) return undefined;
    return googleUserToScim(u, this.config);
  }

  async *users(): AsyncIterable<SourceUser[]> {
    const queries = this.config.orgUnits.length ? this.config.orgUnits.map((ou) => `orgUnitPath='${ou}'`) : [undefined];
    // An organisational unit's children are listed with it: a user in two listed units comes once.
    const seen = new Set<string>();
    for (const query of queries) {
      for await (const page of this.listUsers(query ? { query } : {})) {
        const users = (page.users ?? []).filter((u) => u.id && u.primaryEmail && !seen.has(u.id));
        for (const u of users) seen.add(u.id!);
        yield users.map((u) => googleUserToScim(u, this.config));
      }
    }
  }

  async *deletedUsers(): AsyncIterable<string[]> {
    for await (const page of this.listUsers({ showDeleted: 'true' })) {
      yield (page.users ?? []).map((u) => u.id).filter((id): id is string => !!id);
    }
  }

  async *groups(): AsyncIterable<SourceGroup[]> {
    const only = this.config.groups.length ? new Set(this.config.groups) : undefined;
    for await (const page of this.pages('groups.list', (pageToken) => this.api.groups.list({ customer: 'my_customer', maxResults: Math.min(this.pageSize, 200), pageToken }, this.options))) {
      const groups = (page.groups ?? []).filter((g) => g.id && (!only || only.has((g.email ?? '').toLowerCase())));
      yield groups.map(googleGroupToScim);
    }
  }

  async memberIds(groupId: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of this.pages('members.list', (pageToken) => this.api.members.list({ groupKey: groupId, maxResults: Math.min(this.pageSize, 200), pageToken }, this.options))) {
      for (const m of page.members ?? []) if (m.id && (m.type ?? 'USER') === 'USER') ids.push(m.id);
    }
    return ids;
  }
}
