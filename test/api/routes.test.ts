import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StorageUnavailable } from '../../src/storage/contract.ts';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { type Harness, harness } from './harness.ts';

const V1 = '/api/v1';

function json(response: { body: string }): Record<string, unknown> & { data?: Record<string, unknown>[] } {
  return JSON.parse(response.body);
}

function harnessFor(backend: TestBackend) {
  return async (
    t: { after(fn: () => Promise<void>): void },
    overrides: Parameters<typeof harness>[0] = {},
  ): Promise<Harness> => {
    const h = await harness(overrides, backend);
    t.after(() => h.close());
    return h;
  };
}

async function createApp(h: Harness, uid: string): Promise<string> {
  const response = await h.call({ method: 'POST', url: `${V1}/app`, payload: { name: uid, uid } });
  assert.equal(response.statusCode, 201, response.body);
  return String(json(response)['id']);
}

async function createEndpoint(h: Harness, app: string, body: Record<string, unknown>): Promise<string> {
  const response = await h.call({ method: 'POST', url: `${V1}/app/${app}/endpoint`, payload: body });
  assert.equal(response.statusCode, 201, response.body);
  return String(json(response)['id']);
}

forEachBackend((backend) => {
  const withHarness = harnessFor(backend);
  describe('authentication', () => {
    test('a missing, malformed or wrong token is 401 authentication_failed', async (t) => {
      const h = await withHarness(t);
      for (const headers of [
        {},
        { authorization: 'test-admin-token-0123456789' },
        { authorization: 'Basic dGVzdA==' },
        { authorization: 'Bearer test-admin-token-012345678X' },
        { authorization: 'Bearer test-admin-token-0123456789-longer' },
        { authorization: 'Bearer appsk_forged.token' },
      ]) {
        const response = await h.call({ url: `${V1}/app`, headers, token: null });
        assert.equal(response.statusCode, 401);
        assert.equal(json(response)['code'], 'authentication_failed');
      }
      assert.equal((await h.call({ url: `${V1}/app` })).statusCode, 200);
    });

    test('health and the OpenAPI document need no token', async (t) => {
      const h = await withHarness(t);
      const health = await h.call({ url: `${V1}/health`, token: null });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().database.status, 'OK');
      assert.equal((await h.call({ method: 'HEAD', url: `${V1}/health`, token: null })).statusCode, 200);
      assert.equal((await h.call({ url: `${V1}/health/ping`, token: null })).statusCode, 204);
      assert.equal((await h.call({ url: `${V1}/openapi.json`, token: null })).statusCode, 200);
    });

    test('health is 503 storage_unavailable when the database does not answer', async (t) => {
      const h = await withHarness(t);
      const ping = h.storage.ping;
      h.storage.ping = () => Promise.reject(new StorageUnavailable('down'));
      t.after(() => {
        h.storage.ping = ping;
      });
      const response = await h.call({ url: `${V1}/health`, token: null });
      assert.equal(response.statusCode, 503);
      assert.equal(json(response)['code'], 'storage_unavailable');
    });
  });

  describe('app-portal tokens', () => {
    test('a portal token reaches its own application and nothing else', async (t) => {
      const h = await withHarness(t);
      const mine = await createApp(h, 'mine');
      const theirs = await createApp(h, 'theirs');
      await h.call({ method: 'POST', url: `${V1}/event-type`, payload: { name: 'a.b', description: 'x' } });
      const issued = await h.call({ method: 'POST', url: `${V1}/auth/app-portal-access/mine`, payload: {} });
      assert.equal(issued.statusCode, 200);
      const { token, url } = json(issued) as { token: string; url: string };
      assert.match(token, /^appsk_/);
      // The link carries a one-time key in its fragment, never the token itself.
      assert.match(url, /^http:\/\/[^/]+\/portal\/#key=[A-Za-z0-9_-]{43}$/);
      assert.ok(!url.includes(token));

      const as = (method: string, path: string, payload?: object) =>
        h.call({ method: method as 'GET', url: `${V1}${path}`, token, ...(payload ? { payload } : {}) });
      assert.equal((await as('GET', '/app/mine')).statusCode, 200);
      assert.equal((await as('GET', `/app/${mine}/endpoint`)).statusCode, 200);
      assert.equal(
        (await as('POST', '/app/mine/endpoint', { url: 'https://example.com/x' })).statusCode,
        201,
      );
      assert.equal((await as('GET', '/app/mine/msg')).statusCode, 200);
      assert.equal((await as('GET', '/event-type')).statusCode, 200);
      assert.equal((await as('GET', '/event-type/a.b')).statusCode, 200);
      // Another application, existing or not, does not exist for this token (404, as in Svix).
      for (const path of [`/app/${theirs}`, '/app/theirs/endpoint', '/app/does-not-exist/endpoint']) {
        const response = await as('GET', path);
        assert.equal(response.statusCode, 404, `GET ${path}: ${response.body}`);
        assert.equal(json(response)['code'], 'not_found');
      }
      for (const [method, path, payload] of [
        ['GET', '/app'],
        ['POST', '/app', { name: 'x' }],
        ['DELETE', '/app/mine'],
        ['POST', '/event-type', { name: 'c.d', description: 'x' }],
        ['DELETE', '/event-type/a.b'],
        ['POST', '/app/mine/msg', { eventType: 'a.b', payload: {} }],
        ['POST', '/auth/app-portal-access/mine', {}],
      ] as const) {
        const response = await as(method, path, payload);
        assert.equal(response.statusCode, 403, `${method} ${path}: ${response.body}`);
        assert.equal(json(response)['code'], 'forbidden');
      }
      // A bodiless POST labelled as JSON is still bodiless.
      const labelled = await h.call({
        method: 'POST',
        url: `${V1}/auth/logout`,
        token,
        headers: { 'content-type': 'application/json', 'content-length': '0' },
      });
      assert.equal(labelled.statusCode, 204);
      // Logout ended the token.
      assert.equal((await as('GET', '/app/mine')).statusCode, 401);
    });

    test('an expired or tampered portal token is 401', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'mine');
      const { token } = json(
        await h.call({ method: 'POST', url: `${V1}/auth/app-portal-access/mine`, payload: { expiry: 60 } }),
      ) as { token: string };
      // The signature's first character carries six bits of it (its last one partly padding bits
      // that decoding ignores, so changing that one sometimes changed nothing).
      const tampered = token.replace(/\.(.)/, (_, char: string) => `.${char === 'A' ? 'B' : 'A'}`);
      assert.notEqual(tampered, token);
      assert.equal((await h.call({ url: `${V1}/app/mine`, token: tampered })).statusCode, 401);
      const readOnly = json(
        await h.call({
          method: 'POST',
          url: `${V1}/auth/app-portal-access/mine`,
          payload: { readOnly: true },
        }),
      ) as { token: string };
      const write = await h.call({
        method: 'POST',
        url: `${V1}/app/mine/endpoint`,
        token: readOnly.token,
        payload: { url: 'https://example.com/x' },
      });
      assert.equal(write.statusCode, 403);
    });
  });

  describe('errors', () => {
    test('unknown resources and routes are 404 with a code; a wrong method is 405', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      for (const path of [
        '/app/nope',
        '/app/shop/endpoint/nope',
        '/app/shop/msg/nope',
        '/app/shop/msg/nope/attempt/atmpt_x',
        '/event-type/nope',
        '/no-such-thing',
      ]) {
        const response = await h.call({ url: `${V1}${path}` });
        assert.equal(response.statusCode, 404, path);
        assert.equal(json(response)['code'], 'not_found');
      }
      const wrong = await h.call({ method: 'PATCH', url: `${V1}/app` });
      assert.equal(wrong.statusCode, 405);
      assert.equal(json(wrong)['code'], 'method_not_allowed');
      assert.match(String(wrong.headers['allow']), /GET/);
    });

    test('validation failures are Svix HTTPValidationError bodies with loc', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      const cases: [string, string, object | undefined, (string | number)[]][] = [
        ['POST', `${V1}/app/shop/endpoint`, { description: 'no url' }, ['body', 'url']],
        ['POST', `${V1}/app/shop/endpoint`, { url: 'not a url' }, ['body', 'url']],
        ['POST', `${V1}/app/shop/endpoint`, { url: 'ftp://example.com/x' }, ['body', 'url']],
        ['POST', `${V1}/app`, { name: 'x', uid: 'has space' }, ['body', 'uid']],
        [
          'POST',
          `${V1}/app/shop/msg`,
          { eventType: 'a', payload: {}, channels: ['a', 'b', 'c', 'd', 'e', 'f'] },
          ['body', 'channels'],
        ],
        ['GET', `${V1}/app?limit=0`, undefined, ['query', 'limit']],
        ['GET', `${V1}/app?limit=abc`, undefined, ['query', 'limit']],
        ['GET', `${V1}/app?order=sideways`, undefined, ['query', 'order']],
        ['GET', `${V1}/app/shop/msg?before=yesterday`, undefined, ['query', 'before']],
        ['GET', `${V1}/app/${'x'.repeat(257)}`, undefined, ['path', 'app_id']],
        ['GET', `${V1}/app/bad%20id`, undefined, ['path', 'app_id']],
      ];
      for (const [method, url, payload, loc] of cases) {
        const response = await h.call({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
        assert.equal(response.statusCode, 422, `${method} ${url}: ${response.body}`);
        const body = json(response) as {
          code: string;
          detail: { loc: unknown[]; msg: string; type: string }[];
        };
        assert.equal(body.code, 'validation');
        assert.ok(Array.isArray(body.detail) && body.detail.length > 0);
        assert.deepEqual(body.detail[0]?.loc, loc, url);
        assert.equal(typeof body.detail[0]?.msg, 'string');
        assert.equal(typeof body.detail[0]?.type, 'string');
      }
    });

    test('malformed JSON is 400, a non-JSON body 415, an oversized payload 413', async (t) => {
      const h = await withHarness(t, { maxPayloadBytes: '2048' });
      await createApp(h, 'shop');
      const bad = await h.call({
        method: 'POST',
        url: `${V1}/app`,
        payload: '{"name": ',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(json(bad)['code'], 'invalid_json');
      const text = await h.call({
        method: 'POST',
        url: `${V1}/app`,
        payload: 'name',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.statusCode, 415);
      assert.equal(json(text)['code'], 'unsupported_media_type');

      const big = { eventType: 'a', payload: { blob: 'x'.repeat(2100) } };
      const tooLarge = await h.call({ method: 'POST', url: `${V1}/app/shop/msg`, payload: big });
      assert.equal(tooLarge.statusCode, 413);
      assert.equal(json(tooLarge)['code'], 'payload_too_large');
      const huge = { eventType: 'a', payload: { blob: 'x'.repeat(200_000) } };
      const overLimit = await h.call({ method: 'POST', url: `${V1}/app/shop/msg`, payload: huge });
      assert.equal(overLimit.statusCode, 413);
      assert.equal(json(overLimit)['code'], 'payload_too_large');
      const fits = await h.call({
        method: 'POST',
        url: `${V1}/app/shop/msg`,
        payload: { eventType: 'a', payload: { x: 1 } },
      });
      assert.equal(fits.statusCode, 202);
    });

    test('an endpoint URL the address guard refuses is 422 url_not_allowed', async (t) => {
      const h = await withHarness(t, { allowedSubnets: '' });
      await createApp(h, 'shop');
      for (const url of [
        'http://127.0.0.1/x',
        'http://localhost:8080/x',
        'http://[::1]/x',
        'http://169.254.169.254/',
      ]) {
        const response = await h.call({ method: 'POST', url: `${V1}/app/shop/endpoint`, payload: { url } });
        assert.equal(response.statusCode, 422, url);
        const body = json(response);
        assert.equal(body['code'], 'url_not_allowed');
        assert.match(String(body['detail']), /blocked|loopback/);
      }
    });

    test('reserved endpoint headers are refused', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      const ep = await createEndpoint(h, 'shop', { url: 'https://example.com/x' });
      for (const name of ['webhook-signature', 'svix-id', 'Content-Type', 'Host', 'bad header']) {
        const response = await h.call({
          method: 'PUT',
          url: `${V1}/app/shop/endpoint/${ep}/headers`,
          payload: { headers: { [name]: 'v' } },
        });
        assert.equal(response.statusCode, 422, name);
      }
      const patch = await h.call({
        method: 'PATCH',
        url: `${V1}/app/shop/endpoint/${ep}/headers`,
        payload: { headers: { 'X-A': '1', 'X-B': '2' } },
      });
      assert.equal(patch.statusCode, 204);
      await h.call({
        method: 'PATCH',
        url: `${V1}/app/shop/endpoint/${ep}/headers`,
        payload: { headers: { 'X-A': null } },
      });
      const headers = json(await h.call({ url: `${V1}/app/shop/endpoint/${ep}/headers` }));
      assert.deepEqual(headers['headers'], { 'X-B': '2' });
    });
  });

  describe('applications', () => {
    test('PUT upserts (201 then 200); POST with a taken uid is 409 unless get_if_exists', async (t) => {
      const h = await withHarness(t);
      const created = await h.call({ method: 'PUT', url: `${V1}/app/acme`, payload: { name: 'Acme' } });
      assert.equal(created.statusCode, 201);
      assert.equal(json(created)['uid'], 'acme');
      const updated = await h.call({ method: 'PUT', url: `${V1}/app/acme`, payload: { name: 'Acme 2' } });
      assert.equal(updated.statusCode, 200);
      assert.equal(json(updated)['name'], 'Acme 2');
      assert.equal(json(updated)['id'], json(created)['id']);
      const taken = await h.call({ method: 'POST', url: `${V1}/app`, payload: { name: 'x', uid: 'acme' } });
      assert.equal(taken.statusCode, 409);
      assert.equal(json(taken)['code'], 'conflict');
      const existing = await h.call({
        method: 'POST',
        url: `${V1}/app?get_if_exists=true`,
        payload: { name: 'x', uid: 'acme' },
      });
      assert.equal(existing.statusCode, 200);
      assert.equal(json(existing)['id'], json(created)['id']);
      assert.equal((await h.call({ method: 'DELETE', url: `${V1}/app/acme` })).statusCode, 204);
      assert.equal((await h.call({ url: `${V1}/app/acme` })).statusCode, 404);
    });

    test('pagination walks forward with iterator, back with prevIterator, and in either order', async (t) => {
      const h = await withHarness(t);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(await createApp(h, `app-${i}`));
      const newestFirst = [...ids].reverse();

      const pages: {
        data: { id: string }[];
        iterator: string | null;
        prevIterator: string | null;
        done: boolean;
      }[] = [];
      let iterator = '';
      for (;;) {
        const page = json(
          await h.call({
            url: `${V1}/app?limit=3&order=descending${iterator ? `&iterator=${iterator}` : ''}`,
          }),
        ) as never as (typeof pages)[number];
        pages.push(page);
        if (page.done) break;
        iterator = page.iterator ?? '';
      }
      assert.deepEqual(
        pages.map((page) => page.data.map((item) => item.id)),
        [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)],
      );
      assert.deepEqual(
        pages.map((page) => page.done),
        [false, false, true],
      );
      const back = json(
        await h.call({ url: `${V1}/app?limit=3&order=descending&iterator=${pages[2]?.prevIterator}` }),
      ) as never as (typeof pages)[number];
      assert.deepEqual(
        back.data.map((item) => item.id),
        newestFirst.slice(3, 6),
      );

      const ascending = json(
        await h.call({ url: `${V1}/app?limit=4&order=ascending` }),
      ) as never as (typeof pages)[number];
      assert.deepEqual(
        ascending.data.map((item) => item.id),
        ids.slice(0, 4),
      );
      const rest = json(
        await h.call({ url: `${V1}/app?limit=4&order=ascending&iterator=${ascending.iterator}` }),
      ) as never as (typeof pages)[number];
      assert.deepEqual(
        rest.data.map((item) => item.id),
        ids.slice(4),
      );
      assert.equal(rest.done, true);
      const over = await h.call({ url: `${V1}/app?limit=1000` });
      assert.equal(over.statusCode, 200, 'limits above 250 are capped, not refused');
    });
  });

  describe('messages', () => {
    test('fan-out follows event type and channel filters', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      const all = await createEndpoint(h, 'shop', { url: 'https://example.com/all' });
      const signups = await createEndpoint(h, 'shop', {
        url: 'https://example.com/s',
        filterTypes: ['user.signup'],
      });
      const eu = await createEndpoint(h, 'shop', { url: 'https://example.com/eu', channels: ['eu'] });
      await createEndpoint(h, 'shop', { url: 'https://example.com/off', disabled: true });
      const destinations = async (payload: object) => {
        const created = await h.call({ method: 'POST', url: `${V1}/app/shop/msg`, payload });
        assert.equal(created.statusCode, 202, created.body);
        const list = json(await h.call({ url: `${V1}/app/shop/msg/${json(created)['id']}/endpoint` }));
        return (list.data ?? []).map((item) => item['id']).sort();
      };
      assert.deepEqual(await destinations({ eventType: 'user.signup', payload: {} }), [all, signups].sort());
      assert.deepEqual(await destinations({ eventType: 'invoice.paid', payload: {} }), [all]);
      assert.deepEqual(
        await destinations({ eventType: 'invoice.paid', channels: ['eu'], payload: {} }),
        [all, eu].sort(),
      );
      assert.deepEqual(
        await destinations({ eventType: 'user.signup', channels: ['us'], payload: {} }),
        [all, signups].sort(),
      );
    });

    test('an application object in the body creates the application on the fly', async (t) => {
      const h = await withHarness(t);
      const missing = await h.call({
        method: 'POST',
        url: `${V1}/app/new-app/msg`,
        payload: { eventType: 'a', payload: {} },
      });
      assert.equal(missing.statusCode, 404);
      const created = await h.call({
        method: 'POST',
        url: `${V1}/app/new-app/msg`,
        payload: { eventType: 'a', payload: { x: 1 }, application: { name: 'New app' } },
      });
      assert.equal(created.statusCode, 202, created.body);
      const app = json(await h.call({ url: `${V1}/app/new-app` }));
      assert.equal(app['name'], 'New app');
      assert.equal(app['uid'], 'new-app');
    });

    test('list filters, with_content and eventId lookup', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      const post = (payload: object) => h.call({ method: 'POST', url: `${V1}/app/shop/msg`, payload });
      await post({ eventType: 'a', payload: { n: 1 }, channels: ['eu'] });
      await post({ eventType: 'b', payload: { n: 2 }, eventId: 'evt-2' });
      await post({ eventType: 'c', payload: { n: 3 } });
      const list = async (query: string) =>
        json(await h.call({ url: `${V1}/app/shop/msg?${query}` })).data ?? [];
      assert.deepEqual(
        (await list('event_types=a,c')).map((item) => item['eventType']),
        ['c', 'a'],
      );
      assert.deepEqual(
        (await list('event_types=a&event_types=b')).map((item) => item['eventType']),
        ['b', 'a'],
      );
      assert.deepEqual(
        (await list('channel=eu')).map((item) => item['eventType']),
        ['a'],
      );
      assert.deepEqual((await list('with_content=false'))[0]?.['payload'], {});
      const byEventId = json(await h.call({ url: `${V1}/app/shop/msg/evt-2` }));
      assert.deepEqual(byEventId['payload'], { n: 2 });
      const duplicate = await post({ eventType: 'b', payload: {}, eventId: 'evt-2' });
      assert.equal(duplicate.statusCode, 409);
      assert.equal(
        (await h.call({ method: 'DELETE', url: `${V1}/app/shop/msg/evt-2/content` })).statusCode,
        204,
      );
      assert.deepEqual(json(await h.call({ url: `${V1}/app/shop/msg/evt-2` }))['payload'], { expired: true });
    });
  });

  describe('idempotency', () => {
    test('a repeated request replays the first response; another request with the key is 409', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      const send = (payload: object, key = 'key-1') =>
        h.call({ method: 'POST', url: `${V1}/app/shop/msg`, payload, headers: { 'idempotency-key': key } });
      const first = await send({ eventType: 'a', payload: { n: 1 } });
      assert.equal(first.statusCode, 202);
      const again = await send({ eventType: 'a', payload: { n: 1 } });
      assert.equal(again.statusCode, 202);
      assert.equal(again.body, first.body);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      const list = json(await h.call({ url: `${V1}/app/shop/msg` }));
      assert.equal(list.data?.length, 1, 'the replay created nothing');

      const other = await send({ eventType: 'a', payload: { n: 2 } });
      assert.equal(other.statusCode, 409);
      assert.equal(json(other)['code'], 'idempotency_conflict');

      // The same key under another principal is a different key.
      const { token } = json(
        await h.call({ method: 'POST', url: `${V1}/auth/app-portal-access/shop`, payload: {} }),
      ) as { token: string };
      const portal = await h.call({
        method: 'POST',
        url: `${V1}/app/shop/endpoint`,
        token,
        payload: { url: 'https://example.com/x' },
        headers: { 'idempotency-key': 'key-1' },
      });
      assert.equal(portal.statusCode, 201);
    });

    test('a duplicate arriving while the first is still running is 409', async (t) => {
      const h = await withHarness(t);
      await createApp(h, 'shop');
      const ingest = h.storage.messages.ingest.bind(h.storage.messages);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      h.storage.messages.ingest = async (item) => {
        await gate;
        return ingest(item);
      };
      const request = () =>
        h.call({
          method: 'POST',
          url: `${V1}/app/shop/msg`,
          payload: { eventType: 'a', payload: {} },
          headers: { 'idempotency-key': 'slow' },
        });
      const first = request();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = await request();
      assert.equal(second.statusCode, 409);
      assert.equal(json(second)['code'], 'idempotency_conflict');
      release();
      assert.equal((await first).statusCode, 202);
      assert.equal((await request()).statusCode, 202);
    });
  });

  describe('OpenAPI document', () => {
    test('serves every Svix path with named schemas', async (t) => {
      const h = await withHarness(t);
      const doc = json(await h.call({ url: `${V1}/openapi.json` })) as {
        paths: Record<string, Record<string, { operationId: string }>>;
        components: { schemas: Record<string, unknown> };
      };
      const { readFile } = await import('node:fs/promises');
      const svix = JSON.parse(
        await readFile('/work/shared/reference/svix-openapi.json', 'utf8').catch(() => '{}'),
      ) as {
        paths?: Record<string, Record<string, unknown>>;
      };
      for (const [path, methods] of Object.entries(svix.paths ?? {})) {
        for (const method of Object.keys(methods)) {
          if (method === 'parameters') continue;
          assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
        }
      }
      for (const name of [
        'ApplicationIn',
        'ApplicationOut',
        'EndpointIn',
        'EndpointOut',
        'MessageIn',
        'MessageOut',
        'MessageAttemptOut',
      ]) {
        assert.ok(doc.components.schemas[name], name);
      }
      assert.equal(doc.paths['/api/v1/app']?.['post']?.operationId, 'v1.application.create');
    });
  });
});
