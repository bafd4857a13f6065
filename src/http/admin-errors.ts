/**
 * The admin API's error shape: every refusal, from a missing key to an unknown
 * route, is a catalogue error answered as
 *
 *   {"error": {"status": 404, "code": "ROLLCALL_ADMIN_NOT_FOUND", "message": "…"}}
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, type RollcallError, fail, isRollcallError } from '../scim/errors.js';
import { frameworkFailure, routerFailure } from './errors.js';

export interface AdminErrorBody {
  error: { status: number; code: ErrorCode; message: string };
}

/** `err` as the catalogue error the admin API answers; anything unexpected is logged and a 500. */
export function toAdminError(err: unknown, req: FastifyRequest): RollcallError {
  if (isRollcallError(err)) return err;
  const framework = frameworkFailure(err);
  if (framework) return framework;
  req.log.error({ err }, 'admin API: unhandled error');
  return fail('ROLLCALL_INTERNAL', 'Internal error; see the server log.');
}

export function sendAdminError(reply: FastifyReply, e: RollcallError): FastifyReply {
  if (e.headers) reply.headers(e.headers);
  const body: AdminErrorBody = { error: { status: e.status, code: e.code, message: e.message } };
  return reply.status(e.status).type('application/json; charset=utf-8').send(body);
}

/**
 * Errors the router raises before any route or error handler runs (a malformed
 * or over-long URL), in the admin API's shape.
 */
export function sendAdminFrameworkError(error: FastifyError, reply: FastifyReply): FastifyReply {
  return sendAdminError(reply, routerFailure(error));
}
