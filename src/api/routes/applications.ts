import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { ApiError } from '../../errors/api-error.ts';
import { OPERATIONAL_APP_UID } from '../../operational/internal-app.ts';
import type { ApplicationRecord } from '../../storage/contract.ts';
import { type ApiContext, assertNotReserved, assertUid, loadApp } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  AppListQuery,
  ApplicationIn,
  ApplicationOut,
  ApplicationPatch,
  AppParams,
  CreateAppQuery,
  listResponse,
} from '../schemas.ts';
import { applicationOut } from '../serialize.ts';
import { createOrGetApplication, newApplication, rateOf } from '../use-cases/applications.ts';

const ListApplicationOut = listResponse('ApplicationOut', ApplicationOut);

export function applicationRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/app',
      {
        schema: { querystring: AppListQuery },
        config: {
          access: 'admin',
          operationId: 'v1.application.list',
          responses: { 200: ListApplicationOut },
        },
      },
      async (request) => {
        // Oldest first unless asked otherwise, as Svix lists applications.
        const walk = pageWalk(request.query, 'application', request.query.order !== 'descending');
        // Hookyard's own operational-webhook application is an implementation detail, not a tenant.
        const result = await ctx.storage.applications.list(walk.page, {
          excludeUid: OPERATIONAL_APP_UID,
          search: request.query.search,
        });
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        return { data: data.map(applicationOut), ...cursor };
      },
    );

    app.post(
      '/app',
      {
        schema: { body: ApplicationIn, querystring: CreateAppQuery },
        config: {
          access: 'admin',
          operationId: 'v1.application.create',
          responses: { 201: ApplicationOut, 200: ApplicationOut },
        },
      },
      async (request, reply) => {
        const now = ctx.clock();
        const body = request.body;
        if (request.query.get_if_exists && body.uid) {
          const existing = await ctx.storage.applications.get(body.uid);
          if (existing) return reply.code(200).send(applicationOut(existing));
          const { app: result, created } = await createOrGetApplication(ctx, newApplication(body, now));
          return reply.code(created ? 201 : 200).send(applicationOut(result));
        }
        const created = await ctx.storage.applications.create(newApplication(body, now));
        return reply.code(201).send(applicationOut(created));
      },
    );

    app.get(
      '/app/:app_id',
      {
        schema: { params: AppParams },
        config: { access: 'app-read', operationId: 'v1.application.get', responses: { 200: ApplicationOut } },
      },
      async (request) => applicationOut(await loadApp(ctx, request, request.params.app_id)),
    );

    app.put(
      '/app/:app_id',
      {
        schema: { params: AppParams, body: ApplicationIn },
        config: {
          access: 'admin',
          operationId: 'v1.application.update',
          responses: { 200: ApplicationOut, 201: ApplicationOut },
        },
      },
      async (request, reply) => {
        const now = ctx.clock();
        const body = request.body;
        const existing = await ctx.storage.applications.get(request.params.app_id);
        if (!existing) {
          // Svix upserts: a PUT to a free uid creates the application under that uid.
          const { app: result, created } = await createOrGetApplication(
            ctx,
            newApplication(body, now, request.params.app_id),
          );
          if (created) return reply.code(201).send(applicationOut(result));
          return reply
            .code(200)
            .send(
              applicationOut(await update(result.id, replacement(body, result, request.params.app_id), now)),
            );
        }
        assertNotReserved(existing.uid);
        return reply
          .code(200)
          .send(
            applicationOut(
              await update(existing.id, replacement(body, existing, request.params.app_id), now),
            ),
          );
      },
    );

    /**
     * PUT replaces: fields left out go back to their defaults. A uid left out is cleared, as in Svix,
     * unless the path addressed the application by that very uid (then the path says what it is).
     */
    function replacement(
      body: Static<typeof ApplicationIn>,
      current: ApplicationRecord | undefined,
      pathIdOrUid?: string,
    ): Static<typeof ApplicationPatch> {
      const addressedByUid = current?.uid != null && current.uid === pathIdOrUid;
      return {
        name: body.name,
        uid: body.uid !== undefined ? body.uid : addressedByUid ? current.uid : null,
        throttleRate: rateOf(body) ?? null,
        metadata: body.metadata ?? {},
      };
    }

    async function update(idOrUid: string, body: Static<typeof ApplicationPatch>, now: number) {
      const current = await ctx.storage.applications.get(idOrUid);
      if (!current) throw ApiError.notFound('Application');
      assertNotReserved(current.uid);
      assertNotReserved(body.uid);
      assertUid('application', body.uid, ['body', 'uid']);
      const rate = rateOf(body);
      const next: ApplicationRecord = {
        ...current,
        name: body.name ?? current.name,
        uid: body.uid !== undefined ? body.uid : current.uid,
        throttleRate: rate !== undefined ? rate || null : current.throttleRate,
        metadata: body.metadata ?? current.metadata,
        updatedAt: now,
      };
      const stored = await ctx.storage.applications.update(next);
      if (!stored) throw ApiError.notFound('Application');
      return stored;
    }

    app.patch(
      '/app/:app_id',
      {
        schema: { params: AppParams, body: ApplicationPatch },
        config: { access: 'admin', operationId: 'v1.application.patch', responses: { 200: ApplicationOut } },
      },
      async (request) => {
        const current = await loadApp(ctx, request, request.params.app_id);
        return applicationOut(await update(current.id, request.body, ctx.clock()));
      },
    );

    app.delete(
      '/app/:app_id',
      {
        schema: { params: AppParams },
        config: { access: 'admin', operationId: 'v1.application.delete', responses: { 204: null } },
      },
      async (request, reply) => {
        const current = await loadApp(ctx, request, request.params.app_id);
        if (!(await ctx.storage.applications.delete(current.id))) throw ApiError.notFound('Application');
        return reply.code(204).send();
      },
    );
  };
}
