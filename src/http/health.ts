/**
 * Probes for load balancers and orchestrators: /healthz answers while the process
 * runs (liveness), /readyz only while this instance can serve (readiness): the
 * database answers and its schema is exactly this version's. Both name the version,
 * so a rolling deploy can see which build each instance runs.
 *
 * A schema with migrations this version does not know (an instance of a newer
 * version migrated the shared database) is not ready, as a start on it is refused:
 * this build could write rows the newer one no longer reads. During a rolling
 * upgrade that moves traffic to the upgraded instances, which is where it is going.
 * Pending migrations (a database restored from an older backup while running) are
 * not ready either. Either way the process stays up: liveness is not readiness.
 */
import type { FastifyInstance } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { buildInfo } from '../build-info.js';
import { isRollcallError } from '../scim/errors.js';

export function registerHealth(app: FastifyInstance, rc: Rollcall): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { version, commit } = buildInfo();
    try {
      await rc.ready();
      return { status: 'ready', version, commit: commit ?? null };
    } catch (e) {
      // The reason helps an operator; it names no data (connection refused, database locked, pending migrations).
      // A schema refusal carries its catalogue code; a database failure only its message.
      const code = isRollcallError(e) ? { code: e.code } : {};
      return reply.status(503).send({ status: 'unavailable', version, commit: commit ?? null, ...code, reason: (e as Error).message });
    }
  });
}
