import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors/api-error.ts';
import { DEFAULT_PORTAL_TTL_MS } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { AppParams, AppPortalAccessIn, AppPortalAccessOut } from '../schemas.ts';
import { createOrGetApplication, newApplication } from '../use-cases/applications.ts';

export function authRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/auth/app-portal-access/:app_id',
      {
        schema: { params: AppParams, body: AppPortalAccessIn },
        config: {
          access: 'admin',
          operationId: 'v1.authentication.app-portal-access',
          responses: { 200: AppPortalAccessOut },
        },
      },
      async (request) => {
        const body = request.body;
        const now = ctx.clock();
        let application = await ctx.storage.applications.get(request.params.app_id);
        if (!application && body.application) {
          application = (
            await createOrGetApplication(ctx, newApplication(body.application, now, request.params.app_id))
          ).app;
        }
        if (!application) throw ApiError.notFound('Application');
        const expiresAt = now + (body.expiry != null ? body.expiry * 1000 : DEFAULT_PORTAL_TTL_MS);
        const token = await ctx.portal.issue(application.id, expiresAt, body.readOnly === true);
        // Hookyard ships no portal UI: the link carries the token in its fragment for a UI you embed.
        const base = ctx.config.publicUrl || `${request.protocol}://${request.host}`;
        return { token, url: `${base}/app-portal#key=${token}` };
      },
    );

    app.post(
      '/auth/logout',
      {
        config: {
          access: 'any',
          operationId: 'v1.authentication.logout',
          responses: { 204: null },
          description:
            'Portal tokens are stateless and signed: they stay valid until they expire, so logout only acknowledges.',
        },
      },
      async (_request, reply) => reply.code(204).send(),
    );
  };
}
