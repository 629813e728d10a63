import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { ApiError } from '../../errors/api-error.ts';
import type {
  ApplicationRecord,
  AttemptListFilter,
  AttemptRecord,
  MessageStatus,
} from '../../storage/contract.ts';
import { type ApiContext, loadApp, loadEndpoint, loadMessage, parseAfter, parseTime } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  AttemptByMsgQuery,
  AttemptedMessagesQuery,
  AttemptListQuery,
  AttemptParams,
  EmptyResponse,
  EndpointMessageOut,
  EndpointParams,
  ExpandedStatusesQuery,
  listResponse,
  MessageAttemptOut,
  MessageEndpointOut,
  MessageEndpointParams,
  MessageParams,
  PageQuery,
} from '../schemas.ts';
import {
  attemptOut,
  endpointMessageOutJson,
  listJson,
  messageEndpointOut,
  messageOutJson,
} from '../serialize.ts';

const ListMessageAttemptOut = listResponse('MessageAttemptOut', MessageAttemptOut);
const ListEndpointMessageOut = listResponse('EndpointMessageOut', EndpointMessageOut);
const ListMessageEndpointOut = listResponse('MessageEndpointOut', MessageEndpointOut);
const JSON_TYPE = 'application/json; charset=utf-8';

interface AttemptQuery {
  before?: string | undefined;
  after?: string | undefined;
  status?: number | undefined;
  status_code_class?: number | undefined;
  channel?: string | undefined;
  tag?: string | undefined;
  event_types?: string[] | undefined;
}

function attemptFilter(query: AttemptQuery): AttemptListFilter {
  return {
    before: parseTime(query.before),
    after: parseAfter(query.after),
    status: query.status as MessageStatus | undefined,
    statusCodeClass: query.status_code_class,
    channel: query.channel,
    tag: query.tag,
    eventTypes: query.event_types,
  };
}

