import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors/api-error.ts';
import { assertAppAccess } from '../auth.ts';
import {
  type ApiContext,
  assertCreatedAppUid,
  assertNotReserved,
  assertUid,
  loadApp,
  loadMessage,
  parseAfter,
  parseTime,
} from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  AppParams,
  listResponse,
  MessageIn,
  MessageListQuery,
  MessageOut,
  MessageParams,
  WithContentQuery,
} from '../schemas.ts';
import { listJson, messageOutJson } from '../serialize.ts';
import { createOrGetApplication, newApplication } from '../use-cases/applications.ts';
import { ingestMessage } from '../use-cases/messages.ts';

const ListMessageOut = listResponse('MessageOut', MessageOut);
const DAY_MS = 86_400_000;
const JSON_TYPE = 'application/json; charset=utf-8';

export function messageRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/app/:app_id/msg',
      {
        schema: { params: AppParams, querystring: MessageListQuery },
        config: { access: 'app-read', operationId: 'v1.message.list', responses: { 200: ListMessageOut } },
      },
      async (request, reply) => {
        const query = request.query;
        const application = await loadApp(ctx, request, request.params.app_id);
        const walk = pageWalk(query, 'message');
        const result = await ctx.storage.messages.list(
          application.id,
          {
            before: parseTime(query.before),
            after: parseAfter(query.after),
            channel: query.channel,
            eventTypes: query.event_types,
            tag: query.tag,
          },
          walk.page,
        );
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        const withContent = query.with_content !== false;
        return reply.type(JSON_TYPE).send(
          listJson(
            data.map((item) => messageOutJson(item, withContent)),
            cursor,
          ),
        );
      },
    );

    app.post(
      '/app/:app_id/msg',
      {
        schema: { params: AppParams, body: MessageIn, querystring: WithContentQuery },
        config: { access: 'admin', operationId: 'v1.message.create', responses: { 202: MessageOut } },
      },
      async (request, reply) => {
        const body = request.body;
        const appId = request.params.app_id;
        assertUid('message', body.eventId, ['body', 'eventId']);
        // Every message names its application: the cache keeps that lookup off the database.
        let application = await (ctx.endpoints.application?.(appId) ?? ctx.storage.applications.get(appId));
        if (!application && body.application) {
          // Svix creates the application alongside its first message when the body describes it.
          assertCreatedAppUid(appId, body.application.uid);
          application = (
            await createOrGetApplication(ctx, newApplication(body.application, ctx.clock(), appId))
          ).app;
        }
        assertAppAccess(request.principal, application?.id);
        if (!application) throw ApiError.notFound('Application');
        assertNotReserved(application.uid);
        const retentionMs =
          body.payloadRetentionHours != null
            ? body.payloadRetentionHours * 3_600_000
            : body.payloadRetentionPeriod != null
              ? body.payloadRetentionPeriod * DAY_MS
              : undefined;
        const message = await ingestMessage(ctx, application, {
          eventType: body.eventType,
          payload: JSON.stringify(body.payload),
          channels: body.channels ?? null,
          uid: body.eventId ?? null,
          retentionMs,
          endpointIds: undefined,
          tags: body.tags,
          deliverAt: parseTime(body.deliverAt),
        });
        return reply
          .code(202)
          .type(JSON_TYPE)
          .send(messageOutJson(message, request.query.with_content !== false));
      },
    );

    app.get(
      '/app/:app_id/msg/:msg_id',
      {
        schema: { params: MessageParams, querystring: WithContentQuery },
        config: { access: 'app-read', operationId: 'v1.message.get', responses: { 200: MessageOut } },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        return reply.type(JSON_TYPE).send(messageOutJson(message, request.query.with_content !== false));
      },
    );

    app.delete(
      '/app/:app_id/msg/:msg_id/content',
      {
        schema: { params: MessageParams },
        config: { access: 'admin', operationId: 'v1.message.expunge-content', responses: { 204: null } },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        if (!(await ctx.storage.messages.expungePayload(application.id, message.id)))
          throw ApiError.notFound('Message');
        return reply.code(204).send();
      },
    );
  };
}
