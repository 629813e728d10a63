/**
 * The registry of API error codes. A code is never reused or renamed: clients branch on it.
 * `docs/errors.md` is this table. Bodies follow Svix: `{"code": ..., "detail": ...}`; request
 * validation failures add the Svix `HTTPValidationError` list as `detail`.
 */
export const errorCodes = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_range: {
    status: 400,
    message:
      'The time range is not allowed: check since and until (until not in the future, at most 28 days).',
  },
  limit_reached: {
    status: 400,
    message:
      'A limit was reached (for a secret rotation: too many old keys still valid); wait or remove some.',
  },
  invalid_scheme: {
    status: 400,
    message:
      "The event type's schema has no example to send: add one to its schemas (version 1, `examples`).",
  },
  missing_payload: {
    status: 400,
    message: 'The message payload is gone (expunged or past its retention), so it cannot be sent again.',
  },
  authentication_failed: { status: 401, message: 'Missing or invalid bearer token.' },
  forbidden: { status: 403, message: 'This token may not access that resource.' },
  reserved_application: {
    status: 403,
    message:
      "That application is Hookyard's own (operational webhooks): it can be read but not changed through the API.",
  },
  csrf_failed: {
    status: 403,
    message:
      'A dashboard session request that changes data needs the x-csrf-token header of its page; reload the dashboard and retry.',
  },
  portal_link_used: {
    status: 401,
    message:
      'This App Portal link has been opened already or has expired; ask the service that gave it to you for a new one.',
  },
  not_found: { status: 404, message: 'No such resource.' },
  method_not_allowed: { status: 405, message: 'That method is not allowed on this path.' },
  conflict: { status: 409, message: 'A resource with that uid or name already exists.' },
  idempotency_conflict: {
    status: 409,
    message:
      'A request with this idempotency-key is still being processed, or the key was used for another request.',
  },
  payload_too_large: { status: 413, message: 'The request body is larger than this server accepts.' },
  unsupported_media_type: { status: 415, message: 'Send the request body as application/json.' },
  validation: { status: 422, message: 'The request failed validation.' },
  json_too_deep: {
    status: 422,
    message:
      'The JSON body nests objects and arrays deeper than 128 levels; `detail[0].loc` is the path to the first value past the limit.',
  },
  url_not_allowed: {
    status: 422,
    message: 'The endpoint URL points at an address Hookyard will not deliver to.',
  },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  internal: { status: 500, message: 'Hookyard hit an unexpected error; the request was not applied.' },
  storage_unavailable: {
    status: 503,
    message: 'The database is unavailable; the request was not stored. Retry later.',
  },
  storage_full: {
    status: 507,
    message:
      "The data directory's disk is full; the request was not stored. Retry later: Hookyard takes writes again by itself once space is freed.",
  },
  shutting_down: { status: 503, message: 'This server is shutting down; retry against another instance.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;
