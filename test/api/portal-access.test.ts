import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CAPABILITIES, type Capability } from '../../src/api/auth.ts';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { type Harness, harness } from './harness.ts';

const V1 = '/api/v1';
const HOUR = 3_600_000;

type Json = Record<string, unknown>;
function json(response: { body: string }): Json {
  return JSON.parse(response.body) as Json;
}

function harnessFor(backend: TestBackend) {
  return async (
    t: { after(fn: () => Promise<void>): void },
    overrides: Parameters<typeof harness>[0] = {},
    clock?: () => number,
  ): Promise<Harness> => {
    const h = await harness(overrides, backend, clock ? { clock } : {});
    t.after(() => h.close());
    return h;
  };
}

async function post(h: Harness, path: string, payload: object, token?: string) {
  return h.call({ method: 'POST', url: `${V1}${path}`, payload, ...(token === undefined ? {} : { token }) });
}

async function access(h: Harness, app: string, body: object = {}): Promise<{ token: string; url: string }> {
  const response = await post(h, `/auth/app-portal-access/${app}`, body);
  assert.equal(response.statusCode, 200, response.body);
  return json(response) as { token: string; url: string };
}

function keyOf(url: string): string {
  const key = new URL(url).hash.replace(/^#key=/, '');
  assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  return key;
}

async function redeem(h: Harness, url: string) {
  return h.call({
    method: 'POST',
    url: `${V1}/auth/app-portal-session`,
    payload: { key: keyOf(url) },
    token: null,
  });
}

/** Two applications, each with an endpoint, an event type in the catalog and a message. */
async function twoApps(h: Harness) {
  await post(h, '/event-type', {
    name: 'invoice.paid',
    description: 'An invoice was paid',
    schemas: { '1': { type: 'object', examples: [{ invoice: 'inv_1' }] } },
  });
  const ids: Record<'a' | 'b', { app: string; endpoint: string; msg: string }> = {} as never;
  for (const uid of ['a', 'b'] as const) {
    const app = json(await post(h, '/app', { name: `App ${uid}`, uid }));
    const endpoint = json(await post(h, `/app/${uid}/endpoint`, { url: `https://example.com/${uid}` }));
    const msg = json(await post(h, `/app/${uid}/msg`, { eventType: 'invoice.paid', payload: { uid } }));
    ids[uid] = { app: String(app['id']), endpoint: String(endpoint['id']), msg: String(msg['id']) };
  }
  return ids;
}

/** A valid body for each changing route, so the answer is about the ids and not the body. */
function bodyFor(method: string, template: string): object {
  const since = new Date(Date.now() - HOUR).toISOString();
  if (/\/headers$/.test(template)) return { headers: { 'x-a': '1' } };
  if (/\/(recover|replay|bulk-replay|replay-missing)$/.test(template)) return { since };
  if (/\/send-example$/.test(template)) return { eventType: 'invoice.paid' };
  if (/\/msg$/.test(template)) return { eventType: 'invoice.paid', payload: {} };
  if (/\/endpoint(\/\{endpoint_id\})?$/.test(template) && method !== 'patch')
    return { url: 'https://example.com/x' };
  if (/\/app\/\{app_id\}$/.test(template) && method === 'put') return { name: 'x' };
  return {};
}

forEachBackend((backend) => {
  const withHarness = harnessFor(backend);

  describe('app-portal access', () => {
    test('the link carries a one-time key that opens a session of that application only', async (t) => {
      let now = Date.UTC(2026, 0, 1);
      const h = await withHarness(t, { publicUrl: 'https://hooks.example.com/' }, () => now);
      await twoApps(h);
      const { token, url } = await access(h, 'a', { expiry: 3600 });
      assert.ok(url.startsWith('https://hooks.example.com/portal/#key='), url);
      assert.ok(!url.includes(token), 'the bearer token is not in the link');

      const opened = await redeem(h, url);
      assert.equal(opened.statusCode, 200, opened.body);
      const session = json(opened) as {
        token: string;
        appId: string;
        expiresAt: string;
        capabilities: string[];
      };
      assert.equal(session.expiresAt, new Date(now + HOUR).toISOString());
      assert.deepEqual(session.capabilities, [...CAPABILITIES]);
      assert.equal((await h.call({ url: `${V1}/app/a`, token: session.token })).statusCode, 200);
      assert.equal((await h.call({ url: `${V1}/app/b`, token: session.token })).statusCode, 404);

      const again = await redeem(h, url);
      assert.equal(again.statusCode, 401);
      assert.equal(json(again)['code'], 'portal_link_used');
      const garbage = await h.call({
        method: 'POST',
        url: `${V1}/auth/app-portal-session`,
        payload: { key: 'x'.repeat(43) },
        token: null,
      });
      assert.equal(garbage.statusCode, 401);

      // Without HOOKYARD_PUBLIC_URL the link uses the request's own origin.
      const local = await withHarness(t);
      await post(local, '/app', { name: 'A', uid: 'a' });
      const link = (await access(local, 'a')).url;
      assert.match(link, /^http:\/\/localhost:80\/portal\/#key=|^http:\/\/localhost\/portal\/#key=/);

      // Expiry: one second past it, the token and the session are refused.
      now += HOUR + 1000;
      assert.equal((await h.call({ url: `${V1}/app/a`, token })).statusCode, 401);
      assert.equal((await h.call({ url: `${V1}/app/a`, token: session.token })).statusCode, 401);
      // An unopened link expires with its token.
      const late = await access(h, 'a', { expiry: 3600 });
      now += HOUR + 1000;
      assert.equal((await redeem(h, late.url)).statusCode, 401);
    });

    test('the application can be created on the fly', async (t) => {
      const h = await withHarness(t);
      const { token } = await access(h, 'new-customer', {
        application: { name: 'New customer', uid: 'new-customer' },
      });
      const app = await h.call({ url: `${V1}/app/new-customer`, token });
      assert.equal(app.statusCode, 200);
      assert.equal(json(app)['name'], 'New customer');
      assert.equal((await post(h, '/auth/app-portal-access/missing', {})).statusCode, 404);
    });

    test('expire-all ends every token and session of the application; logout ends the caller', async (t) => {
      let now = Date.UTC(2026, 0, 1);
      const h = await withHarness(t, {}, () => now);
      await twoApps(h);
      const first = await access(h, 'a', { sessionId: 'user_1' });
      const second = await access(h, 'a', { sessionId: 'user_2' });
      const other = await access(h, 'b');
      const session = json(await redeem(h, first.url)) as { token: string };
      const ok = (token: string, app = 'a') => h.call({ url: `${V1}/app/${app}`, token });

      // Logout ends only the calling token.
      const loggedOut = await access(h, 'a');
      assert.equal((await post(h, '/auth/logout', {}, loggedOut.token)).statusCode, 204);
      assert.equal((await ok(loggedOut.token)).statusCode, 401);
      assert.equal((await ok(first.token)).statusCode, 200);

      // Only the named session.
      now += 1;
      assert.equal((await post(h, '/auth/app/a/expire-all', { sessionIds: ['user_2'] })).statusCode, 204);
      assert.equal((await ok(second.token)).statusCode, 401);
      assert.equal((await ok(first.token)).statusCode, 200);

      now += 1;
      assert.equal((await post(h, '/auth/app/a/expire-all', {})).statusCode, 204);
      for (const token of [first.token, session.token]) assert.equal((await ok(token)).statusCode, 401);
      assert.equal((await ok(other.token, 'b')).statusCode, 200, 'another application is untouched');
      // Tokens issued afterwards work.
      now += 1;
      assert.equal((await ok((await access(h, 'a')).token)).statusCode, 200);
      // Only the admin may expire.
      assert.equal((await post(h, '/auth/app/b/expire-all', {}, other.token)).statusCode, 403);
    });
  });

  describe('app-portal capabilities', () => {
    test('each route needs its capability; readOnly is ViewBase; absent is all', async (t) => {
      const h = await withHarness(t);
      const { a } = await twoApps(h);
      const e = a.endpoint;
      /** Every route a portal token may use, with what it needs beyond ViewBase (none = ViewBase). */
      const routes: { method: string; path: string; body?: object; needs: Capability[] }[] = [
        { method: 'GET', path: '/app/a', needs: [] },
        { method: 'GET', path: '/app/a/endpoint', needs: [] },
        { method: 'GET', path: `/app/a/endpoint/${e}`, needs: [] },
        { method: 'GET', path: `/app/a/endpoint/${e}/headers`, needs: [] },
        { method: 'GET', path: `/app/a/endpoint/${e}/stats`, needs: [] },
        { method: 'GET', path: `/app/a/endpoint/${e}/health`, needs: [] },
        { method: 'GET', path: '/app/a/stats/endpoints', needs: [] },
        { method: 'GET', path: '/app/a/stats/timeseries', needs: [] },
        { method: 'GET', path: '/app/a/msg', needs: [] },
        { method: 'GET', path: `/app/a/msg/${a.msg}`, needs: [] },
        { method: 'GET', path: `/app/a/attempt/msg/${a.msg}`, needs: [] },
        { method: 'GET', path: `/app/a/attempt/endpoint/${e}`, needs: [] },
        { method: 'GET', path: `/app/a/msg/${a.msg}/endpoint`, needs: [] },
        { method: 'GET', path: `/app/a/endpoint/${e}/msg`, needs: [] },
        { method: 'GET', path: '/event-type', needs: [] },
        { method: 'GET', path: '/event-type/invoice.paid', needs: [] },
        {
          method: 'GET',
          path: `/app/a/endpoint/${e}/secret`,
          needs: ['ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint'],
        },
        {
          method: 'POST',
          path: `/app/a/endpoint/${e}/secret/rotate`,
          body: {},
          needs: ['ManageEndpointSecret', 'ManageEndpoint'],
        },
        {
          method: 'POST',
          path: '/app/a/endpoint',
          body: { url: 'https://example.com/new' },
          needs: ['ManageEndpoint'],
        },
        {
          method: 'PATCH',
          path: `/app/a/endpoint/${e}`,
          body: { description: 'x' },
          needs: ['ManageEndpoint'],
        },
        {
          method: 'PUT',
          path: `/app/a/endpoint/${e}`,
          body: { url: 'https://example.com/a' },
          needs: ['ManageEndpoint'],
        },
        {
          method: 'PUT',
          path: `/app/a/endpoint/${e}/headers`,
          body: { headers: { 'x-a': '1' } },
          needs: ['ManageEndpoint'],
        },
        {
          method: 'PATCH',
          path: `/app/a/endpoint/${e}/headers`,
          body: { headers: { 'x-b': '1' } },
          needs: ['ManageEndpoint'],
        },
        {
          method: 'POST',
          path: `/app/a/endpoint/${e}/send-example`,
          body: { eventType: 'invoice.paid' },
          needs: ['CreateAttempts'],
        },
        {
          method: 'POST',
          path: `/app/a/endpoint/${e}/recover`,
          body: { since: new Date(Date.now() - HOUR).toISOString() },
          needs: ['CreateAttempts'],
        },
        {
          method: 'POST',
          path: `/app/a/endpoint/${e}/replay`,
          body: { since: new Date(Date.now() - HOUR).toISOString() },
          needs: ['CreateAttempts'],
        },
        {
          method: 'POST',
          path: `/app/a/msg/${a.msg}/endpoint/${e}/resend`,
          body: {},
          needs: ['CreateAttempts'],
        },
      ];
      const tokens = new Map<string, string>();
      async function tokenWith(capabilities: Capability[] | null, readOnly = false): Promise<string> {
        const label = `${readOnly}:${capabilities?.join(',') ?? 'all'}`;
        const known = tokens.get(label);
        if (known) return known;
        const issued = (await access(h, 'a', { capabilities, readOnly })).token;
        tokens.set(label, issued);
        return issued;
      }
      const call = (route: (typeof routes)[number], token: string) =>
        h.call({
          method: route.method as 'GET',
          url: `${V1}${route.path}`,
          token,
          ...(route.body ? { payload: route.body } : {}),
        });
      for (const route of routes) {
        const label = `${route.method} ${route.path}`;
        const allowedWith: (Capability[] | null)[] =
          route.needs.length === 0
            ? [['ViewBase'], null]
            : [...route.needs.map((name) => ['ViewBase', name] as Capability[]), null];
        for (const capabilities of allowedWith) {
          const response = await call(route, await tokenWith(capabilities));
          assert.ok(
            response.statusCode < 400,
            `${label} with ${capabilities ?? 'all'}: ${response.statusCode} ${response.body}`,
          );
        }
        if (route.needs.length === 0) {
          assert.ok((await call(route, await tokenWith(null, true))).statusCode < 400, `${label} read-only`);
          continue;
        }
        const without = CAPABILITIES.filter((name) => !route.needs.includes(name));
        for (const [capabilities, readOnly] of [
          [without, false],
          [null, true],
          [[...CAPABILITIES], true],
        ] as const) {
          const response = await call(
            route,
            await tokenWith(capabilities === null ? null : [...capabilities], readOnly),
          );
          assert.equal(
            response.statusCode,
            403,
            `${label} without ${route.needs.join('/')}: ${response.body}`,
          );
          assert.equal(json(response)['code'], 'forbidden');
          assert.match(String(json(response)['detail']), new RegExp(route.needs[0] as string));
        }
      }
      // Deleting an endpoint needs ManageEndpoint too.
      const doomed = String(
        json(await post(h, '/app/a/endpoint', { url: 'https://example.com/doomed' }))['id'],
      );
      const remove = (token: string) =>
        h.call({ method: 'DELETE', url: `${V1}/app/a/endpoint/${doomed}`, token });
      assert.equal(
        (await remove(await tokenWith(['ViewBase', 'CreateAttempts', 'ManageEndpointSecret']))).statusCode,
        403,
      );
      assert.equal((await remove(await tokenWith(['ViewBase', 'ManageEndpoint']))).statusCode, 204);
      // ManageTransformations is reserved: a token may hold it, and it grants nothing more.
      const reserved = await tokenWith(['ManageTransformations']);
      assert.equal((await call(routes[0] as never, reserved)).statusCode, 200);
      assert.equal(
        (await post(h, '/app/a/endpoint', { url: 'https://example.com/z' }, reserved)).statusCode,
        403,
      );
      // Admin-only routes stay closed to every portal token.
      const all = await tokenWith(null);
      for (const [method, path] of [
        ['GET', '/app'],
        ['DELETE', '/app/a'],
        ['PATCH', '/app/a'],
        ['POST', '/app/a/msg'],
        ['POST', '/event-type'],
        ['GET', '/stats/overview'],
        ['GET', '/msg'],
        ['POST', '/auth/app-portal-access/a'],
      ] as const) {
        const response = await h.call({ method, url: `${V1}${path}`, token: all, payload: {} });
        assert.equal(response.statusCode, 403, `${method} ${path}`);
      }
    });
  });

  describe('app-portal confinement', () => {
    test("every app-scoped API route is 404 for another application's ids", async (t) => {
      const h = await withHarness(t);
      const { a, b } = await twoApps(h);
      const { token } = await access(h, 'a');
      const document = json(await h.call({ url: `${V1}/openapi.json`, token: null })) as {
        paths: Record<string, Record<string, unknown>>;
      };
      const scoped = Object.entries(document.paths).filter(([path]) => path.includes('{app_id}'));
      assert.ok(scoped.length >= 25, `found ${scoped.length} app-scoped routes`);
      let tried = 0;
      for (const [template, operations] of scoped) {
        for (const method of Object.keys(operations)) {
          if (method === 'head') continue;
          // B's own ids (by id and by uid), and A's application with B's resources.
          for (const [app, ids] of [
            [b.app, b],
            ['b', b],
            ['a', b],
          ] as const) {
            if (app === 'a' && !/endpoint_id|msg_id|attempt_id/.test(template)) continue;
            // PUT creates a missing endpoint (Svix's upsert), in A under that text as uid: not B's.
            if (app === 'a' && method === 'put' && template.endsWith('{endpoint_id}')) continue;
            const path = template
              .replace('{app_id}', app)
              .replace('{endpoint_id}', ids.endpoint)
              .replace('{msg_id}', ids.msg)
              .replace('{attempt_id}', 'atmpt_2vDPdBQbe8spYQ8QWA3pYGN9ZuA');
            const response = await h.call({
              method: method.toUpperCase() as 'GET',
              url: `${V1}${path.replace('/api/v1', '')}`,
              token,
              ...(method === 'get' || method === 'delete' ? {} : { payload: bodyFor(method, template) }),
            });
            tried++;
            // A route the token may not use at all is 403 before any lookup (it reveals nothing of B).
            assert.ok(
              response.statusCode === 404 || response.statusCode === 403,
              `${method} ${path}: ${response.statusCode} ${response.body}`,
            );
            if (response.statusCode === 403)
              assert.doesNotMatch(response.body, /example\.com\/b|"uid":"b"/, `${method} ${path}`);
          }
        }
      }
      assert.ok(tried > 50);
      // Nothing of B changed.
      const endpoint = json(await h.call({ url: `${V1}/app/b/endpoint/${b.endpoint}` }));
      assert.equal(endpoint['url'], 'https://example.com/b');
      assert.equal(endpoint['disabled'], false);
      assert.equal(a.app === b.app, false);
    });
  });

  describe('CORS', () => {
    test('preflights and bearer requests from any origin by default; never with cookies', async (t) => {
      const h = await withHarness(t);
      await post(h, '/app', { name: 'A', uid: 'a' });
      const preflight = await h.app.inject({
        method: 'OPTIONS',
        url: `${V1}/app/a/endpoint`,
        headers: {
          origin: 'https://customer.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, idempotency-key',
        },
      });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], '*');
      assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
      assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
      assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
      const request = await h.call({ url: `${V1}/app/a`, headers: { origin: 'https://customer.example' } });
      assert.equal(request.statusCode, 200);
      assert.equal(request.headers['access-control-allow-origin'], '*');
      const cookie = await h.app.inject({
        url: `${V1}/app/a`,
        headers: { origin: 'https://customer.example', cookie: 'hookyard_session=x' },
      });
      assert.equal(cookie.headers['access-control-allow-origin'], undefined);
    });

    test('HOOKYARD_CORS_ORIGINS narrows the origins; empty turns CORS off', async (t) => {
      const h = await withHarness(t, { corsOrigins: 'https://one.example, https://two.example' });
      const ask = (origin: string) =>
        h.app.inject({
          method: 'OPTIONS',
          url: `${V1}/app`,
          headers: { origin, 'access-control-request-method': 'GET' },
        });
      const allowed = await ask('https://two.example');
      assert.equal(allowed.statusCode, 204);
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://two.example');
      assert.equal(allowed.headers['vary'], 'origin');
      const refused = await ask('https://three.example');
      assert.equal(refused.headers['access-control-allow-origin'], undefined);
      const off = await withHarness(t, { corsOrigins: '' });
      assert.equal(
        (
          await off.app.inject({
            method: 'OPTIONS',
            url: `${V1}/app`,
            headers: { origin: 'https://one.example', 'access-control-request-method': 'GET' },
          })
        ).headers['access-control-allow-origin'],
        undefined,
      );
    });
  });
});
