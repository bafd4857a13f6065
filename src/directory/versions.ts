/** ETags (RFC 7644 §3.14): weak validators built from the row's version counter. */
import { fail } from '../scim/errors.js';

export function etag(version: number): string {
  return `W/"${version}"`;
}

function opaque(tag: string): string {
  return tag.trim().replace(/^W\//i, '');
}

/** True when an If-Match / If-None-Match header value matches the current version. */
export function etagMatches(header: string, version: number): boolean {
  const current = opaque(etag(version));
  return header.split(',').some((t) => t.trim() === '*' || opaque(t) === current);
}

/** Throws 412 when a conditional write names another version. */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch !== undefined && ifMatch !== '' && !etagMatches(ifMatch, version)) {
    throw fail('ROLLCALL_VERSION_MISMATCH', `The resource has changed: its version is ${etag(version)}, the request expected ${ifMatch}.`);
  }
}
