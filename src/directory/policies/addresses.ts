/**
 * The e-mail addresses a user document carries, for the address policies
 * (domains, role mailboxes). Shared so both policies agree on what counts as an
 * address and how it splits.
 */
import { domainToASCII } from 'node:url';
import type { Doc } from '../../scim/resource.js';

export interface Address {
  /** Where in the document the address sits, for error messages: `userName`, `emails[1].value`. */
  where: string;
  /** The address as sent (trimmed). */
  address: string;
  /** Everything before the last `@`; undefined when there is no `@`. */
  local?: string;
  /** Everything after the last `@`, lower-cased; undefined when there is no `@`. */
  domain?: string;
}

function split(where: string, raw: string): Address {
  const address = raw.trim();
  // The LAST `@`: a quoted local part may itself contain `@` ("a@b"@acme.com),
  // and the part after the last one is where the mail is delivered.
  const at = address.lastIndexOf('@');
  if (at < 0) return { where, address };
  return { where, address, local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

/**
 * userName when it looks like an address (contains `@`), then every non-empty
 * emails[].value. Empty values are skipped: IdPs send `""` for unset attributes.
 */
export function addressesOf(doc: Doc): Address[] {
  const out: Address[] = [];
  if (typeof doc.userName === 'string' && doc.userName.includes('@')) out.push(split('userName', doc.userName));
  if (Array.isArray(doc.emails)) {
    doc.emails.forEach((e, i) => {
      const v = typeof e === 'object' && e !== null ? (e as Doc).value : undefined;
      if (typeof v === 'string' && v.trim() !== '') out.push(split(`emails[${i}].value`, v));
    });
  }
  return out;
}

/**
 * The domain in the ASCII (punycode) form settings store, so `müller.de` matches
 * a listed `xn--mller-kva.de`. ASCII domains are returned unchanged (already lower-case).
 */
export function asciiDomain(domain: string): string {
  if (!/[^\u0000-\u007f]/.test(domain)) return domain;
  return domainToASCII(domain) || domain;
}
