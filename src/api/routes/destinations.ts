import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { headerLimits, mergeHeaders } from '../../domain/endpoint-headers.ts';
import { newId } from '../../domain/ids.ts';
import { type Batching, batchingOf, DEFAULT_BATCHING, ORDERED_TYPE } from '../../domain/ordered-batch.ts';
import { ApiError } from '../../errors/api-error.ts';
import {
  type ApplicationRecord,
  type AttemptRecord,
  type EndpointRecord,
  type MessageStatus,
  type OrderedEvent,
  statusText,
} from '../../storage/contract.ts';
import { type ApiContext, assertEndpointUrl, assertUid, loadApp, parseAfter, parseTime } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  AppParams,
  AttemptListQuery,
  DestinationAttemptOut,
  DestinationEventOut,
  DestinationHeadersPatchIn,
  DestinationIn,
  DestinationOut,
  DestinationParams,
  DestinationPatch,
  DestinationSecretOut,
  DestinationSkipIn,
  DestinationSkipQuery,
  EmptyResponse,
  EndpointHeadersOut,
  EndpointSecretRotateIn,
  listResponse,
  OrderedListQuery,
  SVIX_DESTINATION_TYPES,
} from '../schemas.ts';
import { iso } from '../serialize.ts';
import {
  checkDestinationConfig,
  configOf,
  configOut,
  destinationAddress,
} from '../use-cases/destination-config.ts';
import { egressFrom, egressOut, withEgress } from '../use-cases/egress.ts';
import {
  checkedHeaders,
  headersOut,
  rotatedSecrets,
  secretFrom,
  secretOut,
} from '../use-cases/endpoint-rules.ts';
import { filterOf } from '../use-cases/payload-filter.ts';

const ListDestinationOut = listResponse('DestinationOut', DestinationOut);
const ListDestinationAttemptOut = listResponse('DestinationAttemptOut', DestinationAttemptOut);

type DestinationFields = Static<typeof DestinationPatch>;

/**
 * Batching (`batchSize` > 1, `maxWaitSecs` > 0) is ordered delivery's (fifoEndpoint). A broker
 * destination publishes each message on its own, at once, so a request asking it for batches is
 * refused rather than silently ignored.
 */
/** Egress settings shape HTTP deliveries: of the destination types, only fifoEndpoint makes them. */
function assertNoEgress(body: DestinationFields, type: string): void {
  if (type !== ORDERED_TYPE && body.egress != null)
    throw ApiError.validation(
      ['body', 'egress'],
      `egress (client certificate, CA bundle, proxy) applies to HTTP deliveries: fifoEndpoint destinations and endpoints, not ${type} destinations; leave egress out`,
    );
}

function assertNoBatching(body: DestinationFields, type: string): void {
  if (type === ORDERED_TYPE) return;
  if (body.batchSize != null && body.batchSize !== 1)
    throw ApiError.validation(
      ['body', 'batchSize'],
      `${type} publishes each message on its own (batching is for fifoEndpoint); leave batchSize out or set it to 1`,
    );
  if (body.maxWaitSecs != null && body.maxWaitSecs !== 0)
    throw ApiError.validation(
      ['body', 'maxWaitSecs'],
      `${type} publishes each message at once (batching is for fifoEndpoint); leave maxWaitSecs out or set it to 0`,
    );
}

/** A fifoEndpoint's stored config: its `url` and its batching (the API shows the batching beside config). */
function orderedConfig(url: unknown, batching: Batching): Record<string, unknown> {
  return { url, batchSize: batching.batchSize, maxWaitSecs: batching.maxWaitSecs };
}

/** A fifoEndpoint's config as FifoEndpointConfigIn gives it: `url`, and `headers` and `key` set aside. */
function splitOrderedConfig(config: Record<string, unknown>) {
  const { headers, key, ...rest } = config;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers))
      throw ApiError.validation(['body', 'config', 'headers'], 'config.headers must be an object of strings');
    for (const [name, value] of Object.entries(headers))
      if (typeof value !== 'string')
        throw ApiError.validation(['body', 'config', 'headers', name], `header ${name} must be a string`);
  }
  if (key !== undefined && key !== null && typeof key !== 'string')
    throw ApiError.validation(['body', 'config', 'key'], 'config.key must be a string');
  return {
    rest,
    headers: (headers ?? undefined) as Record<string, string> | undefined,
    key: (key ?? undefined) as string | undefined,
  };
}

