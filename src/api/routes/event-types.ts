import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors/api-error.ts';
import type { EventTypeRecord } from '../../storage/contract.ts';
import type { ApiContext } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import {
  EventTypeDeleteQuery,
  EventTypeImportOpenApiIn,
  EventTypeImportOpenApiOut,
  EventTypeIn,
  EventTypeListQuery,
  EventTypeOut,
  EventTypeParams,
  EventTypePatch,
  EventTypeUpdate,
  listResponse,
} from '../schemas.ts';
import { eventTypeOut } from '../serialize.ts';
import { assertEventTypeSchemas } from '../use-cases/event-type-schemas.ts';
import { eventTypesFromOpenApi, openApiDocument } from '../use-cases/openapi-import.ts';

const ListEventTypeOut = listResponse('EventTypeOut', EventTypeOut);

export function eventTypeRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/event-type',
      {
        schema: { querystring: EventTypeListQuery },
        config: { access: 'any', operationId: 'v1.event-type.list', responses: { 200: ListEventTypeOut } },
      },
      async (request) => {
        const query = request.query;
        // Event types are listed by name ascending; `descending` walks the store backwards.
        const walk = pageWalk(query, 'name', query.order === 'descending');
        const result = await ctx.storage.eventTypes.list(walk.page, {
          includeArchived: query.include_archived === true,
        });
        const { data, cursor } = finishPage(walk, result, (item) => item.name);
        return { data: data.map((item) => eventTypeOut(item, query.with_content === true)), ...cursor };
      },
    );

    app.post(
      '/event-type',
      {
        schema: { body: EventTypeIn },
        config: { access: 'admin', operationId: 'v1.event-type.create', responses: { 201: EventTypeOut } },
      },
      async (request, reply) => {
        const now = ctx.clock();
        const body = request.body;
        assertEventTypeSchemas(body.schemas);
        const fields = {
          description: body.description,
          archived: body.archived ?? false,
          deprecated: body.deprecated ?? false,
          featureFlag: body.featureFlag ?? null,
          schemas: body.schemas ?? null,
        };
        // Creating an archived event type's name brings it back with the new fields (201), as in Svix.
        const current = await ctx.storage.eventTypes.get(body.name);
        if (current?.archived) {
          return reply.code(201).send(eventTypeOut(await save({ ...current, ...fields, updatedAt: now })));
        }
        const created = await ctx.storage.eventTypes.create({
          name: body.name,
          ...fields,
          createdAt: now,
          updatedAt: now,
        });
        return reply.code(201).send(eventTypeOut(created));
      },
    );

    app.post(
      '/event-type/import/openapi',
      {
        schema: { body: EventTypeImportOpenApiIn },
        config: {
          access: 'admin',
          operationId: 'v1.event-type.import-openapi',
          description:
            'Creates or updates (and unarchives) an event type for each webhook of an OpenAPI document (`webhooks` or `x-webhooks`); `replaceAll` archives the others, `dryRun` only reports what would change.',
          responses: { 200: EventTypeImportOpenApiOut },
        },
      },
      async (request) => {
        const body = request.body;
        const imported = eventTypesFromOpenApi(
          openApiDocument(body.spec as Record<string, unknown> | null | undefined, body.specRaw),
        );
        for (const item of imported) assertEventTypeSchemas(item.schemas);
        if (body.dryRun === true) return { data: { modified: [], to_modify: imported } };
        const now = ctx.clock();
        const modified: string[] = [];
        for (const item of imported) {
          const current = await ctx.storage.eventTypes.get(item.name);
          const fields = {
            description: item.description,
            schemas: item.schemas,
            deprecated: item.deprecated,
            archived: false,
          };
          if (current) await save({ ...current, ...fields, updatedAt: now });
          else
            await ctx.storage.eventTypes.create({
              name: item.name,
              ...fields,
              featureFlag: null,
              createdAt: now,
              updatedAt: now,
            });
          modified.push(item.name);
        }
        if (body.replaceAll === true) {
          const keep = new Set(imported.map((item) => item.name));
          for (const name of await allEventTypeNames()) {
            if (!keep.has(name) && (await ctx.storage.eventTypes.delete(name, false))) modified.push(name);
          }
        }
        return { data: { modified } };
      },
    );

    app.get(
      '/event-type/:event_type_name',
      {
        schema: { params: EventTypeParams },
        config: { access: 'any', operationId: 'v1.event-type.get', responses: { 200: EventTypeOut } },
      },
      async (request) => {
        const found = await ctx.storage.eventTypes.get(request.params.event_type_name);
        if (!found) throw ApiError.notFound('Event type');
        return eventTypeOut(found);
      },
    );

    app.put(
      '/event-type/:event_type_name',
      {
        schema: { params: EventTypeParams, body: EventTypeUpdate },
        config: {
          access: 'admin',
          operationId: 'v1.event-type.update',
          responses: { 200: EventTypeOut, 201: EventTypeOut },
        },
      },
      async (request, reply) => {
        const now = ctx.clock();
        const name = request.params.event_type_name;
        const body = request.body;
        assertEventTypeSchemas(body.schemas);
        const fields = {
          description: body.description,
          archived: body.archived ?? false,
          deprecated: body.deprecated ?? false,
          featureFlag: body.featureFlag ?? null,
          schemas: body.schemas ?? null,
        };
        const current = await ctx.storage.eventTypes.get(name);
        if (!current) {
          const created = await ctx.storage.eventTypes.create({
            name,
            ...fields,
            createdAt: now,
            updatedAt: now,
          });
          return reply.code(201).send(eventTypeOut(created));
        }
        return reply.code(200).send(eventTypeOut(await save({ ...current, ...fields, updatedAt: now })));
      },
    );

    app.patch(
      '/event-type/:event_type_name',
      {
        schema: { params: EventTypeParams, body: EventTypePatch },
        config: { access: 'admin', operationId: 'v1.event-type.patch', responses: { 200: EventTypeOut } },
      },
      async (request) => {
        const current = await ctx.storage.eventTypes.get(request.params.event_type_name);
        if (!current) throw ApiError.notFound('Event type');
        const body = request.body;
        assertEventTypeSchemas(body.schemas);
        return eventTypeOut(
          await save({
            ...current,
            description: body.description ?? current.description,
            archived: body.archived ?? current.archived,
            deprecated: body.deprecated ?? current.deprecated,
            featureFlag: body.featureFlag !== undefined ? body.featureFlag : current.featureFlag,
            schemas: body.schemas !== undefined ? body.schemas : current.schemas,
            updatedAt: ctx.clock(),
          }),
        );
      },
    );

    app.delete(
      '/event-type/:event_type_name',
      {
        schema: { params: EventTypeParams, querystring: EventTypeDeleteQuery },
        config: { access: 'admin', operationId: 'v1.event-type.delete', responses: { 204: null } },
      },
      async (request, reply) => {
        const deleted = await ctx.storage.eventTypes.delete(
          request.params.event_type_name,
          request.query.expunge === true,
        );
        if (!deleted) throw ApiError.notFound('Event type');
        return reply.code(204).send();
      },
    );

    /** Every active event type's name (the catalog is small: names are the keyset). */
    async function allEventTypeNames(): Promise<string[]> {
      const names: string[] = [];
      let iterator: string | undefined;
      for (;;) {
        const page = await ctx.storage.eventTypes.list({ limit: 250, iterator }, { includeArchived: false });
        names.push(...page.data.map((item) => item.name));
        const last = page.data.at(-1);
        if (page.done || !last) return names;
        iterator = last.name;
      }
    }

    async function save(record: EventTypeRecord): Promise<EventTypeRecord> {
      const stored = await ctx.storage.eventTypes.update(record);
      if (!stored) throw ApiError.notFound('Event type');
      return stored;
    }
  };
}
