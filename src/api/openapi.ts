import type { FastifyInstance, RouteOptions } from 'fastify';
import type { TSchema } from 'typebox';
import { HTTPValidationError, HttpErrorOut, schemaName } from './schemas.ts';

/**
 * The OpenAPI 3.1 document of what this server serves, built from the routes as registered: the same
 * TypeBox schemas that validate requests, with named ones (ApplicationIn, ...) moved to
 * `components.schemas` as Svix's document names them.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    operationId?: string;
    description?: string;
    /** Success responses: a schema, or null for no content. */
    responses?: Record<number, TSchema | null>;
  }
}

interface CollectedRoute {
  method: string;
  url: string;
  options: RouteOptions;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ERROR_RESPONSES: Record<string, [string, TSchema]> = {
  '400': ['Bad Request', HttpErrorOut],
  '401': ['Unauthorized', HttpErrorOut],
  '403': ['Forbidden', HttpErrorOut],
  '404': ['Not Found', HttpErrorOut],
  '409': ['Conflict', HttpErrorOut],
  '413': ['Payload Too Large', HttpErrorOut],
  '422': ['Validation Error', HTTPValidationError],
  '503': ['Service Unavailable', HttpErrorOut],
};

export function collectRoutes(app: FastifyInstance): () => Record<string, unknown> {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (options) => {
    for (const method of Array.isArray(options.method) ? options.method : [options.method]) {
      routes.push({ method: method.toLowerCase(), url: options.url, options });
    }
  });
  let document: Record<string, unknown> | undefined;
  return () => {
    document ??= buildDocument(routes);
    return document;
  };
}

function buildDocument(routes: readonly CollectedRoute[]): Record<string, unknown> {
  const components: Record<string, Json> = {};
  const convert = (schema: unknown, root = false): Json => {
    if (Array.isArray(schema)) return schema.map((item) => convert(item));
    if (!schema || typeof schema !== 'object') return schema as Json;
    const name = schemaName(schema);
    if (name && !root) {
      if (!(name in components)) {
        components[name] = null;
        components[name] = convert(schema, true);
      }
      return { $ref: `#/components/schemas/${name}` };
    }
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(schema)) {
      // TypeBox writes string-keyed maps as patternProperties; OpenAPI readers expect additionalProperties.
      if (key === 'patternProperties' && value && typeof value === 'object' && '^.*$' in value) {
        out['additionalProperties'] = convert((value as Record<string, unknown>)['^.*$']);
      } else {
        out[key] = convert(value);
      }
    }
    return out;
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const config = (route.options.config ?? {}) as {
      access?: string;
      operationId?: string;
      description?: string;
      responses?: Record<number, TSchema | null>;
    };
    if (!config.operationId) continue;
    if (route.method === 'head' && !route.url.includes('/health')) continue;
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const schema = (route.options.schema ?? {}) as {
      params?: TSchema;
      querystring?: TSchema;
      body?: TSchema;
    };
    const parameters: Json[] = [];
    for (const [where, source] of [
      ['path', schema.params],
      ['query', schema.querystring],
    ] as const) {
      const properties = (source as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
      const required = new Set((source as { required?: string[] } | undefined)?.required ?? []);
      for (const [name, property] of Object.entries(properties)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || required.has(name),
          schema: convert(property),
        });
      }
    }
    if (route.method === 'post') {
      parameters.push({
        name: 'idempotency-key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 256 },
      });
    }
    const responses: Record<string, Json> = {};
    for (const [status, body] of Object.entries(config.responses ?? {})) {
      responses[status] = body
        ? { description: 'OK', content: { 'application/json': { schema: convert(body) } } }
        : { description: 'No content' };
    }
    if (config.access !== 'public') {
      for (const [status, [description, body]] of Object.entries(ERROR_RESPONSES)) {
        responses[status] ??= { description, content: { 'application/json': { schema: convert(body) } } };
      }
    }
    const operation: Record<string, Json> = {
      operationId: route.method === 'head' ? `${config.operationId}.head` : config.operationId,
      tags: [tagOf(config.operationId)],
      ...(config.description ? { description: config.description } : {}),
      parameters,
      responses,
      ...(config.access === 'public' ? { security: [] } : {}),
    };
    if (schema.body) {
      operation['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: convert(schema.body) } },
      };
    }
    paths[path] ??= {};
    (paths[path] as Record<string, Json>)[route.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Hookyard',
      version: '1.1.1',
      description: 'The Svix API as served by Hookyard (self-hosted webhook delivery).',
    },
    components: {
      schemas: components,
      securitySchemes: { HTTPBearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ HTTPBearer: [] }],
    paths,
  };
}

/** `v1.message-attempt.list` → `Message Attempt`, as Svix tags its operations. */
function tagOf(operationId: string): string {
  const resource = operationId.split('.')[1] ?? 'hookyard';
  return resource
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
