import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors/api-error.ts';
import type { EndpointRecord, PollingConsumerRecord } from '../../storage/contract.ts';
import { type ApiContext, loadApp, parseTime } from '../context.ts';
import type { PollerToken, PollerTokens } from '../poller-tokens.ts';
import {
  ApiTokenOut,
  PollerConsumerParams,
  PollerConsumerPollQuery,
  PollerParams,
  PollerPollQuery,
  PollerTokenParams,
  PollerV2CommitIn,
  PollerV2PollOut,
  PollerV2PollQuery,
  PollingEndpointConsumerSeekIn,
  PollingEndpointConsumerSeekOut,
  PollingEndpointOut,
  RotatePollerTokenIn,
} from '../polling-schemas.ts';
import { iso } from '../serialize.ts';
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

/** A poller read as the v1 poller routes answer it: the messages, the iterator to go on from, `done`. */
function pollerPageOut(batch: Awaited<ReturnType<typeof readStream>>) {
  return {
    data: batch.messages.map(({ message }) => polledMessageOut(message)),
    iterator: iteratorOf(batch.position),
    done: batch.done,
  };
}

/**
 * Consumers that pull (docs/destinations.md, `pollingEndpoint`): Svix's `svix.message.poller` routes
 * (`/poller/{sink_id}`: a stateless read by iterator, and per consumer with a server-kept position and
 * `seek`) and its poller v2 (`/polling-endpoint/{sink_id}/consumer/{consumer_id}`: offsets, leases,
 * `commit`). Every consumer of an endpoint reads the same stream independently. Reading and moving a
 * consumer need only read access to the application: they change that consumer's place, nothing else.
 */
export function pollingRoutes(ctx: ApiContext, pollers: PollerTokens): FastifyPluginAsyncTypebox {
  async function pollingEndpoint(request: FastifyRequest, appId: string, sinkId: string) {
    const app = await loadApp(ctx, request, appId);
    const endpoint = await ctx.storage.endpoints.get(app.id, sinkId);
    if (endpoint?.destination?.type !== 'pollingEndpoint') throw ApiError.notFound('Polling endpoint');
    // A poller token reads its own endpoint only; to it no other exists.
    const principal = request.principal;
    if (principal?.kind === 'portal' && principal.pollerEndpointId !== undefined) {
      if (principal.pollerEndpointId !== endpoint.id) throw ApiError.notFound('Polling endpoint');
    }
    return endpoint;
  }

  function tokenOut(token: PollerToken) {
    return {
      token: token.token,
      id: token.id,
      name: null,
      createdAt: iso(token.createdAt),
      expiresAt: token.expiresAt === null ? null : iso(token.expiresAt),
      scopes: null,
    };
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
          poller: true,
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
            ? positionOf(ctx.storage, query.iterator, endpoint)
            : after !== undefined
              ? positionAfter(endpoint, after)
              : streamStart(endpoint);
        const batch = await readStream(ctx.storage, endpoint, from, query.limit ?? DEFAULT_LIMIT, {
          eventType: query.event_type ?? undefined,
          channel: query.channel ?? undefined,
        });
        return pollerPageOut(batch);
      },
    );

    app.get(
      '/app/:app_id/poller/:sink_id/consumer/:consumer_id',
      {
        schema: { params: PollerConsumerParams, querystring: PollerConsumerPollQuery },
        config: {
          access: 'app-read',
          poller: true,
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
          consumer = movedTo(consumer, positionOf(ctx.storage, query.iterator, endpoint));
          await ctx.storage.polling.saveConsumer(consumer);
        }
        const batch = await readStream(
          ctx.storage,
          endpoint,
          consumer.position,
          query.limit ?? DEFAULT_LIMIT,
        );
        return pollerPageOut(batch);
      },
    );

    app.post(
      '/app/:app_id/poller/:sink_id/consumer/:consumer_id/seek',
      {
        schema: { params: PollerConsumerParams, body: PollingEndpointConsumerSeekIn },
        config: {
          access: 'app-read',
          poller: true,
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
          poller: true,
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
          poller: true,
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

    app.get(
      '/auth/app/:app_id/poller/:endpoint_id/token',
      {
        schema: { params: PollerTokenParams },
        config: {
          access: 'app-read',
          capability: ['ViewEndpointSecret'],
          operationId: 'v1.authentication.get-poller-token',
          responses: { 200: ApiTokenOut },
        },
      },
      async (request) => {
        const { params } = request;
        const endpoint = await pollingEndpoint(request, params.app_id, params.endpoint_id);
        return tokenOut(await pollers.current(endpoint.appId, endpoint.id, ctx.clock()));
      },
    );

    app.post(
      '/auth/app/:app_id/poller/:endpoint_id/token/rotate',
      {
        schema: { params: PollerTokenParams, body: RotatePollerTokenIn },
        config: {
          access: 'app-write',
          capability: ['ManageEndpointSecret'],
          operationId: 'v1.authentication.rotate-poller-token',
          responses: { 201: ApiTokenOut },
        },
      },
      async (request, reply) => {
        const { params, body } = request;
        const endpoint = await pollingEndpoint(request, params.app_id, params.endpoint_id);
        const token = await pollers.rotate(
          endpoint.appId,
          endpoint.id,
          ctx.clock(),
          body.expiry ?? null,
          body.oldTokenExpiry ?? 300,
        );
        return reply.code(201).send(tokenOut(token));
      },
    );
  };
}
