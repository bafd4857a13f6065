/**
 * How JSON columns are stored: an event's `data`, and (format 2) the request
 * bodies the provisioning log keeps. Events were half of a SQLite database's bytes
 * per user: each one holds the whole user as the host app sees it (about 900 bytes
 * of JSON whose keys are the same in every row). On SQLite, whose columns take any
 * type, new rows store it as a BLOB: one format byte, then raw DEFLATE primed with
 * a dictionary of those keys (about 190 bytes; 50–60 µs to write, less to read).
 * PostgreSQL's column is typed text (TOAST compresses only values above 2 KB):
 * event data goes there as the same bytes in base64 (encodeEventText); request
 * bodies stay JSON text. Rows written before keep their text and read as before.
 *
 * A format, once shipped, never changes: a new dictionary gets a new format byte,
 * and the old ones stay readable.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Worker } from 'node:worker_threads';
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
  return encodeEventJson(JSON.stringify(data), compress);
}

/** `data` already as JSON text (the outbox measures it first, see bounded-data.ts). */
export function encodeEventJson(json: string, compress: boolean): StoredEventData {
  return compress ? framed(FORMAT_DEFLATE_V1, deflateRawSync(json, { dictionary: DICTIONARIES[FORMAT_DEFLATE_V1] })) : json;
}

/**
 * Event data for a text column (PostgreSQL): the same compressed bytes as SQLite's,
 * base64 after a '~' (which no JSON text starts with). An event's JSON was about
 * 1 KB a user there, stored whole; this is about 260 bytes. Rows written before
 * hold JSON text and read as before.
 */
export function encodeEventText(json: string): string {
  return `${TEXT_MARK}${(encodeEventJson(json, true) as Buffer).toString('base64')}`;
}

const TEXT_MARK = '~';

/** A SCIM request body (its JSON text) as the provisioning log stores it: like event data, with format 2's dictionary. */
export function encodeRequestBody(json: string, compress: boolean): StoredEventData {
  return compress ? framed(FORMAT_DEFLATE_SCIM_V1, deflateRawSync(json, { dictionary: DICTIONARY_SCIM_V1 })) : json;
}

function framed(format: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = format;
  out.set(body, 1);
  return out;
}

// The worker's whole program (plain JS, so it runs from dist/ and from the sources alike).
const COMPRESSOR_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { deflateRawSync } = require('node:zlib');
const dictionary = Buffer.from(workerData.dictionary);
parentPort.on('message', ({ id, texts }) => {
  parentPort.postMessage({ id, out: texts.map((t) => (t === null ? null : deflateRawSync(t, { dictionary }))) });
});`;

/**
 * Compresses request bodies for the provisioning log on a worker thread: about
 * 20 µs of zlib per body stays off the event loop, which keeps serving requests
 * while the log is written. If the worker cannot run, the same work is done here.
 */
export class RequestBodyCompressor {
  private worker: Worker | undefined;
  private failed = false;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: (Uint8Array | null)[]) => void; reject: (e: unknown) => void }>();

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    try {
      // Logged bodies are at most 32 KiB: a small heap keeps the thread's memory small.
      const w = new Worker(COMPRESSOR_SOURCE, { eval: true, workerData: { dictionary: DICTIONARY_SCIM_V1 }, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
      w.unref();
      w.on('message', ({ id, out }: { id: number; out: (Uint8Array | null)[] }) => {
        this.waiting.get(id)?.resolve(out);
        this.waiting.delete(id);
      });
      const fail = (err: unknown) => {
        this.failed = true;
        this.worker = undefined;
        for (const p of this.waiting.values()) p.reject(err);
        this.waiting.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => code !== 0 && fail(new Error(`the compression worker exited with ${code}`)));
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  /** Each JSON text as stored (`null` stays null); uncompressed where the column takes no bytes. */
  async encode(texts: (string | null)[], compress: boolean): Promise<(StoredEventData | null)[]> {
    if (!compress || !texts.some((t) => t !== null)) return texts;
    const worker = this.start();
    let raw: (Uint8Array | null)[] | undefined;
    if (worker) {
      const id = this.next++;
      raw = await new Promise<(Uint8Array | null)[]>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        worker.postMessage({ id, texts });
      }).catch(() => undefined);
    }
    if (!raw) return texts.map((t) => (t === null ? null : encodeRequestBody(t, true)));
    return raw.map((b) => (b === null ? null : framed(FORMAT_DEFLATE_SCIM_V1, b)));
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failed = true;
    if (w) await w.terminate();
  }
}

/** A stored `data` back as the object it was. */
export function decodeEventData(stored: StoredEventData): Record<string, unknown> {
  if (typeof stored === 'string') {
    if (!stored.startsWith(TEXT_MARK)) return JSON.parse(stored) as Record<string, unknown>;
    stored = Buffer.from(stored.slice(TEXT_MARK.length), 'base64');
  }
  const bytes = Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const dictionary = DICTIONARIES[bytes[0]];
  if (!dictionary) throw new Error(`stored JSON has an unknown format (${bytes[0]}): written by a newer Rollcall?`);
  return JSON.parse(inflateRawSync(bytes.subarray(1), { dictionary }).toString('utf8')) as Record<string, unknown>;
}
