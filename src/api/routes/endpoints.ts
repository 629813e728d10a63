import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { headerLimits, mergeHeaders } from '../../domain/endpoint-headers.ts';
import { newId } from '../../domain/ids.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { ApplicationRecord, EndpointRecord } from '../../storage/contract.ts';
import {
  type ApiContext,
  assertEndpointUrl,
  assertUid,
  loadApp,
  loadEndpoint,
  parseTime,
} from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  AppParams,
  EndpointHeadersIn,
  EndpointHeadersOut,
  EndpointHeadersPatchIn,
  EndpointIn,
  EndpointOut,
  EndpointParams,
  EndpointPatch,
  EndpointSecretOut,
  EndpointSecretRotateIn,
  EndpointStats,
  EndpointUpdate,
  EventExampleIn,
  listResponse,
  MessageOut,
  OrderedListQuery,
  RecoverIn,
  RecoverOut,
  ReplayIn,
  ReplayOut,
  StatsQuery,
} from '../schemas.ts';
import { endpointOut, iso, messageOutJson } from '../serialize.ts';
import { egressFrom, withEgress } from '../use-cases/egress.ts';
import {
  checkedHeaders,
  headersOut,
  rotatedSecrets,
  secretFrom,
  secretOut,
} from '../use-cases/endpoint-rules.ts';
import { ingestMessage } from '../use-cases/messages.ts';
import { filterOf } from '../use-cases/payload-filter.ts';

const ListEndpointOut = listResponse('EndpointOut', EndpointOut);
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Svix's allowance for clock skew on the stats and recover windows ("now - 28 days" must pass). */
const WINDOW_SLACK_MS = 5 * 60_000;
const MAX_STATS_WINDOW_MS = 28 * DAY_MS + WINDOW_SLACK_MS;
const MAX_RECOVER_WINDOW_MS = 14 * DAY_MS + WINDOW_SLACK_MS;

/** `filterTypes` is the newer SDKs' name for `eventTypes`; an empty list means every type. */
function eventTypesOf(body: {
  eventTypes?: string[] | null;
  filterTypes?: string[] | null;
}): string[] | null | undefined {
  const value = body.eventTypes !== undefined ? body.eventTypes : body.filterTypes;
  return value?.length === 0 ? null : value;
}

function rateOf(body: {
  throttleRate?: number | null;
  rateLimit?: number | null;
}): number | null | undefined {
  return body.throttleRate !== undefined ? body.throttleRate : body.rateLimit;
}

/** The payload `send-example` delivers for `svix.ping`, as Svix sends it. */
const PING_PAYLOAD = { success: true };

/** The `exampleIndex`-th example of the event type's schemas (version "1" first), as Svix picks it. */
function examplePayload(schemas: Record<string, unknown> | null, index: number): object | undefined {
  const versions = Object.entries(schemas ?? {}).sort(([a], [b]) => (a === '1' ? -1 : b === '1' ? 1 : 0));
  for (const [, schema] of versions) {
    if (!schema || typeof schema !== 'object') continue;
    const { examples, example } = schema as { examples?: unknown; example?: unknown };
    const candidate = Array.isArray(examples) ? examples[index] : index === 0 ? example : undefined;
    if (candidate && typeof candidate === 'object' && !Array.isArray(candidate)) return candidate;
  }
  return undefined;
}

