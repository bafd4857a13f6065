/** Configuration from the environment. Bad values stop the process with one clear line. */
import { MAX_PER_MINUTE } from './directory/rate-limit.js';
import { TOKEN_TTL_SECONDS } from './directory/client-credentials.js';
import { RollcallError } from './scim/errors.js';
import { parseSecretKey } from './directory/secret-key.js';
import { DEFAULT_LIMITS, LIMIT_MINIMUMS, LIMIT_VARIABLES, type ScimLimits } from './scim/limits.js';
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** PUBLIC_URL, or http://localhost:PORT when unset (see publicUrlSet). */
  publicUrl: string;
  /** PUBLIC_URL was set: it wins over the URL a server recorded in the database. */
  publicUrlSet: boolean;
  logLevel: string;
  /** Largest request body accepted (bytes); larger bodies get SCIM 413. */
  bodyLimit: number;
  /** Plans whose organisations may use the SCIM API. */
  scimPlans: string[];
  /** ROLLCALL_ADMIN_TOKEN: the admin API key; unset, one is generated on first start and stored hashed. */
  adminToken: string | undefined;
  /** ROLLCALL_METRICS_TOKEN: a bearer token that opens /metrics (and nothing else); the admin key always does. */
  metricsToken: string | undefined;
  /** ROLLCALL_EVENTS=off: store no events (no feed, no webhooks, no in-process events). Default on. */
  events: boolean;
  /** ROLLCALL_EVENT_RETENTION_DAYS: events older than this are pruned once no endpoint needs them (0: kept forever). */
  eventRetentionDays: number;
  /** ROLLCALL_REQUEST_LOG=on|off and ROLLCALL_REQUEST_LOG_DAYS: the provisioning log and how long it keeps requests. */
  requestLog: { enabled: boolean; days: number };
  /** ROLLCALL_SESSION_HOURS: how long a console session lasts. */
  sessionHours: number;
  /** ROLLCALL_RATE_LIMIT: SCIM requests per connection per minute over all instances (0: no limit). */
  rateLimitPerMinute: number;
  /** ROLLCALL_OAUTH_TOKEN_TTL: seconds (or 30m, 1h) an OAuth access token works; default 1 h. */
  oauthTokenTtlSeconds: number;
  /** ROLLCALL_OAUTH_FAILURES_PER_MINUTE: failed token requests per client id and address per minute before 429. */
  oauthFailuresPerMinute: number;
  /**
   * ROLLCALL_TRUST_PROXY: whose X-Forwarded-For/-Proto to believe (Fastify's
   * trustProxy): false (default), true (any: only behind a proxy that overwrites
   * them), a hop count, or addresses/CIDRs of the proxies.
   */
  trustProxy: boolean | number | string[];
  /** ROLLCALL_MIGRATE=on (default): apply pending migrations on start; off: refuse to start while any are pending. */
  migrate: 'apply' | 'check';
  /** LOG_FORMAT: pretty lines for people, JSON lines for machines; unset, pretty on a terminal. */
  logFormat: 'json' | 'pretty';
  /** Cost bounds of one SCIM request (ROLLCALL_MAX_*, see scim/limits.ts). */
  limits: ScimLimits;
  /** Webhook delivery (ROLLCALL_WEBHOOK_*). */
  webhooks: {
    backoffMs: number;
    maxBackoffMs: number;
    retryWindowMs: number;
    timeoutMs: number;
    pollMs: number;
    concurrency: number;
    /** ROLLCALL_WEBHOOK_ALLOW_PRIVATE=true: endpoints may be plain http and on private/loopback addresses (local development). */
    allowPrivate: boolean;
    /** ROLLCALL_SECRET_KEY: the key sealing secrets at rest (webhook secrets); unset, they are stored as generated. */
    secretKey: Buffer | undefined;
  };
  /** Google Workspace connections (ROLLCALL_GOOGLE_*): where the clients go (a proxy, a test double) and each run's request budget. */
  googleWorkspace: { rootUrl?: string; tokenUrl?: string; requestBudget: number };
}

