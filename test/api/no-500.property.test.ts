import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ADMIN_TOKEN, harness } from './harness.ts';

/**
 * Whatever arrives — any method on any route, odd ids, query strings, bodies (deeply nested, invalid
 * UTF-8) and headers, with or without credentials — the answer is never a 5xx, every error body carries
 * a code, and another application's portal token never gets a 2xx on this application's resources.
 */
const TEMPLATES = [
  '/app',
  '/app/{app}',
  '/app/{app}/endpoint',
  '/app/{app}/endpoint/{ep}',
  '/app/{app}/endpoint/{ep}/headers',
  '/app/{app}/endpoint/{ep}/secret',
  '/app/{app}/endpoint/{ep}/secret/rotate',
  '/app/{app}/endpoint/{ep}/stats',
  '/app/{app}/endpoint/{ep}/recover',
  '/app/{app}/endpoint/{ep}/send-example',
  '/app/{app}/endpoint/{ep}/msg',
  '/app/{app}/msg',
  '/app/{app}/msg/{msg}',
  '/app/{app}/msg/{msg}/content',
  '/app/{app}/msg/{msg}/endpoint',
  '/app/{app}/msg/{msg}/endpoint/{ep}/resend',
  '/app/{app}/msg/{msg}/attempt/{attempt}',
  '/app/{app}/msg/{msg}/attempt/{attempt}/content',
  '/app/{app}/attempt/endpoint/{ep}',
  '/app/{app}/attempt/msg/{msg}',
  '/event-type',
  '/event-type/{name}',
  '/auth/app-portal-access/{app}',
  '/auth/logout',
  '/auth/dashboard-access/{app}',
  '/auth/app/{app}/expire-all',
  '/app/{app}/endpoint/{ep}/bulk-replay',
  '/app/{app}/endpoint/{ep}/replay-missing',
  '/app/{app}/msg/precheck/active',
  '/app/{app}/msg/bulk-expunge',
  '/app/{app}/msg/expunge-all-contents',
  '/app/{app}/msg/{msg}/attempt',
  '/app/{app}/msg/{msg}/endpoint/{ep}/attempt',
  '/background-task',
  '/background-task/{junk}',
  '/event-type/import/openapi',
  '/environment/export',
  '/environment/import',
  '/operational-webhook/endpoint',
  '/operational-webhook/endpoint/{ep}',
  '/operational-webhook/endpoint/{ep}/secret',
  '/operational-webhook/endpoint/{ep}/secret/rotate',
  '/operational-webhook/endpoint/{ep}/headers',
  '/health',
  '/health/ping',
  '/openapi.json',
  '/{junk}',
];
const QUERY_KEYS = [
  'limit',
  'iterator',
  'order',
  'status',
  'status_code_class',
  'event_types',
  'channel',
  'before',
  'after',
  'with_content',
  'with_msg',
  'include_archived',
  'endpoint_id',
  'get_if_exists',
  'expunge',
  'since',
  'until',
  'tag',
  'expanded_statuses',
  'task',
  'include_secrets',
];
/** Body fields with a plausible value each, so generated bodies often get past validation. */
const FIELDS: Record<string, unknown> = {
  name: 'x',
  uid: 'u-1',
  url: 'https://example.com/x',
  eventType: 'a.b',
  eventTypes: ['a.b'],
  filterTypes: ['a.b'],
  channels: ['eu'],
  payload: { x: 1 },
  eventId: 'e-1',
  metadata: { k: 'v' },
  headers: { 'X-A': '1' },
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  key: null,
  gracePeriodSeconds: 0,
  since: '2024-01-01T00:00:00Z',
  until: '2030-01-01T00:00:00Z',
  description: 'd',
  schemas: { '1': { examples: [{ a: 1 }] } },
  application: { name: 'x' },
  throttleRate: 5,
  payloadRetentionPeriod: 5,
  expiry: 60,
  deleteHeaders: ['X-A'],
  tags: ['t/1'],
  deliverAt: '2030-01-01T00:00:00Z',
  ids: ['evt'],
  sessionIds: ['s1'],
  spec: { webhooks: { 'a.b': { post: { summary: 's' } } } },
  specRaw: 'webhooks: {}',
  dryRun: true,
  settings: { hookyard: { applications: [{ name: 'y', uid: 'imported' }] } },
  status: 1,
};

/**
 * The codes of Fastify's content-type and body parsers, which run before its not-found handler: on a
 * generated path that names no route they may answer a foreign token (they disclose nothing). That
 * includes the body limit: the `deep` body reaches 100 KB at its 20,000 levels, past this server's
 * limit, and is refused as too large before the not-found handler runs (clean-clone CI found it on
 * `POST /app/{app}/msg//attempt/{app}`). On a real route the token is refused first, in onRequest
 * (test/api/hostile-input.test.ts, "access before validation", has a body past the limit).
 */
