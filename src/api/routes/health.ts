import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorCodes } from '../../errors/codes.ts';
import { StorageFull } from '../../storage/contract.ts';
import type { ApiContext } from '../context.ts';
import { HealthReport } from '../schemas.ts';

/** The 503 report when the database does not answer; also what a process still connecting serves. */
export function unavailableHealthReport(backend: string) {
  return {
    code: 'storage_unavailable',
    detail: errorCodes.storage_unavailable.message,
    // The cause is logged, not shown: health is public and must not reveal internal hosts.
    database: { status: 'ERROR', error: 'the database did not answer' },
    backend,
  };
}

export function healthRoutes(ctx: Pick<ApiContext, 'storage'>): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        config: {
          access: 'public',
          operationId: 'v1.health.get',
          responses: { 200: HealthReport },
          description:
            'Verify the API server is up and its database answers: 200 with a report, or 503 ' +
            '`storage_unavailable` (or `storage_full` when the disk is full) with the same report naming the failure.',
        },
      },
      async (request, reply) => {
        const backend = ctx.storage.description.split(':')[0] ?? 'unknown';
        try {
          await ctx.storage.ping();
          return reply.code(200).send({ database: { status: 'OK' }, backend });
        } catch (error) {
          if (error instanceof StorageFull) {
            request.log.warn({ err: error }, 'health check: the disk is full');
            return reply.code(503).send({
              code: 'storage_full',
              detail: errorCodes.storage_full.message,
              database: {
                status: 'ERROR',
                error: 'the disk of the data directory is full; writes are refused',
              },
              backend,
            });
          }
          request.log.warn({ err: error }, 'health check: database unavailable');
          return reply.code(503).send(unavailableHealthReport(backend));
        }
      },
    );

    app.get(
      '/health/ping',
      {
        config: {
          access: 'public',
          operationId: 'v1.health.ping',
          responses: { 204: null },
          description: 'Liveness: answers without touching the database.',
        },
      },
      async (_request, reply) => reply.code(204).send(),
    );
  };
}
