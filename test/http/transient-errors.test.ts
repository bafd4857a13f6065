/**
 * A database that says "try again" (deadlock after the batcher's retries, lock or
 * statement timeout, SQLite busy) is a 503 with Retry-After, not a 500: nothing was
 * written, and IdPs retry 503s.
 */
import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { toScimError } from '../../src/http/errors.js';

const req = { headers: {}, log: { warn() {}, error() {} } } as unknown as FastifyRequest;
const dbError = (code: string) => Object.assign(new Error(`database says ${code}`), { code });

describe('transient database errors', () => {
  it.each(['40P01', '40001', '55P03', '57014', 'SQLITE_BUSY', 'SQLITE_LOCKED'])('%s → 503 with Retry-After', (code) => {
    const e = toScimError(dbError(code), req);
    expect(e.status).toBe(503);
    expect(e.headers).toMatchObject({ 'Retry-After': '1' });
    expect(JSON.stringify(e.toJSON())).not.toContain(code); // no internals in the answer
  });

  it('other database errors stay a generic 500', () => {
    expect(toScimError(dbError('23502'), req).status).toBe(500);
  });
});
