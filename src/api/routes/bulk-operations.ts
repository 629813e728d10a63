import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fanOut } from '../../domain/filter.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { BackgroundTaskRecord, MessageStatus } from '../../storage/contract.ts';
import { type ApiContext, loadApp, loadEndpoint, parseTime } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  AppParams,
  BackgroundTaskListQuery,
  BackgroundTaskOut,
  BackgroundTaskParams,
  BackgroundTaskStartOut,
  BulkExpungeContentsIn,
  BulkExpungeContentsOut,
  BulkReplayIn,
  EndpointParams,
  listResponse,
  MessagePrecheckIn,
  MessagePrecheckOut,
  ReplayIn,
} from '../schemas.ts';
import { iso } from '../serialize.ts';

/**
 * Svix's cloud operations on many messages or deliveries at once (bulk replay, replay missing,
 * expunge all contents, bulk expunge, precheck) and the background tasks that report on them.
 */
const ListBackgroundTaskOut = listResponse('BackgroundTaskOut', BackgroundTaskOut);

function taskOut(task: BackgroundTaskRecord) {
  return {
    data: task.data,
    id: task.id,
    status: task.status,
    task: task.task,
    updatedAt: iso(task.updatedAt),
  };
}

function startedOut(task: BackgroundTaskRecord) {
  return { id: task.id, status: task.status, task: task.task, updatedAt: iso(task.updatedAt) };
}

export function bulkOperationRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  /** `[since, until)`, until defaulting to now; since after until is a 422 on `since`. */
  function window(body: { since: string; until?: string | null | undefined }): {
    since: number;
    until: number;
  } {
    const now = ctx.clock();
    const since = parseTime(body.since) ?? now;
    const until = parseTime(body.until) ?? now;
    if (since > until) throw ApiError.validation(['body', 'since'], 'since must not be after until');
    return { since, until };
  }

  return async (app) => {
    app.post(
      '/app/:app_id/endpoint/:endpoint_id/bulk-replay',
      {
        schema: { params: EndpointParams, body: BulkReplayIn },
        config: {
          access: 'app-write',
          capability: ['CreateAttempts'],
          operationId: 'v1.endpoint.bulk-replay',
          description:
            'Re-queues, as a background task, every finished delivery (success or fail) to this endpoint created in [since, until) that matches the filters. Deliveries still queued or in flight are left alone.',
          responses: { 202: BackgroundTaskStartOut },
        },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const endpoint = await loadEndpoint(ctx, application, request.params.endpoint_id);
        const body = request.body;
        const { since, until } = window(body);
        const task = await ctx.tasks.start(
          'endpoint.bulk-replay',
          { appId: application.id, endpointId: endpoint.id, since: iso(since), until: iso(until) },
          async () => ({
            replayed: await ctx.storage.bulk.replayFiltered(
              endpoint.id,
              {
                since,
                until,
                eventTypes: body.eventTypes ?? undefined,
                channel: body.channel ?? undefined,
                tag: body.tag ?? undefined,
                status: (body.status ?? undefined) as MessageStatus | undefined,
                statusCodeClass: body.statusCodeClass ?? undefined,
              },
              ctx.clock(),
            ),
          }),
        );
        return reply.code(202).send(startedOut(task));
      },
    );

    app.post(
      '/app/:app_id/endpoint/:endpoint_id/replay-missing',
      {
        schema: { params: EndpointParams, body: ReplayIn },
        config: {
          access: 'app-write',
          capability: ['CreateAttempts'],
          operationId: 'v1.endpoint.replay-missing',
          description:
            'Sends, as a background task, the messages created in [since, until) that this endpoint never got although its filters match them (for instance messages sent before it existed).',
          responses: { 202: BackgroundTaskStartOut },
        },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const endpoint = await loadEndpoint(ctx, application, request.params.endpoint_id);
        const { since, until } = window(request.body);
        const task = await ctx.tasks.start(
          'endpoint.replay',
          { appId: application.id, endpointId: endpoint.id, since: iso(since), until: iso(until) },
          async () => ({
            replayed: await ctx.storage.bulk.replayMissing(
              application.id,
              endpoint.id,
              since,
              until,
              ctx.clock(),
            ),
          }),
        );
        return reply.code(202).send(startedOut(task));
      },
    );

    app.post(
      '/app/:app_id/msg/precheck/active',
      {
        schema: { params: AppParams, body: MessagePrecheckIn },
        config: {
          access: 'admin',
          operationId: 'v1.message.precheck',
          responses: { 200: MessagePrecheckOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const endpoints = await ctx.endpoints.forApp(application.id);
        const input = { eventType: request.body.eventType, channels: request.body.channels ?? null };
        return { active: fanOut(endpoints, input).length > 0 };
      },
    );

    app.post(
      '/app/:app_id/msg/bulk-expunge',
      {
        schema: { params: AppParams, body: BulkExpungeContentsIn },
        config: {
          access: 'admin',
          operationId: 'v1.message.bulk-expunge-content',
          responses: { 200: BulkExpungeContentsOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const found = new Map<string, string>();
        for (const idOrUid of request.body.ids ?? []) {
          const message = await ctx.storage.messages.get(application.id, idOrUid);
          if (message) found.set(idOrUid, message.id);
        }
        // Their queued deliveries are canceled with them: without a payload they can never be sent.
        const expunged = new Set(
          await ctx.storage.bulk.expungePayloads(application.id, [...new Set(found.values())]),
        );
        const results: Record<string, 'expunged' | 'not-found'> = {};
        for (const idOrUid of request.body.ids ?? []) {
          const id = found.get(idOrUid);
          results[idOrUid] = id !== undefined && expunged.has(id) ? 'expunged' : 'not-found';
        }
        return { results };
      },
    );

    app.post(
      '/app/:app_id/msg/expunge-all-contents',
      {
        schema: { params: AppParams },
        config: {
          access: 'admin',
          operationId: 'v1.message.expunge-all-contents',
          responses: { 202: BackgroundTaskStartOut },
        },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const task = await ctx.tasks.start(
          'application.purge_content',
          { appId: application.id },
          async () => ({
            messagesPurged: await ctx.storage.bulk.expungeAppPayloads(application.id),
          }),
        );
        return reply.code(202).send(startedOut(task));
      },
    );

    app.get(
      '/background-task',
      {
        schema: { querystring: BackgroundTaskListQuery },
        config: {
          access: 'admin',
          operationId: 'v1.background-task.list',
          responses: { 200: ListBackgroundTaskOut },
        },
      },
      async (request) => {
        const query = request.query;
        const walk = pageWalk(query, 'task', query.order === 'ascending');
        const result = await ctx.storage.backgroundTasks.list(
          { status: query.status, task: query.task },
          walk.page,
        );
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        return { data: data.map(taskOut), ...cursor };
      },
    );

    app.get(
      '/background-task/:task_id',
      {
        schema: { params: BackgroundTaskParams },
        config: {
          access: 'admin',
          operationId: 'v1.background-task.get',
          responses: { 200: BackgroundTaskOut },
        },
      },
      async (request) => {
        const task = await ctx.storage.backgroundTasks.get(request.params.task_id);
        if (!task) throw ApiError.notFound('Background task');
        return taskOut(task);
      },
    );
  };
}
