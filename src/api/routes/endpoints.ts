import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import {
  headerLimits,
  headerProblem,
  isSensitiveHeader,
  mergeHeaders,
} from '../../domain/endpoint-headers.ts';
import { newId } from '../../domain/ids.ts';
import { ApiError } from '../../errors/api-error.ts';
import { generateSecret, normaliseSecret, publicKeyOf } from '../../signing/keys.ts';
import type { ApplicationRecord, EndpointRecord, EndpointSecret } from '../../storage/contract.ts';
import { type ApiContext, assertEndpointUrl, loadApp, loadEndpoint, parseTime } from '../context.ts';
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
import { ingestMessage } from './messages.ts';

const ListEndpointOut = listResponse('EndpointOut', EndpointOut);
const DEFAULT_GRACE_SECONDS = 86_400;
/** Rotated-out keys still inside their grace period, besides the current one. */
const MAX_PREVIOUS_SECRETS = 4;

function secretFrom(given: string | null | undefined, loc: string[]): string {
  if (given === undefined || given === null) return generateSecret();
  const result = normaliseSecret(given);
  if (!result.ok) throw ApiError.validation(loc, result.reason);
  return result.secret;
}

function checkedHeaders(headers: Readonly<Record<string, string | null>>, loc: string[]): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) continue;
    const problem = headerProblem(name, value);
    if (problem) throw ApiError.validation([...loc, name], `header ${name} ${problem}`);
  }
}

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

/** Svix's default example when the event type carries none. */
function examplePayload(eventType: string, schemas: Record<string, unknown> | null, index: number): object {
  for (const schema of Object.values(schemas ?? {})) {
    if (!schema || typeof schema !== 'object') continue;
    const { examples, example } = schema as { examples?: unknown; example?: unknown };
    const candidate = Array.isArray(examples) ? examples[index] : index === 0 ? example : undefined;
    if (candidate && typeof candidate === 'object' && !Array.isArray(candidate)) return candidate;
  }
  if (eventType === 'svix.ping') return { type: 'svix.ping', data: { success: true } };
  return { type: eventType, data: {} };
}

export function endpointRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  function newEndpoint(
    app: ApplicationRecord,
    body: Static<typeof EndpointIn>,
    now: number,
    fallbackUid?: string,
  ) {
    const url = assertEndpointUrl(ctx, body.url, ['body', 'url']);
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
      secrets: [{ key: secretFrom(body.secret, ['body', 'secret']), expiresAt: null }],
      createdAt: now,
      updatedAt: now,
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
        const walk = pageWalk(request.query, request.query.order === 'ascending');
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
        const created = await create(application, newEndpoint(application, request.body, ctx.clock()));
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
        if (!current) {
          const record = newEndpoint(application, body, now, request.params.endpoint_id);
          return reply.code(201).send(endpointOut(await create(application, record)));
        }
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
        const rate = rateOf(body);
        const channels = body.channels?.length === 0 ? null : body.channels;
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
          secrets:
            body.secret === undefined
              ? endpoint.secrets
              : [{ key: secretFrom(body.secret, ['body', 'secret']), expiresAt: null }],
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
        const current = endpoint.secrets[0];
        if (!current) throw ApiError.notFound('Endpoint secret');
        // A v1a endpoint's private key never leaves Hookyard: receivers verify with the public key.
        return { key: publicKeyOf(current.key) ?? current.key };
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
        const key = secretFrom(request.body.key, ['body', 'key']);
        const graceMs = (request.body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
        // The outgoing key keeps signing (alongside the new one) until the grace period ends, so a
        // receiver that has not switched yet still verifies every delivery.
        const previous: EndpointSecret[] = [];
        const [current, ...older] = endpoint.secrets;
        if (current && graceMs > 0) previous.push({ key: current.key, expiresAt: now + graceMs });
        for (const secret of older) {
          if (secret.expiresAt !== null && secret.expiresAt > now) previous.push(secret);
        }
        await save(application, {
          ...endpoint,
          secrets: [{ key, expiresAt: null }, ...previous.slice(0, MAX_PREVIOUS_SECRETS)],
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
        const headers: Record<string, string> = {};
        const sensitive: string[] = [];
        for (const [name, value] of Object.entries(endpoint.headers)) {
          if (isSensitiveHeader(name)) sensitive.push(name);
          else headers[name] = value;
        }
        return { headers, sensitive };
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
        return ctx.storage.endpoints.stats(endpoint.id, {
          after: parseTime(request.query.since),
          before: parseTime(request.query.until),
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
        await ctx.storage.deliveries.recover(endpoint.id, since, until, now);
        return reply
          .code(202)
          .send({ id: newId('task', now), status: 'running', task: 'endpoint.recover', updatedAt: iso(now) });
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
            'Hookyard addition. Re-queues every delivery to this endpoint created in [since, until) whose status is final (success or fail). Deliveries still queued or in flight are left alone, so repeating the call before they went out sends nothing twice.',
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
        const eventType = await ctx.storage.eventTypes.get(request.body.eventType);
        const payload = examplePayload(
          request.body.eventType,
          eventType?.schemas ?? null,
          request.body.exampleIndex ?? 0,
        );
        const message = await ingestMessage(ctx, application, {
          eventType: request.body.eventType,
          payload: JSON.stringify(payload),
          channels: null,
          uid: null,
          retentionMs: undefined,
          endpointIds: [endpoint.id],
        });
        return reply.code(200).type('application/json; charset=utf-8').send(messageOutJson(message, true));
      },
    );
  };
}
