import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { EnvironmentExportQuery, EnvironmentIn, EnvironmentOut } from '../schemas.ts';
import { exportEnvironment, importEnvironment } from '../use-cases/environment.ts';

/** Svix's environment export and import (see api/environment.ts for what the document carries). */
export function environmentRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/environment/export',
      {
        schema: { querystring: EnvironmentExportQuery },
        config: {
          access: 'admin',
          operationId: 'v1.environment.export',
          description:
            "Event types (Svix's shape) and, under settings.hookyard, every application with its HTTP endpoints (filters included); endpoint secrets, headers and egress settings only with include_secrets=true.",
          responses: { 200: EnvironmentOut },
        },
      },
      async (request) => exportEnvironment(ctx, request.query.include_secrets === true),
    );

    app.post(
      '/environment/import',
      {
        schema: { body: EnvironmentIn },
        config: {
          access: 'admin',
          operationId: 'v1.environment.import',
          description:
            'Adds or updates (never deletes) the event types, applications (by uid) and endpoints (by uid) of an exported document.',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        await importEnvironment(ctx, request.body);
        return reply.code(204).send();
      },
    );
  };
}
