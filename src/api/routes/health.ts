import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors/api-error.ts';
import type { ApiContext } from '../context.ts';

export function healthRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        config: {
          access: 'public',
          operationId: 'v1.health.get',
          responses: { 204: null },
          description:
            'Verify the API server is up and its database answers (503 `storage_unavailable` otherwise).',
        },
      },
      async (_request, reply) => {
        try {
          await ctx.storage.ping();
        } catch (error) {
          throw new ApiError('storage_unavailable', undefined, { cause: error });
        }
        return reply.code(204).send();
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
