/**
 * Request body parsing for SCIM and the admin API: application/scim+json and
 * application/json (Okta sends the latter), parsed with prototype-poisoning
 * protection, errors in the catalogue. Other media types are refused with 415 by
 * Fastify itself.
 *
 * Three things JSON.parse lets through are refused here, once for every route:
 * bytes that are not UTF-8 (Node would replace them with U+FFFD and store the
 * damage), numbers beyond the double range (JSON.parse gives Infinity, which JSON
 * columns turn into null or the text "Infinity"), and U+0000 in a string or key
 * (PostgreSQL cannot store it in text or jsonb, SQLite can: one rule for both;
 * `%00` in the URL is refused alike).
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { fail } from '../scim/errors.js';

const NUL_GUARD = 'rollcallNulGuard';

export function registerJsonBodies(app: FastifyInstance): void {
  // U+0000 in the URL (a path id, a filter value) meets the rule it meets in a body:
  // PostgreSQL cannot compare with it (a 500), SQLite can (a 404 or no match).
  // Once per instance tree: the standalone server and the SCIM plugin both call this.
  if (!app.hasDecorator(NUL_GUARD)) {
    app.decorate(NUL_GUARD, true);
    app.addHook('onRequest', async (req) => {
      if (req.url.includes('%00')) throw fail('ROLLCALL_NUL_CHARACTER', 'The URL contains the NUL character (%00), which cannot be stored or searched for; remove it.');
    });
  }
  // Only JSON is SCIM: Fastify's built-in text/plain parser would let other bodies through.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, req));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** The body as JSON, or a catalogue error; undefined for an empty (or all-whitespace) body. */
export function parseJsonBody(raw: Buffer, req?: FastifyRequest): unknown {
  // isUtf8 is the fast check (no copy); decoding after it cannot meet a bad byte.
  if (!isUtf8(raw)) throw fail('ROLLCALL_INVALID_UTF8', `The request body is not valid UTF-8${declaredCharset(req)}; SCIM and the admin API take JSON in UTF-8 only.`);
  // trim() also drops a leading byte order mark (U+FEFF is white space to it).
  const text = raw.toString('utf8').trim();
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch (e) {
    throw fail('ROLLCALL_INVALID_JSON', `The request body is not valid JSON: ${(e as Error).message}`);
  }
  checkJsonValues(value);
  return value;
}

function declaredCharset(req: FastifyRequest | undefined): string {
  const type = req?.headers['content-type'];
  // A plain indexOf scan, not a regex: the header is the client's.
  const at = typeof type === 'string' ? type.toLowerCase().indexOf('charset=') : -1;
  if (at < 0) return '';
  const charset = type!.slice(at + 8).split(';')[0].trim().replace(/"/g, '').slice(0, 40);
  return charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8' ? ` (the Content-Type says charset=${charset})` : '';
}

/** One container still to look into, and how it was reached (for the message only). */
interface Frame {
  value: object;
  parent: Frame | undefined;
  key: string | number | undefined;
  depth: number;
}

/**
 * Nesting a body may have. A SCIM resource nests four levels (PATCH value →
 * extension → attribute → sub-attribute); deeper bodies are refused here, before
 * any recursive code (serialisers, the provisioning log) could overflow the stack.
 */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses a non-finite number or a U+0000 anywhere in a parsed JSON value (keys
 * included), naming where it is. Iterative: V8 parses JSON nested far deeper than
 * a recursive walk could follow.
 */
export function checkJsonValues(root: unknown): void {
  checkLeaf(root, undefined, undefined);
  if (typeof root !== 'object' || root === null) return;
  const stack: Frame[] = [{ value: root, parent: undefined, key: undefined, depth: 1 }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    if (frame.depth > MAX_BODY_DEPTH) throw fail('ROLLCALL_BODY_TOO_DEEP', `${where(frame.parent, frame.key)} is nested deeper than ${MAX_BODY_DEPTH} levels; SCIM bodies need a handful.`);
    if (Array.isArray(frame.value)) {
      const list = frame.value as unknown[];
      for (let i = 0; i < list.length; i++) {
        const v = list[i];
        if (typeof v === 'object' && v !== null) stack.push({ value: v, parent: frame, key: i, depth: frame.depth + 1 });
        else checkLeaf(v, frame, i);
      }
    } else {
      const obj = frame.value as Record<string, unknown>;
      for (const k in obj) {
        if (k.includes('\u0000')) throw nul(frame, k, 'a key');
        const v = obj[k];
        if (typeof v === 'object' && v !== null) stack.push({ value: v, parent: frame, key: k, depth: frame.depth + 1 });
        else checkLeaf(v, frame, k);
      }
    }
  }
}

function checkLeaf(v: unknown, parent: Frame | undefined, key: string | number | undefined): void {
  if (typeof v === 'number' && !Number.isFinite(v)) {
    throw fail(
      'ROLLCALL_NUMBER_OUT_OF_RANGE',
      `${where(parent, key)} is a number outside the range this server stores (about ±1.8e308); send a smaller number or a string.`,
    );
  }
  if (typeof v === 'string' && v.includes('\u0000')) throw nul(parent, key, 'a value');
}

function nul(parent: Frame | undefined, key: string | number | undefined, what: string) {
  return fail('ROLLCALL_NUL_CHARACTER', `${where(parent, key)} contains the NUL character (U+0000) in ${what}, which cannot be stored; remove it.`);
}

/** `emails[0].value`, `urn:…:enterprise:2.0:User:employeeNumber`, or the body itself. */
function where(parent: Frame | undefined, key: string | number | undefined): string {
  const keys: (string | number)[] = [];
  for (let f: Frame | undefined = parent, k = key; k !== undefined && f; k = f.key, f = f.parent) keys.push(k);
  if (!keys.length) return 'The request body';
  let path = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i];
    if (typeof k === 'number') path += `[${k}]`;
    else {
      const shown = k.length > 100 ? `${k.slice(0, 100)}…` : k;
      // Keys with control characters are shown escaped; SCIM's own separator after a schema URN.
      const name = /[\u0000-\u001f"]/.test(shown) ? JSON.stringify(shown) : shown;
      path += path === '' ? name : /^urn:/i.test(String(keys[i + 1])) ? `:${name}` : `.${name}`;
    }
  }
  return `'${path}'`;
}
