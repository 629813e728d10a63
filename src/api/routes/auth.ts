import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors/api-error.ts';
import { DEFAULT_PORTAL_TTL_MS } from '../auth.ts';
import { type ApiContext, assertCreatedAppUid } from '../context.ts';
import { ApplicationTokenExpireIn, AppParams, AppPortalAccessIn, AppPortalAccessOut } from '../schemas.ts';
import { createOrGetApplication, newApplication } from '../use-cases/applications.ts';

export function authRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  async function portalAccess(
    request: FastifyRequest,
    appId: string,
    options: {
      expiry?: number | null | undefined;
      readOnly?: boolean | null | undefined;
      sessionId?: string | null | undefined;
    },
  ): Promise<{ token: string; url: string }> {
    const now = ctx.clock();
    const expiresAt = now + (options.expiry != null ? options.expiry * 1000 : DEFAULT_PORTAL_TTL_MS);
    const token = await ctx.portal.issue(
      appId,
      expiresAt,
      options.readOnly === true,
      options.sessionId ?? undefined,
      now,
    );
    // Hookyard ships no portal UI: the link carries the token in its fragment for a UI you embed.
    const base = ctx.config.publicUrl || `${request.protocol}://${request.host}`;
    return { token, url: `${base}/app-portal#key=${token}` };
  }

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
          assertCreatedAppUid(request.params.app_id, body.application.uid);
          application = (
            await createOrGetApplication(ctx, newApplication(body.application, now, request.params.app_id))
          ).app;
        }
        if (!application) throw ApiError.notFound('Application');
        return portalAccess(request, application.id, body);
      },
    );

    // Svix's deprecated form: a portal token for the application, with no options (left out of the
    // OpenAPI document, as in Svix).
    app.post(
      '/auth/dashboard-access/:app_id',
      { schema: { params: AppParams }, config: { access: 'admin' } },
      async (request) => {
        const application = await ctx.storage.applications.get(request.params.app_id);
        if (!application) throw ApiError.notFound('Application');
        return portalAccess(request, application.id, {});
      },
    );

    app.post(
      '/auth/app/:app_id/expire-all',
      {
        schema: { params: AppParams, body: ApplicationTokenExpireIn },
        // Every field is optional, so a bodiless POST means the defaults (expire at once, all sessions).
        preValidation: async (request) => {
          request.body ??= {};
        },
        config: {
          access: 'admin',
          operationId: 'v1.authentication.expire-all',
          description:
            "Expires the application's portal tokens issued until now (of the given sessions, if any), after `expiry` seconds (default 0: at once).",
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const application = await ctx.storage.applications.get(request.params.app_id);
        if (!application) throw ApiError.notFound('Application');
        const body = request.body ?? {};
        await ctx.portal.expireAll(application.id, ctx.clock(), (body.expiry ?? 0) * 1000, body.sessionIds);
        return reply.code(204).send();
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
