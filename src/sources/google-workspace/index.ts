/** Google Workspace as a directory source: setup (settings, key) and the source a run reads. */
import type { LoadedSource } from '../../directory/sources.js';
import type { DirectorySource } from '../source.js';
import { type GoogleClientOptions, GoogleDirectorySource } from './client.js';
import { type StoredGoogleConfig, parseGoogleConfig, parseServiceAccountKey } from './config.js';

export { GOOGLE_SCOPES, GOOGLE_WORKSPACE, type GoogleConfig, type StoredGoogleConfig } from './config.js';
export type { GoogleClientOptions } from './client.js';

export interface GoogleSetupInput {
  /** The service account key file's text (JSON). */
  key: string;
  adminEmail: string;
  domain: string;
  orgUnits?: string[];
  groups?: string[];
  customAttributes?: Record<string, string>;
}

/** The settings to store (with the service account's address and client id) and the checked key text. */
export function prepareGoogle(input: GoogleSetupInput): { config: StoredGoogleConfig; credentials: string } {
  const key = parseServiceAccountKey(input.key);
  const config = parseGoogleConfig({ adminEmail: input.adminEmail, domain: input.domain, orgUnits: input.orgUnits, groups: input.groups, customAttributes: input.customAttributes });
  return { config: { ...config, clientEmail: key.client_email, clientId: key.client_id }, credentials: JSON.stringify(key) };
}

/** Settings changed later (not the key): checked like new ones, the key's address and client id kept. */
export function reconfigureGoogle(current: Record<string, unknown>, change: Partial<Omit<GoogleSetupInput, 'key'>>): StoredGoogleConfig {
  const { clientEmail, clientId, ...given } = current as StoredGoogleConfig;
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
  return { ...parseGoogleConfig({ ...given, ...defined }), clientEmail, clientId };
}

/** The run's source; `signal` stops its requests and retry waits (the instance shutting down). */
export function openGoogle(loaded: LoadedSource, opts: GoogleClientOptions, signal?: AbortSignal): DirectorySource {
  return new GoogleDirectorySource(parseServiceAccountKey(loaded.credentials()), reconfigureGoogle(loaded.config, {}), opts, signal);
}
