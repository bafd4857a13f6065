/**
 * TLS for PostgreSQL the way libpq reads `sslmode` (what psql users and hosted
 * databases' connection strings expect). node-postgres instead treats `require`
 * and `prefer` as `verify-full`, so a server with a self-signed or private-CA
 * certificate (common on hosted databases) fails with `sslmode=require`, and
 * `prefer` never falls back to plain text. We take the ssl* parameters out of
 * the URL and hand node-postgres an explicit `ssl` setting.
 *
 *   disable            no TLS
 *   allow, prefer      TLS without certificate checks; plain text if the server has no TLS
 *   require            TLS without certificate checks (with sslrootcert: as verify-ca)
 *   verify-ca          TLS; the certificate must chain to sslrootcert (or the system CAs)
 *   verify-full        as verify-ca, and the certificate must name the host
 *   no-verify          node-postgres's own name for require
 *
 * Unset: PGSSLMODE, else no TLS (node-postgres's default; libpq's would be prefer).
 */
import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface PostgresTls {
  /** The URL without ssl* parameters. */
  url: string;
  mode: SslMode | undefined;
  /** What node-postgres gets as `ssl`. */
  ssl: false | ConnectionOptions;
  /** prefer/allow: if the server has no TLS, connect again without it. */
  fallbackToPlain: boolean;
}

const SSL_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'ssl', 'uselibpqcompat'];

function readFile(param: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`DATABASE_URL ${param} '${file}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function postgresTls(url: URL, env: NodeJS.ProcessEnv = process.env): PostgresTls {
  const u = new URL(url.toString());
  const raw = (u.searchParams.get('sslmode') ?? env.PGSSLMODE ?? '').trim().toLowerCase();
  if (raw && !(SSL_MODES as readonly string[]).includes(raw)) {
    throw new Error(`DATABASE_URL sslmode '${raw}' is not one of ${SSL_MODES.join(', ')}`);
  }
  const mode = (raw || undefined) as SslMode | undefined;
  const rootCert = u.searchParams.get('sslrootcert');
  const cert = u.searchParams.get('sslcert');
  const key = u.searchParams.get('sslkey');
  const passphrase = u.searchParams.get('sslpassword') ?? undefined;
  for (const p of SSL_PARAMS) u.searchParams.delete(p);

  // Client certificates and a root CA apply to every mode that uses TLS.
  const files: ConnectionOptions = {};
  if (cert) files.cert = readFile('sslcert', cert);
  if (key) files.key = readFile('sslkey', key);
  if (passphrase) files.passphrase = passphrase;
  if (rootCert && rootCert !== 'system') files.ca = readFile('sslrootcert', rootCert);

  const verifyChainOnly: ConnectionOptions = { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  let ssl: PostgresTls['ssl'];
  switch (mode) {
    case undefined:
    case 'disable':
      ssl = false;
      break;
    case 'allow':
    case 'prefer':
    case 'no-verify':
      ssl = { ...files, rejectUnauthorized: false };
      break;
    case 'require':
      // libpq: with a root certificate given, require verifies the chain like verify-ca.
      ssl = rootCert ? verifyChainOnly : { ...files, rejectUnauthorized: false };
      break;
    case 'verify-ca':
      ssl = verifyChainOnly;
      break;
    case 'verify-full':
      ssl = { ...files, rejectUnauthorized: true };
      break;
  }
  return { url: u.toString(), mode, ssl, fallbackToPlain: mode === 'allow' || mode === 'prefer' };
}

/** The error node-postgres gives when TLS was asked of a server without it. */
export function isNoTlsOnServer(e: unknown): boolean {
  return /does not support SSL/i.test((e as Error)?.message ?? '');
}
