/**
 * How JSON columns are stored: an event's `data`, and (format 2) the request
 * bodies the provisioning log keeps. Events were half of a SQLite database's bytes
 * per user: each one holds the whole user as the host app sees it (about 900 bytes
 * of JSON whose keys are the same in every row). On SQLite, whose columns take any
 * type, new rows store it as a BLOB: one format byte, then raw DEFLATE primed with
 * a dictionary of those keys (about 190 bytes; 50–60 µs to write, less to read).
 * PostgreSQL keeps JSON text (its column is typed text; TOAST compresses only
 * values above 2 KB). Rows written before keep their text and read as before.
 *
 * A format, once shipped, never changes: a new dictionary gets a new format byte,
 * and the old ones stay readable.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { EventsTable } from '../store/types.js';

/**
 * Format 1's dictionary: the keys and common values of user and group views in
 * event data (directory/emitted-events.ts), the most frequent last (DEFLATE finds
 * near matches cheapest). Any JSON compresses with it; these compress best.
 */
const DICTIONARY_V1 = Buffer.from(
  '"changes":[{"path":"","before":null,"after":null}],' +
    '"group":{"id":"","externalId":"","displayName":"","createdAt":"","updatedAt":"","version":1},' +
    '"user":{"id":"","userName":"","externalId":null,"displayName":null},' +
    '"phoneNumbers":[{"type":"mobile","value":""}],"addresses":[{"type":"work","formatted":"","streetAddress":"","locality":"","postalCode":"","country":""}],' +
    '"preferredLanguage":"","locale":"","timezone":"","userType":"","nickName":"","profileUrl":"","roles":[],' +
    '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"","costCenter":"","organization":"","division":"","department":"","manager":{"value":""}},' +
    '"scim":{"userName":"","active":true,"displayName":"","name":{"formatted":"","givenName":"","familyName":"","middleName":"","honorificPrefix":""},' +
    '"emails":[{"primary":true,"type":"work","value":""}],"title":"",' +
    '{"id":"","externalId":"","userName":"","displayName":"","active":true,"state":"active","email":"","workspace":"default","role":"member",' +
    '"language":null,"primaryLanguage":null,"profile":{},"flags":[],"createdAt":"","updatedAt":"","deactivatedAt":null,"deletedAt":null,"version":1,',
);

/**
 * Format 2's dictionary: SCIM request bodies as IdPs send them (the provisioning
 * log's, directory/provisioning-log.ts). Smaller than format 1's, so it is also
 * quicker to load: about 20 µs and 100 bytes for a typical create.
 */
const DICTIONARY_SCIM_V1 = Buffer.from(
  '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"},{"op":"replace","path":"members","value":[{"value":""}]},{"op":"Add","path":"members","value":[{"value":""}]}]}' +
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"","members":[{"value":"","display":""}]}' +
    '"phoneNumbers":[{"type":"mobile","value":""}],"addresses":[{"type":"work","formatted":"","streetAddress":"","locality":"","postalCode":"","country":""}],"preferredLanguage":"","locale":"","timezone":"","userType":"","nickName":"",' +
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"","active":true,"displayName":"",' +
    '"name":{"formatted":"","givenName":"","familyName":""},"emails":[{"primary":true,"type":"work","value":""}],"title":"","externalId":"",' +
    '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"","department":"","manager":{"value":""}}}',
);

/** The first byte of a stored BLOB: which dictionary it was written with. */
const FORMAT_DEFLATE_V1 = 1;
const FORMAT_DEFLATE_SCIM_V1 = 2;
const DICTIONARIES: Record<number, Buffer> = { [FORMAT_DEFLATE_V1]: DICTIONARY_V1, [FORMAT_DEFLATE_SCIM_V1]: DICTIONARY_SCIM_V1 };

/** What the events.data column holds: JSON text, or (SQLite) a compressed BLOB. */
export type StoredEventData = EventsTable['data'];

/** `data` as a row stores it: compressed where the backend's column takes bytes. */
export function encodeEventData(data: Record<string, unknown>, compress: boolean): StoredEventData {
  return encode(data, compress, FORMAT_DEFLATE_V1);
}

/** A SCIM request body as the provisioning log stores it: like event data, with format 2's dictionary. */
export function encodeRequestBody(body: unknown, compress: boolean): StoredEventData {
  return encode(body, compress, FORMAT_DEFLATE_SCIM_V1);
}

function encode(value: unknown, compress: boolean, format: number): StoredEventData {
  const json = JSON.stringify(value);
  if (!compress) return json;
  const body = deflateRawSync(json, { dictionary: DICTIONARIES[format] });
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = format;
  body.copy(out, 1);
  return out;
}

/** A stored `data` back as the object it was. */
export function decodeEventData(stored: StoredEventData): Record<string, unknown> {
  if (typeof stored === 'string') return JSON.parse(stored) as Record<string, unknown>;
  const bytes = Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const dictionary = DICTIONARIES[bytes[0]];
  if (!dictionary) throw new Error(`stored JSON has an unknown format (${bytes[0]}): written by a newer Rollcall?`);
  return JSON.parse(inflateRawSync(bytes.subarray(1), { dictionary }).toString('utf8')) as Record<string, unknown>;
}
