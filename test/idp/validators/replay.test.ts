/**
 * Replays the IdP validation sequences in this folder (one JSON fixture each; the
 * format is described in ./README.md) against a fresh connection created with the
 * DEFAULT settings, authenticated with an OAuth client-credentials access token.
 * Runs on SQLite and PostgreSQL through the Vitest projects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomInt, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';

type Headers = Record<string, string | null>;

interface Step {
  name: string;
  method: string;
  path: string;
  headers?: Headers;
  body?: unknown;
  form?: Record<string, string>;
  repeat?: number;
  save?: Record<string, string>;
  expect: Record<string, unknown>;
  knownFailure?: string;
}

interface Fixture {
  name: string;
  contentType?: string;
  headers?: Headers;
  steps: Step[];
}

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = fs
  .readdirSync(HERE)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, fixture: JSON.parse(fs.readFileSync(path.join(HERE, f), 'utf8')) as Fixture }));

/** `body.Resources.0.id`, `body['urn:…:2.0:User'].manager.value`, `….length`. */
function lookup(root: unknown, where: string): unknown {
  let cur: unknown = root;
  for (const m of where.matchAll(/\['([^']*)'\]|([^.[\]]+)/g)) {
    const key = m[1] ?? m[2];
    if (cur === null || cur === undefined) return undefined;
    if (key === 'length' && (Array.isArray(cur) || typeof cur === 'string')) cur = cur.length;
    else cur = typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

/** Fills `{{name}}` / `{{name.path}}`; a string that is one placeholder keeps the value's JSON type. */
function fill(value: unknown, vars: Record<string, unknown>): unknown {
  const one = (expr: string): unknown => {
    if (expr === 'uuid') return randomUUID();
    const [head, ...rest] = expr.split('.');
    if (!(head in vars)) throw new Error(`unknown placeholder {{${expr}}}`);
    const v = rest.length ? lookup(vars[head], rest.join('.')) : vars[head];
    if (v === undefined) throw new Error(`placeholder {{${expr}}} has no value`);
    return v;
  };
  if (typeof value === 'string') {
    const whole = /^\{\{([^}]+)\}\}$/.exec(value);
    if (whole) return one(whole[1]);
    return value.replace(/\{\{([^}]+)\}\}/g, (_, e: string) => String(one(e)));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [fill(k, vars) as string, fill(v, vars)]));
  }
  return value;
}

function isOperator(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && Object.keys(v)[0].startsWith('$');
}

/** Does `actual` (an element) match `wanted`: objects partially (case-sensitive keys), the rest by equality. */
function matches(actual: unknown, wanted: unknown): boolean {
  if (wanted !== null && typeof wanted === 'object' && !Array.isArray(wanted)) {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(wanted).every(([k, v]) => matches((actual as Record<string, unknown>)[k], v));
  }
  return JSON.stringify(actual) === JSON.stringify(wanted);
}

function check(reply: Reply, key: string, wanted: unknown): void {
  const actual = key === 'status' ? reply.status : lookup(reply, key);
  const what = `${key} in ${JSON.stringify(reply.body)?.slice(0, 1500)}`;
  if (key === 'status' && Array.isArray(wanted)) return void expect(wanted, what).toContain(actual);
  if (!isOperator(wanted)) return void expect(actual, what).toEqual(wanted);
  const [op, arg] = Object.entries(wanted)[0];
  switch (op) {
    case '$absent':
      return void expect(actual, what).toBeUndefined();
    case '$present':
      return void expect(actual === undefined || actual === null || actual === '', what).toBe(false);
    case '$empty':
      return void expect(actual === undefined || actual === null || actual === '' || (Array.isArray(actual) && actual.length === 0), what).toBe(true);
    case '$type':
      return void expect(arg === 'integer' ? Number.isInteger(actual) : typeof actual, what).toBe(arg === 'integer' ? true : arg);
    case '$not':
      return void expect(actual, what).not.toEqual(arg);
    case '$match':
      return void expect(String(actual), what).toMatch(new RegExp(String(arg)));
    case '$contains':
    case '$notContains': {
      const found = Array.isArray(actual) ? actual.some((el) => matches(el, arg)) : typeof actual === 'string' && actual.includes(String(arg));
      return void expect(found, `${what} should ${op === '$contains' ? '' : 'not '}contain ${JSON.stringify(arg)}`).toBe(op === '$contains');
    }
    default:
      throw new Error(`unknown assertion operator ${op} for ${key}`);
  }
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

for (const { file, fixture } of FIXTURES) {
  describe(`${fixture.name} (${file})`, () => {
    const vars: Record<string, unknown> = {};

    beforeAll(async () => {
      // DEFAULT settings on purpose: the vendors' sequences must pass without configuration.
      const conn = await t.connection(fixture.name);
      const credential = await t.rc.connections.createCredential(conn.id, { name: 'validator' });
      Object.assign(vars, { run: String(randomInt(10_000_000, 100_000_000)), base: conn.base, credential });
    });

    async function send(step: Step): Promise<Reply> {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...fixture.headers, ...step.headers })) {
        if (v !== null) headers[k.toLowerCase()] = fill(v, vars) as string;
      }
      let payload: string | undefined;
      if (step.form) {
        payload = new URLSearchParams(fill(step.form, vars) as Record<string, string>).toString();
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
      } else if (step.body !== undefined) {
        payload = JSON.stringify(fill(step.body, vars));
        headers['content-type'] ??= fixture.contentType ?? 'application/scim+json';
      }
      const res = await t.app.inject({ method: step.method as 'GET', url: fill(step.path, vars) as string, headers, payload });
      let body: unknown;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, headers: res.headers, body };
    }

    fixture.steps.forEach((step, n) => {
      const title = `${String(n + 1).padStart(2, '0')} ${step.name}${step.knownFailure ? ` [known failure: ${step.knownFailure}]` : ''}`;
      // REPLAY_KNOWN_FAILURES=1 runs known failures as ordinary tests, to see how they fail.
      (step.knownFailure && !process.env.REPLAY_KNOWN_FAILURES ? it.fails : it)(title, async () => {
        for (let i = 1; i <= (step.repeat ?? 1); i++) {
          vars.i = i;
          const reply = await send(step);
          // Save before asserting, so a known failure does not break the steps after it.
          for (const [name, where] of Object.entries(step.save ?? {})) vars[name] = lookup(reply, where);
          for (const [key, wanted] of Object.entries(fill(step.expect, vars) as Record<string, unknown>)) check(reply, key, wanted);
        }
      });
    });
  });
}