const eventOut = (event: OrderedEvent) => ({
  eventType: event.eventType,
  payload: event.payload ?? '',
  timestamp: iso(event.createdAt),
});

const withoutNulls = (config: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(config).filter(([, value]) => value !== null));

const emptyToNull = (list: string[] | null | undefined) => (list?.length === 0 ? null : list);

/** A user-agent of Svix's official libraries: their 2.x list parser refuses types it does not know. */
function isSvixSdk(userAgent: string | undefined): boolean {
  return userAgent?.startsWith('svix-libs/') === true;
}

export function destinationRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  async function destinationOut(endpoint: EndpointRecord) {
    const destination = endpoint.destination;
    if (!destination) throw ApiError.notFound('Destination');
    if (destination.type === ORDERED_TYPE) return orderedOut(endpoint, destination.config);
    const health = await ctx.storage.endpoints.health(endpoint.id);
    const now = ctx.clock();
    const status = endpoint.disabled
      ? 'disabled'
      : health?.pausedUntil != null && health.pausedUntil > now
        ? 'paused'
        : health?.failSince != null
          ? 'retrying'
          : 'enabled';
    return {
      id: endpoint.id,
      uid: endpoint.uid,
      type: destination.type,
      config: configOut(destination.type, destination.config),
      status,
      failureReason: null,
      batchSize: 1,
      maxWaitSecs: 0,
      eventTypes: endpoint.eventTypes ?? [],
      channels: endpoint.channels,
      nextRetryAt: health?.nextProbeAt != null ? iso(health.nextProbeAt) : null,
      metadata: endpoint.metadata,
      filter: endpoint.filter ?? null,
      createdAt: iso(endpoint.createdAt),
      updatedAt: iso(endpoint.updatedAt),
    };
  }

  /**
   * A fifoEndpoint's status comes from its position, not the endpoint policies (which it does not use):
   * `retrying` while its head batch fails on the schedule, `paused` once the schedule ran out (until
   * skip or force-retry), with the last failure as `failureReason`.
   */
  async function orderedOut(endpoint: EndpointRecord, config: Record<string, unknown>) {
    const position = await ctx.storage.ordered.position(endpoint.id);
    const stopped = position.attempts > 0 && position.nextAttemptAt === null && position.queued > 0;
    const status = endpoint.disabled
      ? 'disabled'
      : stopped
        ? 'paused'
        : position.attempts > 0
          ? 'retrying'
          : 'enabled';
    const { batchSize, maxWaitSecs } = batchingOf(config);
    return {
      id: endpoint.id,
      uid: endpoint.uid,
      type: ORDERED_TYPE,
      config: { ...configOut(ORDERED_TYPE, config), headers: headersOut(endpoint) },
      status,
      failureReason: position.attempts > 0 ? position.failure : null,
      currentIterator: position.lastAcked?.msgId ?? '',
      batchSize,
      maxWaitSecs,
      eventTypes: endpoint.eventTypes ?? [],
      channels: endpoint.channels,
      nextRetryAt:
        position.attempts > 0 && position.nextAttemptAt !== null ? iso(position.nextAttemptAt) : null,
      filter: endpoint.filter ?? null,
      egress: egressOut(endpoint.egress),
      metadata: endpoint.metadata,
      createdAt: iso(endpoint.createdAt),
      updatedAt: iso(endpoint.updatedAt),
    };
  }

  /** The destination, which must be a fifoEndpoint: only those have a position. */
  async function orderedTarget(
    request: Parameters<typeof loadApp>[1],
    params: Static<typeof DestinationParams>,
  ) {
    const found = await target(request, params);
    if (found.endpoint.destination?.type !== ORDERED_TYPE)
      throw new ApiError(
        'not_found',
        `Destination ${params.destination_id} is a ${found.endpoint.destination?.type} destination, which delivers without an order; only fifoEndpoint destinations have next-event, last-acked-event, skip and force-retry.`,
      );
    return found;
  }

  async function load(app: ApplicationRecord, idOrUid: string): Promise<EndpointRecord> {
    const endpoint = await ctx.storage.endpoints.get(app.id, idOrUid);
    if (!endpoint?.destination) throw ApiError.notFound('Destination');
    return endpoint;
  }

  async function target(request: Parameters<typeof loadApp>[1], params: Static<typeof DestinationParams>) {
    const app = await loadApp(ctx, request, params.app_id);
    return { app, endpoint: await load(app, params.destination_id) };
  }

  function newDestination(
    app: ApplicationRecord,
    body: Static<typeof DestinationIn>,
    now: number,
    fallbackUid?: string,
  ): EndpointRecord {
    assertNoBatching(body, body.type);
    assertNoEgress(body, body.type);
    assertUid('destination', body.uid, ['body', 'uid']);
    if (body.uid == null) assertUid('destination', fallbackUid, ['path', 'destination_id']);
    if (body.type === ORDERED_TYPE) return newOrdered(app, body, now, fallbackUid);
    const config = configOf(body.type, body.config);
    checkDestinationConfig(body.type, config);
    const filter = filterOf(body.filter) ?? null;
    return {
      id: newId('destination', now),
      appId: app.id,
      uid: body.uid ?? fallbackUid ?? null,
      url: destinationAddress(body.type, config),
      description: '',
      disabled: body.status === 'disabled',
      eventTypes: emptyToNull(body.eventTypes) ?? null,
      channels: emptyToNull(body.channels) ?? null,
      throttleRate: null,
      metadata: body.metadata ?? {},
      headers: {},
      secrets: [{ key: secretFrom(undefined, [], ctx.config.defaultSignatureType), expiresAt: null }],
      createdAt: now,
      updatedAt: now,
      destination: { type: body.type, config },
      ...(filter ? { filter } : {}),
    };
  }

  function newOrdered(
    app: ApplicationRecord,
    body: Static<typeof DestinationIn>,
    now: number,
    fallbackUid: string | undefined,
  ): EndpointRecord {
    const { rest, headers, key } = splitOrderedConfig(configOf(ORDERED_TYPE, body.config));
    checkDestinationConfig(ORDERED_TYPE, rest);
    const filter = filterOf(body.filter) ?? null;
    const url = assertEndpointUrl(ctx, String(rest['url']), ['body', 'config', 'url']);
    if (headers) checkedHeaders(headers, ['body', 'config', 'headers']);
    const batching = {
      batchSize: body.batchSize ?? DEFAULT_BATCHING.batchSize,
      maxWaitSecs: body.maxWaitSecs ?? DEFAULT_BATCHING.maxWaitSecs,
    };
    return {
      id: newId('destination', now),
      appId: app.id,
      uid: body.uid ?? fallbackUid ?? null,
      url,
      description: '',
      disabled: body.status === 'disabled',
      eventTypes: emptyToNull(body.eventTypes) ?? null,
      channels: emptyToNull(body.channels) ?? null,
      throttleRate: null,
      metadata: body.metadata ?? {},
      headers: headers ?? {},
      secrets: [
        {
          key: secretFrom(key, ['body', 'config', 'key'], ctx.config.defaultSignatureType),
          expiresAt: null,
        },
      ],
      createdAt: now,
      updatedAt: now,
      ...(filter ? { filter } : {}),
      ...withEgress(egressFrom(body.egress, undefined, ctx.guard)),
      destination: { type: ORDERED_TYPE, config: orderedConfig(url, batching) },
    };
  }

  /**
   * A fifoEndpoint changed: `url` (merged on PATCH, as SinkHttpConfigPatch), `headers` and `key` when
   * given (a full update sets them), batching when given (PUT: back to the defaults when left out).
   */
  function changedOrdered(
    current: EndpointRecord,
    body: DestinationFields,
    now: number,
    merge: boolean,
  ): EndpointRecord {
    const stored = current.destination?.config ?? {};
    const { rest, headers, key } = splitOrderedConfig(body.config ?? {});
    const config = body.config && !(merge && rest['url'] === undefined) ? rest : { url: stored['url'] };
    checkDestinationConfig(ORDERED_TYPE, config);
    const url = assertEndpointUrl(ctx, String(config['url']), ['body', 'config', 'url']);
    if (headers) checkedHeaders(headers, ['body', 'config', 'headers']);
    const before = batchingOf(stored);
    const fallback = merge ? before : DEFAULT_BATCHING;
    const batching = {
      batchSize: body.batchSize ?? fallback.batchSize,
      maxWaitSecs: body.maxWaitSecs ?? fallback.maxWaitSecs,
    };
    const eventTypes = emptyToNull(body.eventTypes);
    const channels = emptyToNull(body.channels);
    const filter = filterOf(body.filter);
    return {
      ...current,
      uid: body.uid !== undefined ? body.uid : current.uid,
      url,
      filter: filter !== undefined ? filter : (current.filter ?? null),
      disabled: body.status == null ? current.disabled : body.status === 'disabled',
      eventTypes: eventTypes !== undefined ? eventTypes : current.eventTypes,
      channels: channels !== undefined ? channels : current.channels,
      metadata: body.metadata ?? current.metadata,
      headers: headers ?? current.headers,
      egress: egressFrom(body.egress, current.egress, ctx.guard),
      secrets:
        key === undefined
          ? current.secrets
          : [
              {
                key: secretFrom(key, ['body', 'config', 'key'], ctx.config.defaultSignatureType),
                expiresAt: null,
              },
            ],
      updatedAt: now,
      destination: { type: ORDERED_TYPE, config: orderedConfig(url, batching) },
    };
  }

  /**
   * `current` changed by the fields given; a field left out keeps its value. With `merge` (PATCH) a
   * config of the same type is merged field by field (null removes a field), as Svix's config patches are.
   */
  function changed(
    current: EndpointRecord,
    body: DestinationFields,
    now: number,
    merge: boolean,
  ): EndpointRecord {
    assertUid('destination', body.uid, ['body', 'uid']);
    const stored = current.destination;
    if (!stored) throw ApiError.notFound('Destination');
    const type = body.type ?? stored.type;
    assertNoBatching(body, type);
    assertNoEgress(body, type);
    // Its queue and position belong to the ordered type: a destination does not move in or out of it.
    if ((type === ORDERED_TYPE) !== (stored.type === ORDERED_TYPE))
      throw ApiError.validation(
        ['body', 'type'],
        `a ${stored.type} destination cannot become a ${type} one (ordered delivery keeps its own queue); create a new destination`,
      );
    if (type === ORDERED_TYPE) return changedOrdered(current, body, now, merge);
    const typeChanged = body.type !== undefined && body.type !== stored.type;
    const given = typeChanged && body.config === undefined ? configOf(type, undefined) : body.config;
    const config = !given
      ? stored.config
      : merge && type === stored.type
        ? withoutNulls({ ...stored.config, ...given })
        : given;
    checkDestinationConfig(type, config);
    const filter = filterOf(body.filter);
    const eventTypes = emptyToNull(body.eventTypes);
    const channels = emptyToNull(body.channels);
    return {
      ...current,
      uid: body.uid !== undefined ? body.uid : current.uid,
      url: destinationAddress(type, config),
      disabled: body.status == null ? current.disabled : body.status === 'disabled',
      eventTypes: eventTypes !== undefined ? eventTypes : current.eventTypes,
      channels: channels !== undefined ? channels : current.channels,
      metadata: body.metadata ?? current.metadata,
      filter: filter !== undefined ? filter : (current.filter ?? null),
      updatedAt: now,
      destination: { type, config },
    };
  }

  async function save(record: EndpointRecord): Promise<EndpointRecord> {
    const stored = await ctx.storage.endpoints.update(record);
    if (!stored) throw ApiError.notFound('Destination');
    return stored;
  }

  function attemptOut(attempt: AttemptRecord, destinationId: string) {
    return {
      id: attempt.id,
      destinationId,
      status: attempt.status,
      statusText: statusText[attempt.status],
      firstMsgId: attempt.msgId,
      lastMsgId: attempt.batch?.lastMsgId ?? attempt.msgId,
      numEvents: attempt.batch?.numEvents ?? 1,
      responseDurationMs: attempt.responseDurationMs,
      timestamp: iso(attempt.createdAt),
    };
  }

  return async (app) => {
    app.get(
      '/app/:app_id/destination',
      {
        schema: { params: AppParams, querystring: OrderedListQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.destination.list',
          responses: { 200: ListDestinationOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const walk = pageWalk(request.query, 'destination', request.query.order === 'ascending');
        const result = await ctx.storage.endpoints.list(application.id, walk.page, 'destination');
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        const shown = isSvixSdk(request.headers['user-agent'])
          ? data.filter((item) => SVIX_DESTINATION_TYPES.includes(item.destination?.type ?? ''))
          : data;
        return { data: await Promise.all(shown.map(destinationOut)), ...cursor };
      },
    );

    app.post(
      '/app/:app_id/destination',
      {
        schema: { params: AppParams, body: DestinationIn },
        config: {
          access: 'app-write',
          operationId: 'v1.destination.create',
          responses: { 201: DestinationOut },
        },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const record = newDestination(application, request.body, ctx.clock());
        const created = await ctx.storage.endpoints.create(record);
        return reply.code(201).send(await destinationOut(created));
      },
    );

    app.get(
      '/app/:app_id/destination/:destination_id',
      {
        schema: { params: DestinationParams },
        config: { access: 'app-read', operationId: 'v1.destination.get', responses: { 200: DestinationOut } },
      },
      async (request) => destinationOut((await target(request, request.params)).endpoint),
    );

    app.put(
      '/app/:app_id/destination/:destination_id',
      {
        schema: { params: DestinationParams, body: DestinationIn },
        config: {
          access: 'app-write',
          operationId: 'v1.destination.upsert',
          responses: { 200: DestinationOut, 201: DestinationOut },
        },
      },
      async (request, reply) => {
        const now = ctx.clock();
        const application = await loadApp(ctx, request, request.params.app_id);
        const current = await ctx.storage.endpoints.get(application.id, request.params.destination_id);
        if (current && !current.destination) throw ApiError.notFound('Destination');
        if (!current) {
          const record = newDestination(application, request.body, now, request.params.destination_id);
          return reply.code(201).send(await destinationOut(await ctx.storage.endpoints.create(record)));
        }
        // A full update: what the body leaves out returns to its default.
        const body = request.body;
        const updated = await save(
          changed(
            current,
            {
              ...body,
              status: body.status ?? 'enabled',
              eventTypes: body.eventTypes ?? null,
              channels: body.channels ?? null,
              metadata: body.metadata ?? {},
              filter: body.filter ?? null,
              config: configOf(body.type, body.config),
            },
            now,
            false,
          ),
        );
        return reply.code(200).send(await destinationOut(updated));
      },
    );

    app.patch(
      '/app/:app_id/destination/:destination_id',
      {
        schema: { params: DestinationParams, body: DestinationPatch },
        config: {
          access: 'app-write',
          operationId: 'v1.destination.patch',
          responses: { 200: DestinationOut },
        },
      },
      async (request) => {
        const { endpoint } = await target(request, request.params);
        return destinationOut(await save(changed(endpoint, request.body, ctx.clock(), true)));
      },
    );

    app.delete(
      '/app/:app_id/destination/:destination_id',
      {
        schema: { params: DestinationParams },
        config: { access: 'app-write', operationId: 'v1.destination.delete', responses: { 204: null } },
      },
      async (request, reply) => {
        const { app: application, endpoint } = await target(request, request.params);
        await ctx.storage.endpoints.delete(application.id, endpoint.id);
        return reply.code(204).send();
      },
    );

    app.get(
      '/app/:app_id/destination/:destination_id/secret',
      {
        schema: { params: DestinationParams },
        config: {
          access: 'app-read',
          operationId: 'v1.destination.get-secret',
          responses: { 200: DestinationSecretOut },
        },
      },
      async (request) => secretOut((await target(request, request.params)).endpoint),
    );

    app.post(
      '/app/:app_id/destination/:destination_id/secret/rotate',
      {
        schema: { params: DestinationParams, body: EndpointSecretRotateIn },
        config: {
          access: 'app-write',
          operationId: 'v1.destination.rotate-secret',
          responses: { 200: EmptyResponse },
        },
      },
      async (request) => {
        const { endpoint } = await target(request, request.params);
        const now = ctx.clock();
        const secrets = rotatedSecrets(endpoint, request.body.key, request.body.gracePeriodSeconds, now);
        await save({ ...endpoint, secrets, updatedAt: now });
        return {};
      },
    );

    app.get(
      '/app/:app_id/destination/:destination_id/headers',
      {
        schema: { params: DestinationParams },
        config: {
          access: 'app-read',
          operationId: 'v1.destination.get-headers',
          responses: { 200: EndpointHeadersOut },
        },
      },
      async (request) => headersOut((await target(request, request.params)).endpoint),
    );

    app.patch(
      '/app/:app_id/destination/:destination_id/headers',
      {
        schema: { params: DestinationParams, body: DestinationHeadersPatchIn },
        config: {
          access: 'app-write',
          operationId: 'v1.destination.patch-headers',
          responses: { 200: EndpointHeadersOut },
        },
      },
      async (request) => {
        const { endpoint } = await target(request, request.params);
        checkedHeaders(request.body.headers, ['body', 'headers']);
        const headers = mergeHeaders(endpoint.headers, request.body.headers);
        if (Object.keys(headers).length > headerLimits.count)
          throw ApiError.validation(
            ['body', 'headers'],
            `a destination has at most ${headerLimits.count} headers`,
          );
        return headersOut(await save({ ...endpoint, headers, updatedAt: ctx.clock() }));
      },
    );

    app.get(
      '/app/:app_id/destination/:destination_id/attempt',
      {
        schema: { params: DestinationParams, querystring: AttemptListQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.destination.attempt.list',
          responses: { 200: ListDestinationAttemptOut },
        },
      },
      async (request) => {
        const query = request.query;
        const { app: application, endpoint } = await target(request, request.params);
        const walk = pageWalk(query, 'attempt');
        const result = await ctx.storage.attempts.listByEndpoint(
          application.id,
          endpoint.id,
          {
            before: parseTime(query.before),
            after: parseAfter(query.after),
            status: query.status as MessageStatus | undefined,
          },
          walk.page,
        );
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        return { data: data.map((attempt) => attemptOut(attempt, endpoint.id)), ...cursor };
      },
    );

    // The ordering controls of a fifoEndpoint (docs/destinations.md#fifoendpoint-ordered-delivery).
    app.get(
      '/app/:app_id/destination/:destination_id/next-event',
      {
        schema: { params: DestinationParams },
        config: {
          access: 'app-read',
          operationId: 'v1.destination.next-event',
          responses: { 200: DestinationEventOut },
        },
      },
      async (request) => {
        const { endpoint } = await orderedTarget(request, request.params);
        const { next } = await ctx.storage.ordered.position(endpoint.id);
        if (!next)
          throw new ApiError(
            'not_found',
            'No event is waiting: every queued event was acknowledged or skipped.',
          );
        return eventOut(next);
      },
    );

    app.get(
      '/app/:app_id/destination/:destination_id/last-acked-event',
      {
        schema: { params: DestinationParams },
        config: {
          access: 'app-read',
          operationId: 'v1.destination.get-last-acked-event',
          responses: { 200: DestinationEventOut },
        },
      },
      async (request) => {
        const { endpoint } = await orderedTarget(request, request.params);
        const { lastAcked } = await ctx.storage.ordered.position(endpoint.id);
        if (!lastAcked) throw new ApiError('not_found', 'The destination has not acknowledged an event yet.');
        return eventOut(lastAcked);
      },
    );

    app.post(
      '/app/:app_id/destination/:destination_id/skip',
      {
        schema: { params: DestinationParams, querystring: DestinationSkipQuery, body: DestinationSkipIn },
        config: { access: 'app-write', operationId: 'v1.destination.skip', responses: { 204: null } },
      },
      async (request, reply) => {
        const { endpoint } = await orderedTarget(request, request.params);
        const iterator = request.body.iterator ?? request.query.iterator ?? null;
        const { batchSize } = batchingOf(endpoint.destination?.config ?? {});
        const result = await ctx.storage.ordered.skip(
          endpoint.id,
          iterator === null ? { count: batchSize } : { msgId: iterator },
          ctx.clock(),
        );
        if (result.kind === 'not_queued')
          throw ApiError.validation(
            ['body', 'iterator'],
            `message ${iterator} is not waiting for this destination (already acknowledged or skipped, or never queued for it); pass the id of a queued message, such as next-event's`,
          );
        return reply.code(204).send();
      },
    );

    app.post(
      '/app/:app_id/destination/:destination_id/force-retry',
      {
        schema: { params: DestinationParams },
        config: { access: 'app-write', operationId: 'v1.destination.force-retry', responses: { 204: null } },
      },
      async (request, reply) => {
        const { endpoint } = await orderedTarget(request, request.params);
        await ctx.storage.ordered.forceRetry(endpoint.id, ctx.clock());
        return reply.code(204).send();
      },
    );
  };
}