export function attemptRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  /** Attempts as JSON text, each with its message when `with_msg` asks for it. */
  async function attemptsJson(
    app: ApplicationRecord,
    attempts: readonly AttemptRecord[],
    withContent: boolean,
    withMsg: boolean,
    expanded: boolean,
  ): Promise<string[]> {
    if (!withMsg)
      return attempts.map((attempt) => JSON.stringify(attemptOut(attempt, withContent, expanded)));
    const messages = new Map<string, string>();
    for (const msgId of new Set(attempts.map((attempt) => attempt.msgId))) {
      const message = await ctx.storage.messages.get(app.id, msgId);
      if (message) messages.set(msgId, messageOutJson(message, withContent));
    }
    return attempts.map((attempt) => {
      const head = JSON.stringify(attemptOut(attempt, withContent, expanded));
      const msg = messages.get(attempt.msgId);
      return msg === undefined ? head : `${head.slice(0, -1)},"msg":${msg}}`;
    });
  }

  return async (app) => {
    app.get(
      '/app/:app_id/attempt/endpoint/:endpoint_id',
      {
        schema: { params: EndpointParams, querystring: AttemptListQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message-attempt.list-by-endpoint',
          responses: { 200: ListMessageAttemptOut },
        },
      },
      async (request, reply) => {
        const query = request.query;
        const application = await loadApp(ctx, request, request.params.app_id);
        const endpoint = await loadEndpoint(ctx, application, request.params.endpoint_id);
        const walk = pageWalk(query, 'attempt');
        const result = await ctx.storage.attempts.listByEndpoint(
          application.id,
          endpoint.id,
          attemptFilter(query),
          walk.page,
        );
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        const items = await attemptsJson(
          application,
          data,
          query.with_content !== false,
          query.with_msg === true,
          query.expanded_statuses === true,
        );
        return reply.type(JSON_TYPE).send(listJson(items, cursor));
      },
    );

    async function listByMessage(
      request: FastifyRequest,
      reply: FastifyReply,
      params: { app_id: string; msg_id: string },
      query: Static<typeof AttemptByMsgQuery>,
      endpointIdOrUid: string | undefined,
    ): Promise<FastifyReply> {
      const application = await loadApp(ctx, request, params.app_id);
      const message = await loadMessage(ctx, application, params.msg_id);
      const endpointId =
        endpointIdOrUid === undefined
          ? undefined
          : (await loadEndpoint(ctx, application, endpointIdOrUid)).id;
      const walk = pageWalk(query, 'attempt');
      const result = await ctx.storage.attempts.listByMessage(
        application.id,
        message.id,
        { ...attemptFilter(query), endpointId },
        walk.page,
      );
      const { data, cursor } = finishPage(walk, result, (item) => item.id);
      const items = await attemptsJson(
        application,
        data,
        query.with_content !== false,
        query.with_msg === true,
        query.expanded_statuses === true,
      );
      return reply.type(JSON_TYPE).send(listJson(items, cursor));
    }

    app.get(
      '/app/:app_id/attempt/msg/:msg_id',
      {
        schema: { params: MessageParams, querystring: AttemptByMsgQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message-attempt.list-by-msg',
          responses: { 200: ListMessageAttemptOut },
        },
      },
      (request, reply) =>
        listByMessage(request, reply, request.params, request.query, request.query.endpoint_id),
    );

    // Svix's deprecated attempt lists, still served (and, as in Svix, left out of the OpenAPI document).
    app.get(
      '/app/:app_id/msg/:msg_id/attempt',
      { schema: { params: MessageParams, querystring: AttemptByMsgQuery }, config: { access: 'app-read' } },
      (request, reply) =>
        listByMessage(request, reply, request.params, request.query, request.query.endpoint_id),
    );
    app.get(
      '/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/attempt',
      {
        schema: { params: MessageEndpointParams, querystring: AttemptListQuery },
        config: { access: 'app-read' },
      },
      (request, reply) =>
        listByMessage(request, reply, request.params, request.query, request.params.endpoint_id),
    );

    app.get(
      '/app/:app_id/msg/:msg_id/attempt/:attempt_id',
      {
        schema: { params: AttemptParams, querystring: ExpandedStatusesQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message-attempt.get',
          responses: { 200: MessageAttemptOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        const attempt = await ctx.storage.attempts.get(application.id, message.id, request.params.attempt_id);
        if (!attempt) throw ApiError.notFound('Message attempt');
        return attemptOut(attempt, true, request.query.expanded_statuses === true);
      },
    );

    app.delete(
      '/app/:app_id/msg/:msg_id/attempt/:attempt_id/content',
      {
        schema: { params: AttemptParams },
        config: {
          access: 'admin',
          operationId: 'v1.message-attempt.expunge-content',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        const done = await ctx.storage.attempts.expungeResponse(
          application.id,
          message.id,
          request.params.attempt_id,
        );
        if (!done) throw ApiError.notFound('Message attempt');
        return reply.code(204).send();
      },
    );

    app.get(
      '/app/:app_id/msg/:msg_id/endpoint',
      {
        schema: { params: MessageParams, querystring: PageQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message-attempt.list-attempted-destinations',
          responses: { 200: ListMessageEndpointOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        const walk = pageWalk(request.query, 'endpoint');
        const result = await ctx.storage.deliveries.listByMessage(application.id, message.id, walk.page);
        const { data, cursor } = finishPage(walk, result, (item) => item.endpoint.id);
        return { data: data.map((item) => messageEndpointOut(item.delivery, item.endpoint)), ...cursor };
      },
    );

    app.get(
      '/app/:app_id/endpoint/:endpoint_id/msg',
      {
        schema: { params: EndpointParams, querystring: AttemptedMessagesQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message-attempt.list-attempted-messages',
          responses: { 200: ListEndpointMessageOut },
        },
      },
      async (request, reply) => {
        const query = request.query;
        const application = await loadApp(ctx, request, request.params.app_id);
        const endpoint = await loadEndpoint(ctx, application, request.params.endpoint_id);
        const walk = pageWalk(query, 'delivery');
        const result = await ctx.storage.deliveries.listByEndpoint(
          application.id,
          endpoint.id,
          {
            before: parseTime(query.before),
            after: parseAfter(query.after),
            status: query.status as MessageStatus | undefined,
            channel: query.channel,
            tag: query.tag,
            eventTypes: query.event_types,
          },
          walk.page,
        );
        const { data, cursor } = finishPage(walk, result, (item) => item.delivery.id);
        const withContent = query.with_content !== false;
        const items = data.map((item) =>
          endpointMessageOutJson(item.delivery, item.message, withContent, query.expanded_statuses === true),
        );
        return reply.type(JSON_TYPE).send(listJson(items, cursor));
      },
    );

    app.post(
      '/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend',
      {
        schema: { params: MessageEndpointParams },
        config: {
          access: 'app-write',
          capability: ['CreateAttempts'],
          operationId: 'v1.message-attempt.resend',
          responses: { 202: EmptyResponse },
        },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        const endpoint = await loadEndpoint(ctx, application, request.params.endpoint_id);
        if (message.payload === null)
          throw new ApiError(
            'missing_payload',
            'Unable to resend the message: its payload was expunged or is past its retention.',
          );
        // Safe to repeat: while the first resend's attempt is queued or leased a second one changes
        // nothing (see ReplayStore.resend), so a double click sends the message once.
        const result = await ctx.storage.replay.resend(application.id, message.id, endpoint.id, ctx.clock());
        if (result === 'missing') throw ApiError.notFound('Message or endpoint');
        return reply.code(202).send({});
      },
    );
  };
}
