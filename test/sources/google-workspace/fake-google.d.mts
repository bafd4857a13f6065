/** Types for fake-google.mjs (plain JS so that bench/ can use it without a build). */
export const SCOPES: string[];

export interface FakeKey {
  key: Record<string, string>;
  /** The key file's text, as uploaded. */
  text: string;
  /** The public half (PEM), for the fake token endpoint to check assertions. */
  publicKey: string;
}
export function serviceAccountKey(tokenUri?: string): FakeKey;
export function googleUser(i: number, domain?: string, extra?: Record<string, unknown>): Record<string, any> & { id: string; primaryEmail: string };
export function googleGroup(i: number, domain?: string): Record<string, any> & { id: string; email: string; name: string };

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  at: number;
}

export interface Fault {
  when(req: SeenRequest): boolean;
  status: number;
  retryAfter?: number;
  message?: string;
  /** Requests it still fails (counts down). */
  times: number;
  /** Requests it failed. */
  hits?: number;
}

export interface FakeGoogle {
  state: {
    users: Map<string, Record<string, any>>;
    deleted: Map<string, Record<string, any>>;
    groups: Map<string, Record<string, any>>;
    members: Map<string, { id: string; email: string; type: string; role?: string; status?: string }[]>;
  };
  faults: Fault[];
  /** Called with each request before it is answered. */
  hooks: ((req: SeenRequest) => void)[];
  seen: { requests: SeenRequest[]; tokens: number; inFlight: number; maxInFlight: number };
  rootUrl: string;
  tokenUrl: string;
  setDelay(ms: number): void;
  count(path: string): number;
  close(): Promise<void>;
}
export function startFakeGoogle(opts?: { publicKey?: string; clientEmail?: string; adminEmail?: string; delayMs?: number }): Promise<FakeGoogle>;
