import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { headerLimits, mergeHeaders } from '../../domain/endpoint-headers.ts';
import { newId } from '../../domain/ids.ts';
import {
  BATCHABLE_BROKER_TYPES,
  type Batching,
  batchingOf,
  DEFAULT_BATCHING,
  isBatched,
  ORDERED_TYPE,
  orderedBatching,
  PER_MESSAGE,
} from '../../domain/ordered-batch.ts';
import { ApiError } from '../../errors/api-error.ts';
import {
  type ApplicationRecord,
  type AttemptRecord,
  type EndpointRecord,
  type MessageStatus,
  type OrderedEvent,
  type StoredDestination,
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

/** Egress settings shape HTTP deliveries: of the destination types, only fifoEndpoint makes them. */
function assertNoEgress(body: DestinationFields, type: string): void {
  if (type !== ORDERED_TYPE && body.egress != null)
    throw ApiError.validation(
      ['body', 'egress'],
      `egress (client certificate, CA bundle, proxy) applies to HTTP deliveries: fifoEndpoint destinations and endpoints, not ${type} destinations; leave egress out`,
    );
}

/**
 * Batching (`batchSize` > 1, `maxWaitSecs` > 0) makes a fifoEndpoint's batches and turns a broker
 * destination into an ordered stream. A polling endpoint is read by its consumers in batches of their
 * choosing, so a request asking it for batching is refused rather than silently ignored.
 */
function assertBatchable(body: DestinationFields, type: string): void {
  if (type === ORDERED_TYPE || BATCHABLE_BROKER_TYPES.includes(type)) return;
  if (body.batchSize != null && body.batchSize !== 1)
    throw ApiError.validation(
      ['body', 'batchSize'],
      `${type} sends nothing by push, so it has no batches (its consumers choose their limit); leave batchSize out or set it to 1`,
    );
  if (body.maxWaitSecs != null && body.maxWaitSecs !== 0)
    throw ApiError.validation(
      ['body', 'maxWaitSecs'],
      `${type} sends nothing by push, so it has no batches to wait for; leave maxWaitSecs out or set it to 0`,
    );
}

/** A broker destination's config as the API takes it: the stored one without its batching. */
function withoutBatching(config: Record<string, unknown>): Record<string, unknown> {
  const { batchSize: _size, maxWaitSecs: _wait, ...rest } = config;
  return rest;
}

/**
 * A broker destination's stored config: the API's config, with the batching beside it only when it
 * is batched, so a per-message destination's config is stored as it always was.
 */
function brokerConfig(config: Record<string, unknown>, batching: Batching): Record<string, unknown> {
  return isBatched(batching) ? { ...config, ...batching } : config;
}

/**
 * A broker destination does not switch between per-message and ordered delivery: a per-message one
 * has deliveries pending that the ordered stream would overtake (or that would overtake it), and an
 * ordered one has a queue the claim loop would never send. Refused, naming the way out.
 */
function assertSameMode(
  stored: { type: string; config: Record<string, unknown> },
  next: { type: string; config: Record<string, unknown> },
  body: DestinationFields,
): void {
  const before = orderedBatching(stored);
  const after = orderedBatching(next);
  if ((before === undefined) === (after === undefined)) return;
  const field = body.batchSize == null && body.maxWaitSecs != null ? 'maxWaitSecs' : 'batchSize';
  if (before)
    throw ApiError.validation(
      ['body', field],
      `this ${stored.type} destination is delivered in order, in batches (batchSize ${before.batchSize}, maxWaitSecs ${before.maxWaitSecs}), and cannot switch to one message at a time: its queue is sent only in order. Keep batchSize above 1 or maxWaitSecs above 0 (a PUT must give them again), or create a new destination without batching and delete this one once next-event answers 404`,
    );
  throw ApiError.validation(
    ['body', field],
    `this ${stored.type} destination delivers each message on its own, unordered, and cannot switch to ordered batches: the ordered stream would overtake its pending deliveries. Create a new destination with batchSize and maxWaitSecs, and delete this one once its deliveries are done`,
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
    if (orderedBatching(destination)) return orderedOut(endpoint, destination);
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
   * An ordered destination's status (a fifoEndpoint's, a batched broker's) comes from its position, not
   * the endpoint policies (which it does not use): `retrying` while its head batch fails on the
   * schedule, `paused` once the schedule ran out (until skip or force-retry), with the last failure as
   * `failureReason`.
   */
  async function orderedOut(endpoint: EndpointRecord, destination: StoredDestination) {
    const { type, config } = destination;
    const position = await ctx.storage.ordered.position(endpoint.id);
    const stopped = position.attempts > 0 && position.nextAttemptAt === null && position.queued > 0;
    const status = endpoint.disabled
      ? 'disabled'
      : stopped
        ? 'paused'
        : position.attempts > 0
          ? 'retrying'
          : 'enabled';
    const http = type === ORDERED_TYPE;
    const { batchSize, maxWaitSecs } = batchingOf(config, http ? DEFAULT_BATCHING : PER_MESSAGE);
    return {
      id: endpoint.id,
      uid: endpoint.uid,
      type,
      config: http ? { ...configOut(type, config), headers: headersOut(endpoint) } : configOut(type, config),
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
      ...(http ? { egress: egressOut(endpoint.egress) } : {}),
      metadata: endpoint.metadata,
      createdAt: iso(endpoint.createdAt),
      updatedAt: iso(endpoint.updatedAt),
    };
  }

  /** The destination, which must be ordered (a fifoEndpoint, a batched broker): only those have a position. */
  async function orderedTarget(
    request: Parameters<typeof loadApp>[1],
    params: Static<typeof DestinationParams>,
  ) {
    const found = await target(request, params);
    const destination = found.endpoint.destination;
    if (!orderedBatching(destination))
      throw new ApiError(
        'not_found',
        `Destination ${params.destination_id} is a ${destination?.type} destination${BATCHABLE_BROKER_TYPES.includes(destination?.type ?? '') ? ' without batching' : ''}, which delivers without an order; only fifoEndpoint destinations and broker destinations with batching (batchSize above 1 or maxWaitSecs above 0) have next-event, last-acked-event, skip and force-retry.`,
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
    assertBatchable(body, body.type);
    assertNoEgress(body, body.type);
    assertUid('destination', body.uid, ['body', 'uid']);
    if (body.uid == null) assertUid('destination', fallbackUid, ['path', 'destination_id']);
    if (body.type === ORDERED_TYPE) return newOrdered(app, body, now, fallbackUid);
    const config = configOf(body.type, body.config);
    checkDestinationConfig(body.type, config);
    const batching = {
      batchSize: body.batchSize ?? PER_MESSAGE.batchSize,
      maxWaitSecs: body.maxWaitSecs ?? PER_MESSAGE.maxWaitSecs,
    };
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
      destination: { type: body.type, config: brokerConfig(config, batching) },
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
    assertBatchable(body, type);
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
    const storedConfig = withoutBatching(stored.config);
    const config = !given
      ? storedConfig
      : merge && type === stored.type
        ? withoutNulls({ ...storedConfig, ...given })
        : given;
    checkDestinationConfig(type, config);
    // PATCH keeps the batching it leaves out; PUT returns it to one message at a time.
    const before = merge ? batchingOf(stored.config, PER_MESSAGE) : PER_MESSAGE;
    const batching = {
      batchSize: body.batchSize ?? before.batchSize,
      maxWaitSecs: body.maxWaitSecs ?? before.maxWaitSecs,
    };
    const next = {
      type,
      config: BATCHABLE_BROKER_TYPES.includes(type) ? brokerConfig(config, batching) : config,
    };
    assertSameMode(stored, next, body);
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
      destination: next,
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
