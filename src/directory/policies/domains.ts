/** Verified-domain policy: only addresses at the connection's own domains are provisioned. */
import { fail } from '../../scim/errors.js';
import type { Doc } from '../../scim/resource.js';
import type { ConnectionSettings } from '../settings.js';
import { addressesOf, asciiDomain } from './addresses.js';

/**
 * With `settings.domains` set, userName (when it is an address) and every
 * emails[].value must be at exactly a listed domain. Subdomains are refused
 * unless listed themselves: `eu.acme.com` may be run by someone else.
 */
export function checkDomains(settings: ConnectionSettings, doc: Doc): void {
  if (settings.domains.length === 0) return;
  const allowed = new Set(settings.domains);
  const list = settings.domains.join(', ');
  for (const a of addressesOf(doc)) {
    if (a.domain === undefined || a.domain === '') {
      throw fail(
        'ROLLCALL_EMAIL_WITHOUT_DOMAIN',
        `'${a.address}' (${a.where}) is not an e-mail address with a domain; this connection only accepts addresses at ${list}.`,
      );
    }
    if (!allowed.has(a.domain) && !allowed.has(asciiDomain(a.domain))) {
      throw fail(
        'ROLLCALL_DOMAIN_NOT_VERIFIED',
        `'${a.address}' (${a.where}) is at domain '${a.domain}', which is not one of this connection's verified domains: ${list}.`,
      );
    }
  }
}
