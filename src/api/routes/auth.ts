import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors/api-error.ts';
import { type Capability, DEFAULT_PORTAL_TTL_MS, effectiveCapabilities } from '../auth.ts';
import { type ApiContext, assertCreatedAppUid } from '../context.ts';
import {
  ApplicationTokenExpireIn,
  AppParams,
  AppPortalAccessIn,
  AppPortalAccessOut,
  AppPortalKeyIn,
  AppPortalSessionOut,
} from '../schemas.ts';
import { createOrGetApplication, newApplication } from '../use-cases/applications.ts';

/** Where the App Portal lives (src/ui/portal-routes.ts serves it). */
export const PORTAL_BASE = '/portal/';

export function authRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  /**
   * `token` is for the API (the Svix SDKs, svix-react); the link's key stands for a second token of
   * the same claims, so the one returned here never sits in a URL.
   */
  async function portalAccess(
    request: FastifyRequest,
    appId: string,
    options: {
      expiry?: number | null | undefined;
      readOnly?: boolean | null | undefined;
      sessionId?: string | null | undefined;
      capabilities?: readonly Capability[] | null | undefined;
    },
  ): Promise<{ token: string; url: string }> {
    const now = ctx.clock();
    const expiresAt = now + (options.expiry != null ? options.expiry * 1000 : DEFAULT_PORTAL_TTL_MS);
    const issue = () =>
      ctx.portal.issue(
        appId,
        expiresAt,
        options.readOnly === true,
        options.sessionId ?? undefined,
        now,
        options.capabilities,
      );
    const [token, linkToken] = await Promise.all([issue(), issue()]);
    const key = await ctx.portalKeys.create(linkToken, expiresAt);
    const base = ctx.config.publicUrl || `${request.protocol}://${request.host}`;
    return { token, url: `${base}${PORTAL_BASE}#key=${key}` };
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
          description:
            '`token` is a bearer token for the API (the Svix SDKs, svix-react); `url` opens the App Portal with a one-time key in its fragment.',
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
      '/auth/app-portal-session',
      {
        schema: { body: AppPortalKeyIn },
        config: {
          access: 'public',
          operationId: 'v1.authentication.app-portal-session',
          responses: { 200: AppPortalSessionOut },
          description:
            "Trades a portal link's one-time key (its `#key=` fragment) for the portal's token. A key works once.",
        },
      },
      async (request) => {
        const now = ctx.clock();
        const token = await ctx.portalKeys.redeem(request.body.key, now);
        const principal = token === undefined ? undefined : await ctx.portal.verify(token, now);
        if (!token || principal?.kind !== 'portal') throw new ApiError('portal_link_used');
        return {
          token,
          appId: principal.appId,
          expiresAt: new Date(principal.expiresAt).toISOString(),
          capabilities: effectiveCapabilities([...principal.capabilities], principal.readOnly),
        };
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
            "Expires the application's portal tokens and sessions issued until now (of the given sessions, if any), after `expiry` seconds (default 0: at once).",
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
          description: 'Ends the calling app-portal token (for the admin token it only acknowledges).',
        },
      },
      async (request, reply) => {
        if (request.principal) await ctx.portal.revoke(request.principal);
        return reply.code(204).send();
      },
    );
  };
}
