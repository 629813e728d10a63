import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { mergeHeaders } from '../../domain/endpoint-headers.ts';
import { newId } from '../../domain/ids.ts';
import { ApiError } from '../../errors/api-error.ts';
import { OPERATIONAL_APP_UID, OPERATIONAL_ENDPOINT_UID } from '../../operational/internal-app.ts';
import { ensureOperationalApp } from '../../operational/operational-app.ts';
import type { EndpointRecord } from '../../storage/contract.ts';
import { type ApiContext, assertEndpointUrl, assertUid } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  EndpointHeadersIn,
  EndpointHeadersOut,
  EndpointSecretOut,
  EndpointSecretRotateIn,
  listResponse,
  OperationalEndpointParams,
  OperationalWebhookEndpointIn,
  OperationalWebhookEndpointOut,
  OperationalWebhookEndpointUpsertIn,
  OrderedListQuery,
} from '../schemas.ts';
import { iso } from '../serialize.ts';
import {
  checkedHeaders,
  headersOut,
  rotatedSecrets,
  secretFrom,
  secretOut,
} from '../use-cases/endpoint-rules.ts';

/**
 * Svix's operational-webhook endpoints (`/operational-webhook/endpoint...`): the endpoints of Hookyard's
 * internal operational application, which receive Hookyard's operational events (endpoint.created,
 * message.attempt.exhausted, ...) filtered by `eventTypes`. The one seeded from
 * HOOKYARD_OPERATIONAL_WEBHOOK_URL (uid `hookyard.operational`) is listed and readable, but the
 * setting owns it: writes to it are 403 `reserved_application`.
 */
const ListOperationalEndpointOut = listResponse(
  'OperationalWebhookEndpointOut',
  OperationalWebhookEndpointOut,
);

function operationalOut(endpoint: EndpointRecord) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    throttleRate: endpoint.throttleRate,
    uid: endpoint.uid,
    disabled: endpoint.disabled,
    eventTypes: endpoint.eventTypes,
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
    metadata: endpoint.metadata,
  };
}

type UpsertBody = Static<typeof OperationalWebhookEndpointUpsertIn>;

