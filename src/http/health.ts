/**
 * Probes for load balancers and orchestrators: /healthz answers while the process
 * runs (liveness), /readyz only while the database answers too (readiness), with
 * the version so a rolling deploy can see which build each instance runs.
 */
import type { FastifyInstance } from 'fastify';
import type { Rollcall } from '../rollcall.js';
import { buildInfo } from '../build-info.js';

export function registerHealth(app: FastifyInstance, rc: Rollcall): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { version, commit } = buildInfo();
    try {
      await rc.ready();
      return { status: 'ready', version, commit: commit ?? null };
    } catch (e) {
      // The reason helps an operator; it names no data (connection refused, database locked).
      return reply.status(503).send({ status: 'unavailable', version, commit: commit ?? null, reason: (e as Error).message });
    }
  });
}