const BODY_PARSER_CODES = new Set([
  'invalid_json',
  'json_too_deep',
  'unsupported_media_type',
  'payload_too_large',
]);
const ANSWERED_BY_VALIDATION = new Set([
  'ok',
  'validation',
  'invalid_json',
  'json_too_deep',
  'unsupported_media_type',
  'payload_too_large',
  'idempotency_conflict',
]);

test('no request produces a 5xx', async (t) => {
  const h = await harness({ maxPayloadBytes: '4096' });
  t.after(() => h.close());
  const app = JSON.parse(
    (await h.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'shop', uid: 'shop' } })).body,
  ) as { id: string };
  const ep = JSON.parse(
    (
      await h.call({
        method: 'POST',
        url: '/api/v1/app/shop/endpoint',
        payload: { url: 'https://example.com/hook', uid: 'main' },
      })
    ).body,
  ) as { id: string };
  const msg = JSON.parse(
    (
      await h.call({
        method: 'POST',
        url: '/api/v1/app/shop/msg',
        payload: { eventType: 'a.b', payload: { x: 1 }, eventId: 'evt' },
      })
    ).body,
  ) as { id: string };
  await h.call({ method: 'POST', url: '/api/v1/event-type', payload: { name: 'a.b', description: 'x' } });
  const portal = JSON.parse(
    (await h.call({ method: 'POST', url: '/api/v1/auth/app-portal-access/shop', payload: {} })).body,
  ) as { token: string };
  await h.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'other', uid: 'other' } });
  const foreign = JSON.parse(
    (await h.call({ method: 'POST', url: '/api/v1/auth/app-portal-access/other', payload: {} })).body,
  ) as { token: string };
  const shopPath = new RegExp(`^/app/(shop|${app.id})(/|$)`);

  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom('', '-', '--x', '0', '-1', '1e309', 'null', 'true', '%', '..', '\u0000', 'a'.repeat(300)),
  );
  const segment = fc.oneof(
    {
      arbitrary: fc.constantFrom(
        app.id,
        'shop',
        ep.id,
        'main',
        msg.id,
        'evt',
        'a.b',
        'atmpt_x',
        'x'.repeat(257),
      ),
      weight: 8,
    },
    { arbitrary: text.map(encodeURIComponent), weight: 2 },
    fc.constantFrom('%zz', '%E0%A4%A', '%00'),
  );

  const value: fc.Arbitrary<unknown> = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    text,
    fc.integer({ min: -1e12, max: 1e12 }),
    fc.constantFrom('https://example.com/x', 'http://127.0.0.1/x', '2024-01-01T00:00:00Z', ['a', 'a']),
  );
  /** Nesting around and past the 128-level limit, as objects or arrays, inside a plausible envelope. */
  const deep = fc
    .tuple(
      fc.integer({ min: 100, max: 20_000 }),
      fc.boolean(),
      fc.constantFrom('payload', 'schemas', 'metadata'),
    )
    .map(([levels, arrays, field]) => {
      const inner = arrays
        ? `${'['.repeat(levels)}${']'.repeat(levels)}`
        : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
      return `{"eventType":"a.b","name":"x","url":"https://example.com/x","${field}":${inner}}`;
    });
  /** A plausible JSON body with bytes that are not UTF-8 spliced into one of its strings. */
  const badUtf8 = fc
    .tuple(
      fc.constantFrom(
        '{"name":"',
        '{"eventType":"a.b","payload":{"s":"',
        '{"url":"https://example.com/x","description":"',
      ),
      fc.constantFrom(
        [0xff],
        [0xfe],
        [0xc3, 0x28],
        [0xed, 0xa0, 0x80],
        [0xc0, 0xae],
        [0xe2, 0x82],
        [0xf4, 0x90, 0x80, 0x80],
      ),
    )
    .map(([prefix, bytes]) =>
      Buffer.concat([
        Buffer.from(prefix),
        Buffer.from(bytes),
        Buffer.from(prefix.includes('payload') ? '"}}' : '"}'),
      ]),
    );
  const body = fc.oneof(
    fc.constant(undefined),
    deep,
    badUtf8,
    fc.jsonValue({ maxDepth: 4 }).map((json) => JSON.stringify(json)),
    {
      arbitrary: fc
        .record(
          Object.fromEntries(
            Object.entries(FIELDS).map(([field, good]) => [
              field,
              fc.oneof({ arbitrary: fc.constant(good), weight: 4 }, value),
            ]),
          ),
          { requiredKeys: [] },
        )
        .map((json) => JSON.stringify(json)),
      weight: 6,
    },
    text,
    fc.constantFrom(
      '{',
      '{"payload":',
      '[]',
      'null',
      '{"__proto__":{"x":1}}',
      JSON.stringify({ x: 'y'.repeat(9000) }),
    ),
  );
  const request = fc.record({
    method: fc.oneof(
      { arbitrary: fc.constantFrom('GET', 'POST'), weight: 6 },
      fc.constantFrom('PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
    ),
    template: fc.constantFrom(...TEMPLATES),
    segments: fc.array(segment, { minLength: 5, maxLength: 5 }),
    query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), text), text), { maxLength: 4 }),
    body,
    contentType: fc.oneof(
      { arbitrary: fc.constant('application/json'), weight: 8 },
      fc.constantFrom(
        undefined,
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'garbage',
      ),
    ),
    auth: fc.oneof(
      { arbitrary: fc.constant('admin'), weight: 6 },
      fc.constantFrom('portal', 'foreign', 'none', 'garbage', 'appsk_garbage'),
    ),
    idempotencyKey: fc.option(text, { nil: undefined }),
  });

  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      let i = 0;
      const path = r.template.replace(/\{[a-z]+\}/g, () => r.segments[i++ % r.segments.length] ?? 'x');
      const query = r.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      const headers: Record<string, string> = {};
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.idempotencyKey !== undefined)
        headers['idempotency-key'] = r.idempotencyKey.replace(/[^\x20-\x7e]/g, '');
      const token =
        r.auth === 'admin'
          ? ADMIN_TOKEN
          : r.auth === 'portal'
            ? portal.token
            : r.auth === 'foreign'
              ? foreign.token
              : r.auth === 'garbage'
                ? 'x y z'
                : r.auth === 'appsk_garbage'
                  ? 'appsk_e30.AAAA'
                  : null;
      const response = await h.call({
        method: r.method as 'GET',
        url: `/api/v1${path}${query ? `?${query}` : ''}`,
        headers,
        token,
        ...(r.body !== undefined ? { payload: r.body } : {}),
      });
      assert.ok(
        response.statusCode < 500,
        `${r.method} ${path}?${query} → ${response.statusCode} ${response.body}`,
      );
      // Generated paths may name no route (an empty segment, a method the path lacks): Fastify parses the
      // body before its not-found handler, so the body parser's codes are allowed there; they disclose
      // nothing. test/api/hostile-input.test.ts checks access before parsing on real routes.
      if (r.auth === 'foreign' && shopPath.test(path)) {
        // Refused, and refused for access before anything looked at the request's body or query.
        const code =
          response.statusCode >= 400 ? (JSON.parse(response.body || '{}') as { code?: string }).code : 'ok';
        assert.ok(
          response.statusCode >= 400 &&
            (!ANSWERED_BY_VALIDATION.has(code ?? '') || BODY_PARSER_CODES.has(code ?? '')),
          `another application's token: ${r.method} ${path} → ${response.statusCode} ${response.body}`,
        );
      }
      if (response.statusCode >= 400 && r.method !== 'HEAD') {
        const parsed = JSON.parse(response.body) as { code?: unknown };
        assert.equal(typeof parsed.code, 'string', response.body);
      }
    }),
    { numRuns: 1500 },
  );
});

// Found by the property above (seed 41119118): the upsert's schema has no secret or headers, so a
// body carrying them unchecked reached the code that creates the endpoint.
test('an upsert that creates an operational endpoint takes no secret or headers from its body', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  for (const [uid, extra] of [
    ['numeric-secret', { secret: 0 }],
    ['string-secret', { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
    ['odd-headers', { headers: 5 }],
  ] as const) {
    const response = await h.call({
      method: 'PUT',
      url: `/api/v1/operational-webhook/endpoint/${uid}`,
      payload: { url: 'https://example.com/ops', ...extra },
    });
    assert.equal(response.statusCode, 201, response.body);
    const secret = await h.call({ method: 'GET', url: `/api/v1/operational-webhook/endpoint/${uid}/secret` });
    assert.match((JSON.parse(secret.body) as { key: string }).key, /^whsec_/);
    assert.notEqual(
      (JSON.parse(secret.body) as { key: string }).key,
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    );
    const headers = await h.call({
      method: 'GET',
      url: `/api/v1/operational-webhook/endpoint/${uid}/headers`,
    });
    assert.deepEqual(JSON.parse(headers.body), { headers: {}, sensitive: [] });
  }
});
