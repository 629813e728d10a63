import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors/api-error.ts';
import type { EndpointRecord, PollingConsumerRecord } from '../../storage/contract.ts';
import { type ApiContext, loadApp, parseTime } from '../context.ts';
import {
  PollerConsumerParams,
  PollerConsumerPollQuery,
  PollerParams,
  PollerPollQuery,
  PollerV2CommitIn,
  PollerV2PollOut,
  PollerV2PollQuery,
  PollingEndpointConsumerSeekIn,
  PollingEndpointConsumerSeekOut,
  PollingEndpointOut,
} from '../polling-schemas.ts';
import {
  commitOffset,
  iteratorOf,
  newConsumer,
  pollConsumer,
  polledMessageOut,
  positionAfter,
  positionOf,
  readStream,
  streamStart,
} from '../use-cases/polling.ts';

const DEFAULT_LIMIT = 50;

/**
 * Consumers that pull (docs/destinations.md, `pollingEndpoint`): Svix's `svix.message.poller` routes
 * (`/poller/{sink_id}`: a stateless read by iterator, and per consumer with a server-kept position and
 * `seek`) and its poller v2 (`/polling-endpoint/{sink_id}/consumer/{consumer_id}`: offsets, leases,
 * `commit`). Every consumer of an endpoint reads the same stream independently. Reading and moving a
 * consumer need only read access to the application: they change that consumer's place, nothing else.
 */
export function pollingRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  async function pollingEndpoint(request: FastifyRequest, appId: string, sinkId: string) {
    const app = await loadApp(ctx, request, appId);
    const endpoint = await ctx.storage.endpoints.get(app.id, sinkId);
    if (endpoint?.destination?.type !== 'pollingEndpoint') throw ApiError.notFound('Polling endpoint');
    return endpoint;
  }

  async function consumerOf(endpoint: EndpointRecord, consumerId: string, start?: 'earliest' | 'latest') {
    return (
      (await ctx.storage.polling.getConsumer(endpoint.id, consumerId)) ??
      newConsumer(endpoint, consumerId, ctx.clock(), start)
    );
  }

  /** A v1 read continues from a new position: what was handed under a v2 lease no longer applies. */
  const movedTo = (consumer: PollingConsumerRecord, position: string): PollingConsumerRecord => ({
    ...consumer,
    position,
    handed: [],
    leaseExpiresAt: null,
    updatedAt: ctx.clock(),
  });

  return async (app) => {
    app.get(
      '/app/:app_id/poller/:sink_id',
      {
        schema: { params: PollerParams, querystring: PollerPollQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message.poller.poll',
          responses: { 200: PollingEndpointOut },
        },
      },
      async (request) => {
        const { query } = request;
        const endpoint = await pollingEndpoint(request, request.params.app_id, request.params.sink_id);
        const after = parseTime(query.after ?? undefined);
        const from =
          query.iterator != null
            ? positionOf(query.iterator, endpoint)
            : after !== undefined
              ? positionAfter(endpoint, after)
              : streamStart(endpoint);
        const batch = await readStream(
          ctx.storage,
          endpoint,
          from,
          query.limit ?? DEFAULT_LIMIT,
          ctx.clock(),
          {
            eventType: query.event_type ?? undefined,
            channel: query.channel ?? undefined,
          },
        );
        return {
          data: batch.messages.map((message) => polledMessageOut(message)),
          iterator: iteratorOf(batch.position),
          done: batch.done,
        };
      },
    );

    app.get(
      '/app/:app_id/poller/:sink_id/consumer/:consumer_id',
      {
        schema: { params: PollerConsumerParams, querystring: PollerConsumerPollQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message.poller.consumer-poll',
          responses: { 200: PollingEndpointOut },
        },
      },
      async (request) => {
        const { params, query } = request;
        const endpoint = await pollingEndpoint(request, params.app_id, params.sink_id);
        let consumer = await consumerOf(endpoint, params.consumer_id);
        // Passing the iterator a poll returned commits it: a batch not followed by its iterator is read again.
        if (query.iterator != null) {
          consumer = movedTo(consumer, positionOf(query.iterator, endpoint));
          await ctx.storage.polling.saveConsumer(consumer);
        }
        const batch = await readStream(
          ctx.storage,
          endpoint,
          consumer.position,
          query.limit ?? DEFAULT_LIMIT,
          ctx.clock(),
        );
        return {
          data: batch.messages.map((message) => polledMessageOut(message)),
          iterator: iteratorOf(batch.position),
          done: batch.done,
        };
      },
    );

    app.post(
      '/app/:app_id/poller/:sink_id/consumer/:consumer_id/seek',
      {
        schema: { params: PollerConsumerParams, body: PollingEndpointConsumerSeekIn },
        config: {
          access: 'app-read',
          operationId: 'v1.message.poller.consumer-seek',
          responses: { 200: PollingEndpointConsumerSeekOut },
        },
      },
      async (request) => {
        const { params } = request;
        const endpoint = await pollingEndpoint(request, params.app_id, params.sink_id);
        const after = parseTime(request.body.after);
        if (after === undefined) throw ApiError.validation(['body', 'after'], 'after must be a date-time');
        const consumer = movedTo(
          await consumerOf(endpoint, params.consumer_id),
          positionAfter(endpoint, after),
        );
        await ctx.storage.polling.saveConsumer(consumer);
        return { iterator: iteratorOf(consumer.position) };
      },
    );

    app.get(
      '/app/:app_id/polling-endpoint/:sink_id/consumer/:consumer_id',
      {
        schema: { params: PollerConsumerParams, querystring: PollerV2PollQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.message.pollerv2.consumer-poll',
          responses: { 200: PollerV2PollOut },
        },
      },
      async (request) => {
        const { params, query } = request;
        const endpoint = await pollingEndpoint(request, params.app_id, params.sink_id);
        const consumer = await consumerOf(endpoint, params.consumer_id, query.starting_position ?? undefined);
        const result = await pollConsumer(
          ctx.storage,
          endpoint,
          consumer,
          query.limit ?? DEFAULT_LIMIT,
          query.lease_duration_ms ?? 0,
          ctx.clock(),
        );
        await ctx.storage.polling.saveConsumer(result.consumer);
        return {
          data: result.messages.map(({ message, offset }) => polledMessageOut(message, offset)),
          done: result.done,
        };
      },
    );

    app.post(
      '/app/:app_id/polling-endpoint/:sink_id/consumer/:consumer_id/commit',
      {
        schema: { params: PollerConsumerParams, body: PollerV2CommitIn },
        config: {
          access: 'app-read',
          operationId: 'v1.message.pollerv2.consumer-commit',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const { params } = request;
        const endpoint = await pollingEndpoint(request, params.app_id, params.sink_id);
        const consumer = await ctx.storage.polling.getConsumer(endpoint.id, params.consumer_id);
        if (!consumer)
          throw ApiError.validation(
            ['path', 'consumer_id'],
            `consumer ${params.consumer_id} has not polled this endpoint yet; poll before committing`,
          );
        const committed = commitOffset(consumer, request.body.offset, ctx.clock());
        if (committed !== consumer) await ctx.storage.polling.saveConsumer(committed);
        return reply.code(204).send();
      },
    );
  };
}