export function endpointRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  /**
   * An endpoint may not filter on an archived event type (422, as in Svix). A name that was never
   * registered is accepted: Hookyard's event-type catalog is optional (see docs/api.md).
   */
  async function assertFilterTypes(eventTypes: readonly string[] | null | undefined): Promise<void> {
    if (!eventTypes) return;
    const archived: string[] = [];
    for (const name of eventTypes) {
      const found = await ctx.storage.eventTypes.get(name);
      if (found?.archived) archived.push(name);
    }
    if (archived.length > 0)
      throw ApiError.validation(
        ['body', 'filterTypes'],
        `these event types are archived: ${archived.join(', ')}; unarchive them or drop them from the filter`,
      );
  }

  function newEndpoint(
    app: ApplicationRecord,
    body: Static<typeof EndpointIn>,
    now: number,
    fallbackUid?: string,
  ) {
    const url = assertEndpointUrl(ctx, body.url, ['body', 'url']);
    assertUid('endpoint', body.uid, ['body', 'uid']);
    if (body.uid == null) assertUid('endpoint', fallbackUid, ['path', 'endpoint_id']);
    const headers = body.headers ?? {};
    checkedHeaders(headers, ['body', 'headers']);
    const record: EndpointRecord = {
      id: newId('endpoint', now),
      appId: app.id,
      uid: body.uid ?? fallbackUid ?? null,
      url,
      description: body.description ?? '',
      disabled: body.disabled ?? false,
      eventTypes: eventTypesOf(body) ?? null,
      channels: body.channels ?? null,
      throttleRate: rateOf(body) ?? null,
      metadata: body.metadata ?? {},
      headers,
      secrets: [
        {
          key: secretFrom(body.secret, ['body', 'secret'], ctx.config.defaultSignatureType),
          expiresAt: null,
        },
      ],
      createdAt: now,
      updatedAt: now,
      filter: filterOf(body.filter) ?? null,
      ...withEgress(egressFrom(body.egress, undefined, ctx.guard)),
    };
    return record;
  }

  /** The operational event for a committed change (Svix's EndpointCreatedEvent and siblings). */
  function announce(
    type: 'endpoint.created' | 'endpoint.updated' | 'endpoint.deleted',
    app: ApplicationRecord,
    endpoint: EndpointRecord,
  ): Promise<void> {
    return ctx.operational.emit({
      type,
      data: {
        appId: app.id,
        appUid: app.uid ?? undefined,
        endpointId: endpoint.id,
        endpointUid: endpoint.uid ?? undefined,
      },
    });
  }

  async function create(app: ApplicationRecord, record: EndpointRecord): Promise<EndpointRecord> {
    const created = await ctx.storage.endpoints.create(record);
    await announce('endpoint.created', app, created);
    return created;
  }

  async function save(app: ApplicationRecord, record: EndpointRecord): Promise<EndpointRecord> {
    const stored = await ctx.storage.endpoints.update(record);
    if (!stored) throw ApiError.notFound('Endpoint');
    await announce('endpoint.updated', app, stored);
    return stored;
  }

  async function target(request: Parameters<typeof loadApp>[1], params: Static<typeof EndpointParams>) {
    const app = await loadApp(ctx, request, params.app_id);
    return { app, endpoint: await loadEndpoint(ctx, app, params.endpoint_id) };
  }

  return async (app) => {
    app.get(
      '/app/:app_id/endpoint',
      {
        schema: { params: AppParams, querystring: OrderedListQuery },
        config: { access: 'app-read', operationId: 'v1.endpoint.list', responses: { 200: ListEndpointOut } },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const walk = pageWalk(request.query, 'endpoint', request.query.order === 'ascending');
        const result = await ctx.storage.endpoints.list(application.id, walk.page);
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        return { data: data.map(endpointOut), ...cursor };
      },
    );

    app.post(
      '/app/:app_id/endpoint',
      {
        schema: { params: AppParams, body: EndpointIn },
        config: { access: 'app-write', operationId: 'v1.endpoint.create', responses: { 201: EndpointOut } },
      },
      async (request, reply) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const record = newEndpoint(application, request.body, ctx.clock());
        await assertFilterTypes(record.eventTypes);
        const created = await create(application, record);
        return reply.code(201).send(endpointOut(created));
      },
    );

    app.get(
      '/app/:app_id/endpoint/:endpoint_id',
      {
        schema: { params: EndpointParams },
        config: { access: 'app-read', operationId: 'v1.endpoint.get', responses: { 200: EndpointOut } },
      },
      async (request) => endpointOut((await target(request, request.params)).endpoint),
    );

    app.put(
      '/app/:app_id/endpoint/:endpoint_id',
      {
        schema: { params: EndpointParams, body: EndpointUpdate },
        config: {
          access: 'app-write',
          operationId: 'v1.endpoint.update',
          responses: { 200: EndpointOut, 201: EndpointOut },
        },
      },
      async (request, reply) => {
        const now = ctx.clock();
        const body = request.body;
        const application = await loadApp(ctx, request, request.params.app_id);
        const current = await ctx.storage.endpoints.get(application.id, request.params.endpoint_id);
        if (current?.destination) throw ApiError.notFound('Endpoint');
        if (!current) {
          const record = newEndpoint(application, body, now, request.params.endpoint_id);
          await assertFilterTypes(record.eventTypes);
          return reply.code(201).send(endpointOut(await create(application, record)));
        }
        assertUid('endpoint', body.uid, ['body', 'uid']);
        await assertFilterTypes(eventTypesOf(body));
        const updated = await save(application, {
          ...current,
          url: assertEndpointUrl(ctx, body.url, ['body', 'url']),
          uid: body.uid !== undefined ? body.uid : current.uid,
          description: body.description ?? '',
          disabled: body.disabled ?? false,
          eventTypes: eventTypesOf(body) ?? null,
          channels: body.channels ?? null,
          throttleRate: rateOf(body) ?? null,
          metadata: body.metadata ?? {},
          filter: filterOf(body.filter) ?? null,
          egress: egressFrom(body.egress, current.egress, ctx.guard),
          updatedAt: now,
        });
        return reply.code(200).send(endpointOut(updated));
      },
    );

    app.patch(
      '/app/:app_id/endpoint/:endpoint_id',
      {
        schema: { params: EndpointParams, body: EndpointPatch },
        config: { access: 'app-write', operationId: 'v1.endpoint.patch', responses: { 200: EndpointOut } },
      },
      async (request) => {
        const { app: application, endpoint } = await target(request, request.params);
        const body = request.body;
        const eventTypes = eventTypesOf(body);
        assertUid('endpoint', body.uid, ['body', 'uid']);
        await assertFilterTypes(eventTypes);
        const rate = rateOf(body);
        const channels = body.channels?.length === 0 ? null : body.channels;
        const filter = filterOf(body.filter);
        const updated = await save(application, {
          ...endpoint,
          url: body.url === undefined ? endpoint.url : assertEndpointUrl(ctx, body.url, ['body', 'url']),
          uid: body.uid !== undefined ? body.uid : endpoint.uid,
          description: body.description ?? endpoint.description,
          disabled: body.disabled ?? endpoint.disabled,
          eventTypes: eventTypes !== undefined ? eventTypes : endpoint.eventTypes,
          channels: channels !== undefined ? channels : endpoint.channels,
          throttleRate: rate !== undefined ? rate || null : endpoint.throttleRate,
          metadata: body.metadata ?? endpoint.metadata,
          filter: filter !== undefined ? filter : (endpoint.filter ?? null),
          egress: egressFrom(body.egress, endpoint.egress, ctx.guard),
          secrets:
            body.secret === undefined
              ? endpoint.secrets
              : [
                  {
                    key: secretFrom(body.secret, ['body', 'secret'], ctx.config.defaultSignatureType),
                    expiresAt: null,
                  },
                ],
          updatedAt: ctx.clock(),
        });
        return endpointOut(updated);
      },
    );

    app.delete(
      '/app/:app_id/endpoint/:endpoint_id',
      {
        schema: { params: EndpointParams },
        config: { access: 'app-write', operationId: 'v1.endpoint.delete', responses: { 204: null } },
      },
      async (request, reply) => {
        const { app: application, endpoint } = await target(request, request.params);
        if (!(await ctx.storage.endpoints.delete(application.id, endpoint.id)))
          throw ApiError.notFound('Endpoint');
        await announce('endpoint.deleted', application, endpoint);
        return reply.code(204).send();
      },
    );

    app.get(
      '/app/:app_id/endpoint/:endpoint_id/secret',
      {
        schema: { params: EndpointParams },
        config: {
          access: 'app-read',
          capability: ['ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint'],
          operationId: 'v1.endpoint.get-secret',
          responses: { 200: EndpointSecretOut },
        },
      },
      async (request) => {
        const { endpoint } = await target(request, request.params);
        // A v1a endpoint's private key never leaves Hookyard: receivers verify with the public key.
        return secretOut(endpoint);
      },
    );

    app.post(
      '/app/:app_id/endpoint/:endpoint_id/secret/rotate',
      {
        schema: { params: EndpointParams, body: EndpointSecretRotateIn },
        config: {
          access: 'app-write',
          capability: ['ManageEndpointSecret', 'ManageEndpoint'],
          operationId: 'v1.endpoint.rotate-secret',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const { app: application, endpoint } = await target(request, request.params);
        const now = ctx.clock();
        const secrets = rotatedSecrets(endpoint, request.body.key, request.body.gracePeriodSeconds, now);
        await save(application, {
          ...endpoint,
          secrets,
          updatedAt: now,
        });
        return reply.code(204).send();
      },
    );

    app.get(
      '/app/:app_id/endpoint/:endpoint_id/headers',
      {
        schema: { params: EndpointParams },
        config: {
          access: 'app-read',
          operationId: 'v1.endpoint.get-headers',
          responses: { 200: EndpointHeadersOut },
        },
      },
      async (request) => {
        const { endpoint } = await target(request, request.params);
        return headersOut(endpoint);
      },
    );

    app.put(
      '/app/:app_id/endpoint/:endpoint_id/headers',
      {
        schema: { params: EndpointParams, body: EndpointHeadersIn },
        config: { access: 'app-write', operationId: 'v1.endpoint.update-headers', responses: { 204: null } },
      },
      async (request, reply) => {
        const { app: application, endpoint } = await target(request, request.params);
        checkedHeaders(request.body.headers, ['body', 'headers']);
        await save(application, {
          ...endpoint,
          headers: mergeHeaders({}, request.body.headers),
          updatedAt: ctx.clock(),
        });
        return reply.code(204).send();
      },
    );

    app.patch(
      '/app/:app_id/endpoint/:endpoint_id/headers',
      {
        schema: { params: EndpointParams, body: EndpointHeadersPatchIn },
        config: { access: 'app-write', operationId: 'v1.endpoint.patch-headers', responses: { 204: null } },
      },
      async (request, reply) => {
        const { app: application, endpoint } = await target(request, request.params);
        const changes: Record<string, string | null> = { ...request.body.headers };
        for (const name of request.body.deleteHeaders ?? []) changes[name] = null;
        checkedHeaders(changes, ['body', 'headers']);
        const headers = mergeHeaders(endpoint.headers, changes);
        if (Object.keys(headers).length > headerLimits.count)
          throw ApiError.validation(
            ['body', 'headers'],
            `an endpoint has at most ${headerLimits.count} headers`,
          );
        await save(application, { ...endpoint, headers, updatedAt: ctx.clock() });
        return reply.code(204).send();
      },
    );

    app.get(
      '/app/:app_id/endpoint/:endpoint_id/stats',
      {
        schema: { params: EndpointParams, querystring: StatsQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.endpoint.get-stats',
          responses: { 200: EndpointStats },
        },
      },
      async (request) => {
        const { endpoint } = await target(request, request.params);
        const now = ctx.clock();
        const given = parseTime(request.query.until);
        if (given !== undefined && given > now)
          throw new ApiError('invalid_range', 'until cannot be in the future.');
        const until = given ?? now;
        // Svix's defaults, with two liberties that keep the count to the stats rollup's whole minutes
        // (storage/sql/endpoints.ts, `stats`): the default start is rounded up to a minute (under a
        // minute less than 28 days), and without `until` the range is left open at the end: everything
        // finished so far, so the current minute's rollup row is taken whole rather than cut at now.
        const since =
          parseTime(request.query.since) ?? Math.ceil((until - 28 * DAY_MS) / MINUTE_MS) * MINUTE_MS;
        if (until - since > MAX_STATS_WINDOW_MS)
          throw new ApiError('invalid_range', `since cannot be more than 28 days before ${iso(until)}.`);
        return ctx.storage.endpoints.stats(endpoint.id, {
          after: since - 1,
          before: given === undefined ? undefined : given + 1,
        });
      },
    );

    app.post(
      '/app/:app_id/endpoint/:endpoint_id/recover',
      {
        schema: { params: EndpointParams, body: RecoverIn },
        config: {
          access: 'app-write',
          capability: ['CreateAttempts'],
          operationId: 'v1.endpoint.recover',
          responses: { 202: RecoverOut },
        },
      },
      async (request, reply) => {
        const { endpoint } = await target(request, request.params);
        const now = ctx.clock();
        const since = parseTime(request.body.since) ?? now;
        const until = parseTime(request.body.until) ?? now;
        if (since > until) throw ApiError.validation(['body', 'since'], 'since must not be after until');
        if (until - since > MAX_RECOVER_WINDOW_MS)
          throw ApiError.validation(
            ['body', 'since'],
            'cannot recover more than 14 days of messages at once',
          );
        const recovered = await ctx.storage.deliveries.recover(endpoint.id, since, until, now);
        // Done in one statement, so the task is recorded finished: `background-task/{id}` reports it.
        const task = await ctx.tasks.record('endpoint.recover', {
          appId: endpoint.appId,
          endpointId: endpoint.id,
          since: iso(since),
          until: iso(until),
          recovered,
        });
        return reply.code(202).send({
          id: task.id,
          status: task.status,
          task: 'endpoint.recover',
          updatedAt: iso(task.updatedAt),
        });
      },
    );

    // A Hookyard addition: recover re-queues failed deliveries only; replay re-queues every finished
    // one (success too), for a receiver that lost data it had acknowledged.
    app.post(
      '/app/:app_id/endpoint/:endpoint_id/replay',
      {
        schema: { params: EndpointParams, body: ReplayIn },
        config: {
          access: 'app-write',
          capability: ['CreateAttempts'],
          operationId: 'v1.endpoint.replay',
          description:
            'Hookyard addition. Re-queues every delivery to this endpoint created in [since, until) whose status is final (success or fail). Unfinished deliveries (queued, leased, parked or held) are left alone, so repeating the call before they went out sends nothing twice.',
          responses: { 202: ReplayOut },
        },
      },
      async (request, reply) => {
        const { endpoint } = await target(request, request.params);
        const now = ctx.clock();
        const since = parseTime(request.body.since) ?? now;
        const until = parseTime(request.body.until) ?? now;
        if (since > until) throw ApiError.validation(['body', 'since'], 'since must not be after until');
        const replayed = await ctx.storage.replay.replayEndpoint(endpoint.id, since, until, now);
        return reply.code(202).send({
          id: newId('task', now),
          status: 'finished',
          task: 'endpoint.replay',
          replayed,
          updatedAt: iso(now),
        });
      },
    );

    app.post(
      '/app/:app_id/endpoint/:endpoint_id/send-example',
      {
        schema: { params: EndpointParams, body: EventExampleIn },
        config: {
          access: 'app-write',
          capability: ['CreateAttempts'],
          operationId: 'v1.endpoint.send-example',
          responses: { 200: MessageOut },
        },
      },
      async (request, reply) => {
        const { app: application, endpoint } = await target(request, request.params);
        let payload: object | undefined = PING_PAYLOAD;
        if (request.body.eventType !== 'svix.ping') {
          const eventType = await ctx.storage.eventTypes.get(request.body.eventType);
          if (!eventType) throw ApiError.notFound('Event type');
          payload = examplePayload(eventType.schemas, request.body.exampleIndex ?? 0);
          if (!payload)
            throw new ApiError(
              'invalid_scheme',
              `Event type ${eventType.name} has no example at index ${request.body.exampleIndex ?? 0}: add one to its schema's examples.`,
            );
        }
        const message = await ingestMessage(ctx, application, {
          eventType: request.body.eventType,
          payload: JSON.stringify(payload),
          channels: null,
          uid: null,
          retentionMs: undefined,
          endpointIds: [endpoint.id],
          traceparent: request.headers.traceparent,
        });
        return reply.code(200).type('application/json; charset=utf-8').send(messageOutJson(message, true));
      },
    );
  };
}