/** A variable Rollcall cannot use; the message names it and what it accepts. */
export class ConfigError extends RollcallError {
  constructor(message: string) {
    super('ROLLCALL_CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

/** Where the server's log lines go (stdout) is a terminal a person reads. */
const isTty = () => process.stdout.isTTY === true;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const host = (env.HOST ?? '127.0.0.1').trim() || '127.0.0.1';
  const databaseUrl = (env.DATABASE_URL ?? 'sqlite:./data/rollcall.db').trim();
  if (!databaseUrl) throw new ConfigError('DATABASE_URL is empty; use e.g. sqlite:./data/rollcall.db');
  const publicUrlSet = !!env.PUBLIC_URL?.trim();
  let publicUrl = (publicUrlSet ? env.PUBLIC_URL! : `http://localhost:${port}`).trim();
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    if (u.search || u.hash) throw new Error('query');
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL without query, got '${publicUrl}'`);
  }
  publicUrl = publicUrl.replace(/\/+$/, '');
  const logLevel = (env.LOG_LEVEL ?? 'info').trim();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  const bodyLimit = int(env, 'ROLLCALL_BODY_LIMIT', 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const scimPlans = (env.ROLLCALL_SCIM_PLANS ?? 'enterprise')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  if (!scimPlans.length) throw new ConfigError('ROLLCALL_SCIM_PLANS must name at least one plan, e.g. enterprise');
  const adminToken = env.ROLLCALL_ADMIN_TOKEN?.trim() || undefined;
  if (adminToken !== undefined && (adminToken.length < 16 || /\s/.test(adminToken))) {
    throw new ConfigError('ROLLCALL_ADMIN_TOKEN must be at least 16 characters without spaces (e.g. from `openssl rand -hex 32`)');
  }
  const metricsToken = env.ROLLCALL_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && (metricsToken.length < 16 || /\s/.test(metricsToken))) {
    throw new ConfigError('ROLLCALL_METRICS_TOKEN must be at least 16 characters without spaces (e.g. from `openssl rand -hex 32`)');
  }
  const eventsSetting = (env.ROLLCALL_EVENTS ?? 'on').trim().toLowerCase();
  if (!['on', 'off'].includes(eventsSetting)) throw new ConfigError(`ROLLCALL_EVENTS must be on or off, got '${env.ROLLCALL_EVENTS}'`);
  const events = eventsSetting === 'on';
  const eventRetentionDays = int(env, 'ROLLCALL_EVENT_RETENTION_DAYS', 30, 0, 3650);
  const requestLogSetting = (env.ROLLCALL_REQUEST_LOG ?? 'on').trim().toLowerCase();
  if (!['on', 'off'].includes(requestLogSetting)) throw new ConfigError(`ROLLCALL_REQUEST_LOG must be on or off, got '${env.ROLLCALL_REQUEST_LOG}'`);
  const requestLog = { enabled: requestLogSetting === 'on', days: int(env, 'ROLLCALL_REQUEST_LOG_DAYS', 14, 1, 3650) };
  const sessionHours = int(env, 'ROLLCALL_SESSION_HOURS', 12, 1, 720);
  const rateLimitPerMinute = int(env, 'ROLLCALL_RATE_LIMIT', 0, 0, MAX_PER_MINUTE);
  const ttlRaw = (env.ROLLCALL_OAUTH_TOKEN_TTL ?? '').trim().toLowerCase();
  const ttl = /^(\d+)\s*(s|m|h)?$/.exec(ttlRaw);
  const oauthTokenTtlSeconds = !ttlRaw ? TOKEN_TTL_SECONDS.default : ttl ? Number(ttl[1]) * (ttl[2] === 'h' ? 3600 : ttl[2] === 'm' ? 60 : 1) : NaN;
  if (!(oauthTokenTtlSeconds >= TOKEN_TTL_SECONDS.min && oauthTokenTtlSeconds <= TOKEN_TTL_SECONDS.max)) {
    throw new ConfigError(`ROLLCALL_OAUTH_TOKEN_TTL must be seconds (or 30m, 1h) from ${TOKEN_TTL_SECONDS.min} s to 24 h, got '${env.ROLLCALL_OAUTH_TOKEN_TTL}'`);
  }
  const oauthFailuresPerMinute = int(env, 'ROLLCALL_OAUTH_FAILURES_PER_MINUTE', 10, 1, 100_000);
  const migrateSetting = (env.ROLLCALL_MIGRATE ?? 'on').trim().toLowerCase();
  if (!['on', 'off'].includes(migrateSetting)) throw new ConfigError(`ROLLCALL_MIGRATE must be on or off, got '${env.ROLLCALL_MIGRATE}'`);
  const migrate = migrateSetting === 'on' ? 'apply' : 'check';
  const formatSetting = (env.LOG_FORMAT ?? '').trim().toLowerCase();
  if (formatSetting && !['json', 'pretty'].includes(formatSetting)) throw new ConfigError(`LOG_FORMAT must be json or pretty, got '${env.LOG_FORMAT}'`);
  const logFormat = (formatSetting || (isTty() ? 'pretty' : 'json')) as 'json' | 'pretty';
  const trustRaw = (env.ROLLCALL_TRUST_PROXY ?? '').trim();
  let trustProxy: boolean | number | string[] = false;
  if (/^(true|on)$/i.test(trustRaw)) trustProxy = true;
  else if (/^\d+$/.test(trustRaw)) trustProxy = Number(trustRaw);
  else if (trustRaw && !/^(false|off)$/i.test(trustRaw)) {
    trustProxy = trustRaw.split(',').map((x) => x.trim()).filter(Boolean);
    for (const a of trustProxy) {
      if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a)) throw new ConfigError(`ROLLCALL_TRUST_PROXY must be true, false, a hop count or proxy addresses/CIDRs, got '${a}'`);
    }
  }
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ScimLimits)[]) {
    limits[key] = int(env, LIMIT_VARIABLES[key], DEFAULT_LIMITS[key], LIMIT_MINIMUMS[key], 1_000_000_000);
  }
  const DAY = 24 * 60 * 60_000;
  const webhooks = {
    backoffMs: int(env, 'ROLLCALL_WEBHOOK_BACKOFF_MS', 10_000, 1, DAY),
    maxBackoffMs: int(env, 'ROLLCALL_WEBHOOK_MAX_BACKOFF_MS', 0, 1, DAY),
    retryWindowMs: int(env, 'ROLLCALL_WEBHOOK_RETRY_WINDOW_MS', DAY, 1, 30 * DAY),
    timeoutMs: int(env, 'ROLLCALL_WEBHOOK_TIMEOUT_MS', 10_000, 100, 5 * 60_000),
    pollMs: int(env, 'ROLLCALL_WEBHOOK_POLL_MS', 1_000, 10, 60_000),
    concurrency: int(env, 'ROLLCALL_WEBHOOK_CONCURRENCY', 8, 1, 256),
    allowPrivate: false,
    secretKey: undefined as Buffer | undefined,
  };
  const allowPrivate = (env.ROLLCALL_WEBHOOK_ALLOW_PRIVATE ?? '').trim().toLowerCase();
  if (allowPrivate && !['true', 'false', 'on', 'off'].includes(allowPrivate)) {
    throw new ConfigError(`ROLLCALL_WEBHOOK_ALLOW_PRIVATE must be true or false, got '${env.ROLLCALL_WEBHOOK_ALLOW_PRIVATE}'`);
  }
  webhooks.allowPrivate = allowPrivate === 'true' || allowPrivate === 'on';
  // One key for every secret kept at rest (webhook secrets today), hence no WEBHOOK in its name.
  if (env.ROLLCALL_SECRET_KEY?.trim()) {
    try {
      webhooks.secretKey = parseSecretKey(env.ROLLCALL_SECRET_KEY);
    } catch (e) {
      throw new ConfigError(`ROLLCALL_SECRET_KEY ${(e as Error).message}`);
    }
  }
  const googleWorkspace = {
    rootUrl: httpUrl(env, 'ROLLCALL_GOOGLE_API_URL'),
    tokenUrl: httpUrl(env, 'ROLLCALL_GOOGLE_TOKEN_URL'),
    requestBudget: int(env, 'ROLLCALL_GOOGLE_REQUEST_BUDGET', 20_000, 10, 10_000_000),
  };
  // Unset: an hour, or the first backoff when that is longer.
  if (!webhooks.maxBackoffMs) webhooks.maxBackoffMs = Math.max(60 * 60_000, webhooks.backoffMs);
  if (webhooks.maxBackoffMs < webhooks.backoffMs) {
    throw new ConfigError(`ROLLCALL_WEBHOOK_MAX_BACKOFF_MS (${webhooks.maxBackoffMs}) must not be below ROLLCALL_WEBHOOK_BACKOFF_MS (${webhooks.backoffMs})`);
  }
  return { port, host, databaseUrl, publicUrl, publicUrlSet, logLevel, bodyLimit, scimPlans, adminToken, metricsToken, events, eventRetentionDays, requestLog, sessionHours, rateLimitPerMinute, oauthTokenTtlSeconds, oauthFailuresPerMinute, migrate, logFormat, trustProxy, limits, webhooks, googleWorkspace };
}

/** An optional absolute http(s) URL from the environment. */
function httpUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got '${raw}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an absolute http(s) URL, got '${raw}'`);
  return raw;
}
