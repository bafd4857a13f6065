/**
 * The console's only way to the server: the admin API under /api/v1, with the
 * session cookie (same origin) and the header that marks requests as the
 * console's (the server refuses cookie-authenticated changes without it).
 */
export interface ApiErrorBody {
  error: { status: number; code: string; message: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: { 'x-rollcall-console': '1', accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, 'ROLLCALL_INTERNAL', text.slice(0, 200) || res.statusText);
  }
  if (!res.ok) {
    const e = (parsed as ApiErrorBody | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'ROLLCALL_INTERNAL', e?.message ?? res.statusText);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A query string from the values that are set. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface Organization {
  id: string;
  name: string;
  plan: string;
  scimAllowed: boolean;
  createdAt: string;
}

export interface ConnectionSettings {
  domains: string[];
  rejectCollectiveAddresses: boolean;
  defaultLanguage: string | null;
  defaultRole: string;
  genderValues: Record<string, string>;
  attributeMap: Record<string, string>;
  groupRules: { when: { attribute: string; in: string[] }; addTo: string }[];
  retentionDays: number;
  [key: string]: unknown;
}

export interface Connection {
  id: string;
  name: string;
  organizationId: string | null;
  kind: string;
  workspace: string;
  status: string;
  createdAt: string;
  scimUrl: string;
  settings?: ConnectionSettings;
  organization?: Organization;
  token?: string;
  /** A pulled connection's source, in the answer that created it. */
  source?: SourceInfo;
}

/** What one sync run of a pulled connection (Google Workspace) did. */
export interface SourceRun {
  id: string;
  trigger: 'setup' | 'schedule' | 'manual';
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  counts: {
    usersSeen: number;
    usersCreated: number;
    usersUpdated: number;
    usersUnchanged: number;
    usersDeactivated: number;
    usersDeleted: number;
    groupsSeen: number;
    groupsCreated: number;
    groupsUpdated: number;
    groupsDeleted: number;
    errors: number;
    requests: number;
  };
  errors: { kind: 'user' | 'group'; sourceId: string; name: string; code: string; message: string }[];
  message: string | null;
}

/** Where a pulled connection syncs from (never its key). */
export interface SourceInfo {
  connectionId: string;
  kind: string;
  config: { adminEmail: string; domain: string; orgUnits: string[]; groups: string[]; clientId: string; clientEmail: string; [key: string]: unknown };
  intervalMinutes: number;
  nextRunAt: string | null;
  running: boolean;
  lastRun: SourceRun | null;
}

/** The read-only scopes a Google Workspace connection's service account is granted. */
export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
];

export interface Session {
  scope: 'admin' | 'organization';
  organization?: Organization;
}

export interface LoggedRequest {
  id: string;
  at: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  client: string;
  userAgent: string | null;
  resourceType: string | null;
  resourceId: string | null;
  error: { code: string; scimType: string | null; detail: string } | null;
  body?: unknown;
}

export interface Health {
  lastRequestAt: string | null;
  lastError: LoggedRequest | null;
  days: { day: string; requests: number; errors: number }[];
}

export interface User {
  id: string;
  connectionId: string;
  userName: string;
  displayName: string | null;
  externalId: string | null;
  email: string | null;
  state: string;
  active: boolean;
  role: string | null;
  language: string | null;
  workspace: string;
  profile: Record<string, unknown>;
  flags: string[];
  createdAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
  deletedAt: string | null;
  groups: { id: string; displayName: string }[];
  scim: Record<string, unknown>;
}

export interface Group {
  id: string;
  displayName: string;
  externalId: string | null;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface HistoryEntry {
  at: string;
  type: string;
  changes?: { path: string; before: unknown; after: unknown }[];
  group?: { id: string; displayName: string };
  requestId?: string;
}

export interface SetupLink {
  id: string;
  organizationId: string;
  createdAt: string;
  expiresAt: string;
  status: 'active' | 'expired' | 'revoked';
  uses: number;
  lastUsedAt: string | null;
  url?: string;
}