export function operationalWebhookRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  async function appId(create: boolean): Promise<string | undefined> {
    if (create) return (await ensureOperationalApp(ctx.storage, ctx.clock())).id;
    return (await ctx.storage.applications.get(OPERATIONAL_APP_UID))?.id;
  }

  async function load(idOrUid: string): Promise<EndpointRecord> {
    const id = await appId(false);
    const endpoint = id === undefined ? undefined : await ctx.storage.endpoints.get(id, idOrUid);
    if (!endpoint) throw ApiError.notFound('Operational webhook endpoint');
    return endpoint;
  }

  async function loadWritable(idOrUid: string): Promise<EndpointRecord> {
    const endpoint = await load(idOrUid);
    if (endpoint.uid === OPERATIONAL_ENDPOINT_UID)
      throw new ApiError(
        'reserved_application',
        'This operational endpoint is the one HOOKYARD_OPERATIONAL_WEBHOOK_URL sets up: change the setting instead.',
      );
    return endpoint;
  }

  function fields(body: UpsertBody) {
    assertUid('endpoint', body.uid, ['body', 'uid']);
    if (body.uid === OPERATIONAL_ENDPOINT_UID)
      throw ApiError.validation(['body', 'uid'], `the uid ${OPERATIONAL_ENDPOINT_UID} is reserved`);
    return {
      url: assertEndpointUrl(ctx, body.url, ['body', 'url']),
      uid: body.uid ?? null,
      description: body.description ?? '',
      disabled: body.disabled ?? false,
      eventTypes: body.eventTypes ?? null,
      throttleRate: (body.throttleRate !== undefined ? body.throttleRate : body.rateLimit) ?? null,
      metadata: body.metadata ?? {},
    };
  }

  /**
   * A new endpoint from the fields both create and upsert take; only create's body has a secret and
   * headers (Svix's upsert body, OperationalWebhookEndpointUpdate, has neither), so they come apart.
   */
  async function create(
    body: UpsertBody,
    extra: Pick<Static<typeof OperationalWebhookEndpointIn>, 'secret' | 'headers'> & { fallbackUid?: string },
  ) {
    const now = ctx.clock();
    const { fallbackUid } = extra;
    const headers = extra.headers ?? {};
    checkedHeaders(headers, ['body', 'headers']);
    const record: EndpointRecord = {
      id: newId('endpoint', now),
      appId: (await appId(true)) as string,
      ...fields(body),
      ...(body.uid == null && fallbackUid !== undefined ? { uid: fallbackUid } : {}),
      channels: null,
      headers,
      secrets: [{ key: secretFrom(extra.secret, ['body', 'secret'], 'hmac256'), expiresAt: null }],
      createdAt: now,
      updatedAt: now,
    };
    return ctx.storage.endpoints.create(record);
  }

  async function save(record: EndpointRecord): Promise<EndpointRecord> {
    const stored = await ctx.storage.endpoints.update(record);
    if (!stored) throw ApiError.notFound('Operational webhook endpoint');
    return stored;
  }

  return async (app) => {
    app.get(
      '/operational-webhook/endpoint',
      {
        schema: { querystring: OrderedListQuery },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.list',
          responses: { 200: ListOperationalEndpointOut },
        },
      },
      async (request) => {
        const walk = pageWalk(request.query, 'endpoint', request.query.order === 'ascending');
        const id = await appId(false);
        const result =
          id === undefined ? { data: [], done: true } : await ctx.storage.endpoints.list(id, walk.page);
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        return { data: data.map(operationalOut), ...cursor };
      },
    );

    app.post(
      '/operational-webhook/endpoint',
      {
        schema: { body: OperationalWebhookEndpointIn },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.create',
          responses: { 201: OperationalWebhookEndpointOut },
        },
      },
      async (request, reply) => {
        const { secret, headers } = request.body;
        return reply.code(201).send(operationalOut(await create(request.body, { secret, headers })));
      },
    );

    app.get(
      '/operational-webhook/endpoint/:endpoint_id',
      {
        schema: { params: OperationalEndpointParams },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.get',
          responses: { 200: OperationalWebhookEndpointOut },
        },
      },
      async (request) => operationalOut(await load(request.params.endpoint_id)),
    );

    app.put(
      '/operational-webhook/endpoint/:endpoint_id',
      {
        schema: { params: OperationalEndpointParams, body: OperationalWebhookEndpointUpsertIn },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.upsert',
          responses: { 200: OperationalWebhookEndpointOut, 201: OperationalWebhookEndpointOut },
        },
      },
      async (request, reply) => {
        const id = await appId(false);
        const current =
          id === undefined ? undefined : await ctx.storage.endpoints.get(id, request.params.endpoint_id);
        if (!current) {
          assertUid('endpoint', request.params.endpoint_id, ['path', 'endpoint_id']);
          const made = await create(request.body, { fallbackUid: request.params.endpoint_id });
          return reply.code(201).send(operationalOut(made));
        }
        const writable = await loadWritable(current.id);
        const next = { ...writable, ...fields(request.body), updatedAt: ctx.clock() };
        return reply.code(200).send(operationalOut(await save(next)));
      },
    );

    app.delete(
      '/operational-webhook/endpoint/:endpoint_id',
      {
        schema: { params: OperationalEndpointParams },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.delete',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const endpoint = await loadWritable(request.params.endpoint_id);
        if (!(await ctx.storage.endpoints.delete(endpoint.appId, endpoint.id)))
          throw ApiError.notFound('Operational webhook endpoint');
        return reply.code(204).send();
      },
    );

    app.get(
      '/operational-webhook/endpoint/:endpoint_id/secret',
      {
        schema: { params: OperationalEndpointParams },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.get-secret',
          responses: { 200: EndpointSecretOut },
        },
      },
      async (request) => secretOut(await load(request.params.endpoint_id)),
    );

    app.post(
      '/operational-webhook/endpoint/:endpoint_id/secret/rotate',
      {
        schema: { params: OperationalEndpointParams, body: EndpointSecretRotateIn },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.rotate-secret',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const endpoint = await loadWritable(request.params.endpoint_id);
        const now = ctx.clock();
        const secrets = rotatedSecrets(endpoint, request.body.key, request.body.gracePeriodSeconds, now);
        await save({ ...endpoint, secrets, updatedAt: now });
        return reply.code(204).send();
      },
    );

    app.get(
      '/operational-webhook/endpoint/:endpoint_id/headers',
      {
        schema: { params: OperationalEndpointParams },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.get-headers',
          responses: { 200: EndpointHeadersOut },
        },
      },
      async (request) => headersOut(await load(request.params.endpoint_id)),
    );

    app.put(
      '/operational-webhook/endpoint/:endpoint_id/headers',
      {
        schema: { params: OperationalEndpointParams, body: EndpointHeadersIn },
        config: {
          access: 'admin',
          operationId: 'v1.operational-webhook.endpoint.set-headers',
          responses: { 204: null },
        },
      },
      async (request, reply) => {
        const endpoint = await loadWritable(request.params.endpoint_id);
        checkedHeaders(request.body.headers, ['body', 'headers']);
        await save({ ...endpoint, headers: mergeHeaders({}, request.body.headers), updatedAt: ctx.clock() });
        return reply.code(204).send();
      },
    );
  };
}
