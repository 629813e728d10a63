import type { FastifyInstance } from 'fastify';
import type { EventLoopMonitor } from '../../lifecycle/event-loop-monitor.ts';
import type { Readiness } from '../../lifecycle/readiness.ts';

export interface Probes {
  readonly readiness: Readiness;
  readonly eventLoop: EventLoopMonitor;
}

/**
 * `GET /livez` and `GET /readyz` at the root, for orchestrators and load balancers: unauthenticated,
 * outside `/api/v1` (whose `/health` keeps Svix's shape). Liveness never touches the database, so a
 * database outage makes a process unready, never restarted.
 */
export function probeRoutes(probes: Probes) {
  return async (app: FastifyInstance) => {
    app.get('/livez', async (_request, reply) => {
      const lagMs = Math.round(probes.eventLoop.lagMs());
      const delay = probes.eventLoop.delay();
      if (probes.eventLoop.stuck())
        return reply.code(503).send({ status: 'stuck', reason: 'event_loop_stuck', lagMs, delay });
      return reply.code(200).send({ status: 'ok', lagMs, delay });
    });

    app.get('/readyz', async (_request, reply) => {
      const report = await probes.readiness.check();
      reply.header('cache-control', 'no-store');
      if (report.ready) return reply.code(200).send({ status: 'ready', checks: report.checks });
      return reply.code(503).send({
        status: 'not_ready',
        reason: report.reason,
        detail: report.detail,
        checks: report.checks,
      });
    });
  };
}
