import { parse as parseYaml } from 'yaml';
import { ApiError } from '../../errors/api-error.ts';

/**
 * Event types from an OpenAPI document's webhooks (Svix's `eventType.importOpenapi`): each entry of
 * `webhooks` (3.1) or `x-webhooks` (3.0) becomes an event type of that name, its description taken
 * from the operation, its JSON request-body schema as schema version "1" with `$ref`s to the
 * document's components inlined, and the body's example (if any) as that schema's first example, so
 * `send-example` can send it.
 */
export interface ImportedEventType {
  name: string;
  description: string;
  schemas: Record<string, unknown> | null;
  deprecated: boolean;
}

type Json = Record<string, unknown>;

const NAME = /^[a-zA-Z0-9\-_.]{1,256}$/;
const METHODS = ['post', 'put', 'patch', 'get', 'delete'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The document from `spec` (parsed JSON) or `specRaw` (YAML or JSON text): exactly one of them. */
export function openApiDocument(spec: Json | null | undefined, specRaw: string | null | undefined): Json {
  if ((spec == null) === (specRaw == null))
    throw new ApiError(
      'bad_request',
      'Send the OpenAPI document as either spec (JSON) or specRaw (text), not both.',
    );
  if (spec != null) return spec;
  let parsed: unknown;
  try {
    parsed = parseYaml(specRaw ?? '');
  } catch (error) {
    throw ApiError.validation(['body', 'specRaw'], `not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw ApiError.validation(['body', 'specRaw'], 'the document is not an object');
  return parsed;
}

/** Follows `#/...` pointers into the document; a reference cycle becomes `{}` at its second visit. */
function inline(value: unknown, document: Json, seen: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => inline(item, document, seen));
  if (!isObject(value)) return value;
  const ref = value['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    if (seen.includes(ref)) return {};
    let target: unknown = document;
    for (const part of ref.slice(2).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      target = isObject(target) ? target[key] : undefined;
    }
    if (target === undefined) throw ApiError.validation(['body', 'spec'], `unresolved reference ${ref}`);
    return inline(target, document, [...seen, ref]);
  }
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) out[key] = inline(item, document, seen);
  return out;
}

export function eventTypesFromOpenApi(document: Json): ImportedEventType[] {
  const webhooks = document['webhooks'] ?? document['x-webhooks'];
  if (!isObject(webhooks))
    throw ApiError.validation(['body', 'spec'], 'the document has no webhooks (or x-webhooks) section');
  const out: ImportedEventType[] = [];
  for (const [name, pathItem] of Object.entries(webhooks)) {
    if (!NAME.test(name))
      throw ApiError.validation(
        ['body', 'spec', 'webhooks', name],
        'a webhook name must be a valid event type name',
      );
    const item = inline(pathItem, document);
    const operation = isObject(item) ? METHODS.map((method) => item[method]).find(isObject) : undefined;
    if (!operation) continue;
    const body = inline(operation['requestBody'], document);
    const content = isObject(body) && isObject(body['content']) ? body['content'] : {};
    const media = content['application/json'] ?? Object.values(content)[0];
    let schema = isObject(media) && isObject(media['schema']) ? { ...media['schema'] } : undefined;
    const example = isObject(media) ? (media['example'] ?? schema?.['example']) : undefined;
    if (schema && example !== undefined && !Array.isArray(schema['examples']))
      schema = { ...schema, examples: [example] };
    const description = operation['description'] ?? operation['summary'] ?? '';
    out.push({
      name,
      description: typeof description === 'string' ? description : '',
      schemas: schema ? { '1': schema } : null,
      deprecated: operation['deprecated'] === true,
    });
  }
  return out;
}
