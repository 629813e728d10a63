import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ValidationItem } from '../errors/api-error.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { StorageFull, StorageUnavailable, UniqueViolation } from '../storage/contract.ts';

/**
 * Turns anything a request can throw into the body clients see. Known failures keep their code; an
 * unexpected error becomes 500 `internal` with nothing of its message or stack in the response (it is
 * logged instead), so internals never leak.
 */
interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const LOCATIONS: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Fastify/Ajv validation errors as Svix `HTTPValidationError` items with `loc` like ["body","url"]. */
export function validationItems(context: string | undefined, errors: readonly AjvError[]): ValidationItem[] {
  const where = LOCATIONS[context ?? 'body'] ?? 'body';
  // A nullable field fails as three errors (the real one, "must be null", "must match anyOf"); keep the real one.
  const meaningful = errors.filter(
    (error) =>
      error.keyword !== 'anyOf' &&
      !(
        error.keyword === 'type' &&
        error.params?.['type'] === 'null' &&
        errors.some(
          (other) =>
            other !== error && other.instancePath === error.instancePath && other.keyword !== 'anyOf',
        )
      ),
  );
  return (meaningful.length > 0 ? meaningful : errors).flatMap((error): ValidationItem[] => {
    const loc: (string | number)[] = [where, ...pointerSegments(error.instancePath ?? '')];
    const keyword = error.keyword ?? 'invalid';
    if (keyword === 'required') {
      // Ajv names one `missingProperty`; TypeBox lists all `requiredProperties`: one item per field.
      const single = error.params?.['missingProperty'];
      const listed = error.params?.['requiredProperties'];
      const missing = Array.isArray(listed) ? listed.map(String) : typeof single === 'string' ? [single] : [];
      if (missing.length === 0) return [{ loc, msg: 'field required', type: 'value_error.missing' }];
      return missing.map((name) => ({
        loc: [...loc, name],
        msg: 'field required',
        type: 'value_error.missing',
      }));
    }
    const type =
      keyword === 'type'
        ? `type_error.${String(error.params?.['type'] ?? 'invalid')}`
        : `value_error.${keyword}`;
    return [{ loc, msg: error.message ?? 'invalid value', type }];
  });
}

const FASTIFY_CODES: Record<string, ApiError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
  FST_ERR_NOT_FOUND: 'not_found',
};

/** The ApiError for a thrown value, or undefined when it is unexpected (a 500). */
export function apiErrorOf(thrown: unknown): ApiError | undefined {
  if (thrown instanceof ApiError) return thrown;
  if (thrown instanceof StorageFull) return new ApiError('storage_full', undefined, { cause: thrown });
  if (thrown instanceof StorageUnavailable)
    return new ApiError('storage_unavailable', undefined, { cause: thrown });
  if (thrown instanceof UniqueViolation) return new ApiError('conflict', undefined, { cause: thrown });
  if (!thrown || typeof thrown !== 'object') return undefined;
  const error = thrown as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(error.validation)) {
    return new ApiError('validation', undefined, {
      items: validationItems(error.validationContext, error.validation),
    });
  }
  const mapped = error.code === undefined ? undefined : FASTIFY_CODES[error.code];
  if (mapped) return new ApiError(mapped, undefined, { cause: thrown });
  const status = error.statusCode;
  if (thrown instanceof SyntaxError && status === 400)
    return new ApiError('invalid_json', undefined, { cause: thrown });
  // Remaining client errors raised by Fastify itself (malformed requests); never a 500.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 404) return new ApiError('not_found');
    if (status === 413) return new ApiError('payload_too_large');
    if (status === 415) return new ApiError('unsupported_media_type');
    return new ApiError('bad_request', undefined, { cause: thrown });
  }
  if (status === 503) return new ApiError('shutting_down', undefined, { cause: thrown });
  return undefined;
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(error.toBody()));
}

export function createErrorHandler(logger: Logger) {
  return (thrown: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const known = apiErrorOf(thrown);
    if (known) {
      if (known.status >= 500)
        logger.warn({ err: toError(thrown), reqId: request.id, code: known.code }, known.message);
      return sendError(reply, known);
    }
    logger.error(
      { err: toError(thrown), reqId: request.id, method: request.method, url: request.url },
      'unhandled error',
    );
    return sendError(reply, new ApiError('internal'));
  };
}
