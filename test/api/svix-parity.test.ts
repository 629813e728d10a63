import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { type Harness, harness } from './harness.ts';

/**
 * Behaviours taken from the Svix server's handlers and end-to-end tests, each matched (or, where
 * docs/api.md says so, kept on purpose and asserted as Hookyard's).
 */
const V1 = '/api/v1';
const DAY_MS = 86_400_000;

type Body = Record<string, unknown>;

function harnessFor(backend: TestBackend) {
  return async (
    t: { after(fn: () => Promise<void>): void },
    overrides: Parameters<typeof harness>[0] = {},
  ) => {
    const h = await harness(overrides, backend);
    t.after(() => h.close());
    return h;
  };
}

async function call(h: Harness, method: string, url: string, payload?: object) {
  const response = await h.call({
    method: method as 'GET',
    url: `${V1}${url}`,
    ...(payload ? { payload } : {}),
  });
  return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : {}) as Body };
}

async function ok(h: Harness, method: string, url: string, payload?: object): Promise<Body> {
  const response = await call(h, method, url, payload);
  assert.ok(response.status < 300, `${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** The `loc` of a 422's first item, and its type. */
async function invalid(h: Harness, method: string, url: string, payload?: object) {
  const response = await call(h, method, url, payload);
  assert.equal(response.status, 422, `${method} ${url}: ${JSON.stringify(response.body)}`);
  const [item] = response.body['detail'] as { loc: string[]; type: string; msg: string }[];
  assert.ok(item);
  return item;
}

forEachBackend((backend) => {
  const withHarness = harnessFor(backend);

  describe('Svix parity: lists', () => {
    test('applications are listed oldest first unless order=descending', async (t) => {
      const h = await withHarness(t);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(String((await ok(h, 'POST', '/app', { name: `a${i}` }))['id']));
      const ascending = (await ok(h, 'GET', '/app')) as { data: Body[] };
      assert.deepEqual(
        ascending.data.map((item) => item['id']),
        ids,
      );
      const descending = (await ok(h, 'GET', '/app?order=descending')) as { data: Body[] };
      assert.deepEqual(
        descending.data.map((item) => item['id']),
        [...ids].reverse(),
      );
      const page = (await ok(h, 'GET', '/app?limit=2')) as { data: Body[]; iterator: string };
      const next = (await ok(h, 'GET', `/app?limit=2&iterator=${page.iterator}`)) as { data: Body[] };
      assert.deepEqual(
        next.data.map((item) => item['id']),
        [ids[2]],
      );
    });

    test('a malformed iterator is 422 on every list', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = String((await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com/a' }))['id']);
      const msg = String((await ok(h, 'POST', '/app/shop/msg', { eventType: 'a', payload: {} }))['id']);
      for (const list of [
        '/app',
        '/event-type',
        '/app/shop/endpoint',
        '/app/shop/msg',
        `/app/shop/attempt/endpoint/${ep}`,
        `/app/shop/attempt/msg/${msg}`,
        `/app/shop/msg/${msg}/endpoint`,
        `/app/shop/endpoint/${ep}/msg`,
        `/app/shop/msg/${msg}/attempt`,
        `/app/shop/msg/${msg}/endpoint/${ep}/attempt`,
      ]) {
        // Event types page by name, so only a string that is no name is malformed there.
        const malformed =
          list === '/event-type' ? ['garbage!', '-not a name'] : ['garbage!', '-msg_short', 'qtask_0'];
        for (const iterator of malformed) {
          const item = await invalid(h, 'GET', `${list}?iterator=${encodeURIComponent(iterator)}`);
          assert.deepEqual(item.loc, ['query', 'iterator'], list);
        }
      }
      // A well-formed iterator of the right kind is fine (even one past the end).
      assert.equal((await call(h, 'GET', `/app/shop/msg?iterator=${msg}`)).status, 200);
    });

    test('event_types[]= repeated is the same filter as the comma form; after= is inclusive', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const made: Body[] = [];
      for (const eventType of ['a', 'b', 'c'])
        made.push(await ok(h, 'POST', '/app/shop/msg', { eventType, payload: {} }));
      const bracketed = (await ok(h, 'GET', '/app/shop/msg?event_types[]=a&event_types[]=b')) as {
        data: Body[];
      };
      assert.deepEqual(bracketed.data.map((item) => item['eventType']).sort(), ['a', 'b']);
      const comma = (await ok(h, 'GET', '/app/shop/msg?event_types=a,b')) as { data: Body[] };
      assert.deepEqual(comma.data.map((item) => item['eventType']).sort(), ['a', 'b']);

      const first = made[0] as Body;
      const after = (await ok(
        h,
        'GET',
        `/app/shop/msg?after=${encodeURIComponent(String(first['timestamp']))}`,
      )) as {
        data: Body[];
      };
      assert.ok(
        after.data.some((item) => item['id'] === first['id']),
        'a message created at `after` is listed',
      );
    });

    test('attempted destinations are listed by endpoint id, ascending', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push(
          String((await ok(h, 'POST', '/app/shop/endpoint', { url: `https://example.com/${i}` }))['id']),
        );
      const msg = String((await ok(h, 'POST', '/app/shop/msg', { eventType: 'a', payload: {} }))['id']);
      const page = (await ok(h, 'GET', `/app/shop/msg/${msg}/endpoint?limit=2`)) as {
        data: Body[];
        iterator: string;
        done: boolean;
      };
      assert.deepEqual(
        page.data.map((item) => item['id']),
        ids.slice(0, 2),
      );
      assert.equal(page.done, false);
      const rest = (await ok(
        h,
        'GET',
        `/app/shop/msg/${msg}/endpoint?limit=2&iterator=${page.iterator}`,
      )) as {
        data: Body[];
      };
      assert.deepEqual(
        rest.data.map((item) => item['id']),
        ids.slice(2),
      );
      // Kept on purpose (docs/api.md): deleting an endpoint deletes its deliveries with it.
      await ok(h, 'DELETE', `/app/shop/endpoint/${ids[0]}`);
      const after = (await ok(h, 'GET', `/app/shop/msg/${msg}/endpoint`)) as { data: Body[] };
      assert.deepEqual(
        after.data.map((item) => item['id']),
        ids.slice(1),
      );
    });
  });

  describe('Svix parity: routes', () => {
    test('a trailing slash names the same route', async (t) => {
      const h = await withHarness(t);
      assert.equal((await h.call({ url: `${V1}/health/ping/`, token: null })).statusCode, 204);
      assert.equal((await call(h, 'POST', '/app/', { name: 'x', uid: 'slash' })).status, 201);
      assert.equal((await call(h, 'GET', '/app/slash/')).status, 200);
    });

    test('the deprecated dashboard-access and attempt-list routes are served', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const access = await ok(h, 'POST', '/auth/dashboard-access/shop');
      assert.match(String(access['token']), /^appsk_/);
      const portal = await h.call({ url: `${V1}/app/shop/endpoint`, token: String(access['token']) });
      assert.equal(portal.statusCode, 200);
      assert.equal((await call(h, 'POST', '/auth/dashboard-access/nope')).status, 404);

      const ep = String((await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com/a' }))['id']);
      const msg = String((await ok(h, 'POST', '/app/shop/msg', { eventType: 'a', payload: {} }))['id']);
      const attempts = await ok(h, 'GET', `/app/shop/msg/${msg}/attempt`);
      assert.deepEqual(attempts['data'], []);
      assert.equal(attempts['done'], true);
      const byEndpoint = await ok(h, 'GET', `/app/shop/msg/${msg}/endpoint/${ep}/attempt`);
      assert.deepEqual(byEndpoint['data'], []);
      assert.equal((await call(h, 'GET', `/app/shop/msg/${msg}/endpoint/ep_nope/attempt`)).status, 404);
    });

    test('expire-all without a body expires every token of the application at once', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const { token } = (await ok(h, 'POST', '/auth/app-portal-access/shop', {})) as { token: string };
      assert.equal((await h.call({ url: `${V1}/app/shop/endpoint`, token })).statusCode, 200);
      // The cut-off is "issued before now" in milliseconds: let the clock move past the issue time.
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((await call(h, 'POST', '/auth/app/shop/expire-all')).status, 204);
      assert.equal((await h.call({ url: `${V1}/app/shop/endpoint`, token })).statusCode, 401);
      assert.equal((await call(h, 'POST', '/auth/app/nope/expire-all')).status, 404);
    });

    test('an app-portal token gets 404 for another application', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'mine', uid: 'mine' });
      await ok(h, 'POST', '/app', { name: 'theirs', uid: 'theirs' });
      const { token } = (await ok(h, 'POST', '/auth/app-portal-access/mine', {})) as { token: string };
      const response = await h.call({ url: `${V1}/app/theirs/endpoint`, token });
      assert.equal(response.statusCode, 404);
      assert.equal(JSON.parse(response.body).code, 'not_found');
    });
  });

  describe('Svix parity: applications and event types', () => {
    test('PUT of an application without uid clears its uid (unless the path named it by that uid)', async (t) => {
      const h = await withHarness(t);
      const app = await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      assert.equal((await ok(h, 'PUT', '/app/shop', { name: 'shop 1' }))['uid'], 'shop');
      const put = await ok(h, 'PUT', `/app/${app['id']}`, { name: 'shop 2' });
      assert.equal(put['uid'], null);
      assert.equal((await call(h, 'GET', '/app/shop')).status, 404);
    });

    test('uids starting with the id prefix are 422', async (t) => {
      const h = await withHarness(t);
      assert.deepEqual((await invalid(h, 'POST', '/app', { name: 'x', uid: 'app_x' })).loc, ['body', 'uid']);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      assert.equal((await invalid(h, 'PATCH', '/app/shop', { uid: 'app_y' })).type, 'invalid_uid_prefix');
      assert.deepEqual(
        (await invalid(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com', uid: 'ep_x' })).loc,
        ['body', 'uid'],
      );
      assert.deepEqual(
        (await invalid(h, 'POST', '/app/shop/msg', { eventType: 'a', payload: {}, eventId: 'msg_1' })).loc,
        ['body', 'eventId'],
      );
      assert.equal((await call(h, 'POST', '/app', { name: 'ok', uid: '_app_x' })).status, 201);
    });

    test('a rate limit of 0 is 422 on create and patch', async (t) => {
      const h = await withHarness(t);
      await invalid(h, 'POST', '/app', { name: 'x', rateLimit: 0 });
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      await invalid(h, 'PATCH', '/app/shop', { throttleRate: 0 });
      await invalid(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com', rateLimit: 0 });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com', rateLimit: 5 });
      await invalid(h, 'PATCH', `/app/shop/endpoint/${ep['id']}`, { rateLimit: 0 });
      const cleared = await ok(h, 'PATCH', `/app/shop/endpoint/${ep['id']}`, { rateLimit: null });
      assert.equal(cleared['rateLimit'], null);
    });

    test("an application created with a message or a portal token must carry the path's uid", async (t) => {
      const h = await withHarness(t);
      for (const url of ['/app/new-app/msg', '/auth/app-portal-access/new-app']) {
        const extra = url.endsWith('msg') ? { eventType: 'a', payload: {} } : {};
        const other = await invalid(h, 'POST', url, { ...extra, application: { name: 'x', uid: 'other' } });
        assert.equal(other.type, 'application_uid_mismatch');
      }
      await ok(h, 'POST', '/app/new-app/msg', {
        eventType: 'a',
        payload: {},
        application: { name: 'x', uid: 'new-app' },
      });
      assert.equal((await ok(h, 'GET', '/app/new-app'))['name'], 'x');
    });

    test('an invalid JSON Schema in an event type is 422', async (t) => {
      const h = await withHarness(t);
      const bad = { '1': { type: 'objekt' } };
      assert.deepEqual(
        (await invalid(h, 'POST', '/event-type', { name: 'a', description: 'x', schemas: bad })).loc,
        ['body', 'schemas', '1'],
      );
      await ok(h, 'POST', '/event-type', {
        name: 'a',
        description: 'x',
        schemas: { '1': { type: 'object' } },
      });
      await invalid(h, 'PATCH', '/event-type/a', { schemas: bad });
      await invalid(h, 'PUT', '/event-type/a', { description: 'y', schemas: { '1': { properties: 5 } } });
      // The same schema with an $id saved twice is fine (nothing is kept between checks).
      const withId = { '1': { $id: 'https://example.com/a.json', type: 'object' } };
      await ok(h, 'PATCH', '/event-type/a', { schemas: withId });
      await ok(h, 'PATCH', '/event-type/a', { schemas: withId });
    });

    test("creating an archived event type's name unarchives it (201)", async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/event-type', { name: 'a', description: 'old' });
      await ok(h, 'DELETE', '/event-type/a');
      const created = await call(h, 'POST', '/event-type', { name: 'a', description: 'new' });
      assert.equal(created.status, 201);
      assert.equal(created.body['archived'], false);
      assert.equal(created.body['description'], 'new');
      assert.equal((await call(h, 'POST', '/event-type', { name: 'a', description: 'again' })).status, 409);
    });
  });

  describe('Svix parity: endpoints', () => {
    test('filtering on an archived event type is 422; an unregistered one is accepted', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      await ok(h, 'POST', '/event-type', { name: 'old', description: 'x' });
      await ok(h, 'DELETE', '/event-type/old');
      const item = await invalid(h, 'POST', '/app/shop/endpoint', {
        url: 'https://example.com',
        filterTypes: ['old', 'fresh'],
      });
      assert.match(item.msg, /old/);
      const ep = await ok(h, 'POST', '/app/shop/endpoint', {
        url: 'https://example.com',
        filterTypes: ['fresh'],
      });
      await invalid(h, 'PATCH', `/app/shop/endpoint/${ep['id']}`, { filterTypes: ['old'] });
      await invalid(h, 'PUT', `/app/shop/endpoint/${ep['id']}`, {
        url: 'https://example.com',
        eventTypes: ['old'],
      });
    });

    test('reserved and sensitive headers follow Svix', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      for (const name of ['X-Svix-Thing', 'svix-id', 'User-Agent', 'Cache-Control', 'X-Amz-Date']) {
        await invalid(h, 'POST', '/app/shop/endpoint', {
          url: 'https://example.com',
          headers: { [name]: 'v' },
        });
      }
      const ep = await ok(h, 'POST', '/app/shop/endpoint', {
        url: 'https://example.com',
        headers: { Authorization: 'Bearer a', 'X-Auth-Token': 't', 'X-Api-Key': 'k', 'X-Plain': 'p' },
      });
      const headers = await ok(h, 'GET', `/app/shop/endpoint/${ep['id']}/headers`);
      assert.deepEqual(headers['headers'], { 'X-Plain': 'p' });
      assert.deepEqual((headers['sensitive'] as string[]).sort(), [
        'Authorization',
        'X-Api-Key',
        'X-Auth-Token',
      ]);
      await invalid(h, 'PATCH', `/app/shop/endpoint/${ep['id']}/headers`, { headers: { 'x-svix-a': '1' } });
    });

    test('stats: at most 28 days back (400 invalid_range), and until not in the future', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      const stats = `/app/shop/endpoint/${ep['id']}/stats`;
      const since = (ms: number) => encodeURIComponent(new Date(Date.now() - ms).toISOString());
      assert.equal((await call(h, 'GET', `${stats}?since=${since(28 * DAY_MS)}`)).status, 200);
      const old = await call(h, 'GET', `${stats}?since=${since(29 * DAY_MS)}`);
      assert.equal(old.status, 400);
      assert.equal(old.body['code'], 'invalid_range');
      const future = await call(h, 'GET', `${stats}?until=${since(-DAY_MS)}`);
      assert.equal(future.status, 400);
    });

    test('recover: at most 14 days at once (422)', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      const recover = `/app/shop/endpoint/${ep['id']}/recover`;
      const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
      assert.equal((await call(h, 'POST', recover, { since: ago(14 * DAY_MS) })).status, 202);
      assert.deepEqual((await invalid(h, 'POST', recover, { since: ago(15 * DAY_MS) })).loc, [
        'body',
        'since',
      ]);
    });

    test('rotation keeps at most 10 old keys in their grace period, then 400 limit_reached', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      const rotate = `/app/shop/endpoint/${ep['id']}/secret/rotate`;
      for (let i = 0; i < 10; i++) assert.equal((await call(h, 'POST', rotate, {})).status, 204);
      const refused = await call(h, 'POST', rotate, {});
      assert.equal(refused.status, 400);
      assert.equal(refused.body['code'], 'limit_reached');
      // Without a grace period the outgoing key is not kept, so that rotation goes through.
      assert.equal((await call(h, 'POST', rotate, { gracePeriodSeconds: 0 })).status, 204);
      const app = await ok(h, 'GET', '/app/shop');
      const stored = await h.storage.endpoints.get(String(app['id']), String(ep['id']));
      assert.equal(stored?.secrets.length, 11);
    });

    test('an endpoint version other than 1 is 422 (Hookyard signs one way)', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      for (const version of [0, 2]) await invalid(h, 'PATCH', `/app/shop/endpoint/${ep['id']}`, { version });
      assert.equal((await ok(h, 'PATCH', `/app/shop/endpoint/${ep['id']}`, { version: 1 }))['version'], 1);
    });

    test('send-example: {"success": true} for svix.ping, the schema example otherwise', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      const send = `/app/shop/endpoint/${ep['id']}/send-example`;
      assert.deepEqual((await ok(h, 'POST', send, { eventType: 'svix.ping' }))['payload'], { success: true });
      await ok(h, 'POST', '/event-type', {
        name: 'paid',
        description: 'x',
        schemas: { '1': { type: 'object', examples: [{ amount: 1 }, { amount: 2 }] } },
      });
      assert.deepEqual((await ok(h, 'POST', send, { eventType: 'paid' }))['payload'], { amount: 1 });
      assert.deepEqual((await ok(h, 'POST', send, { eventType: 'paid', exampleIndex: 1 }))['payload'], {
        amount: 2,
      });
      assert.equal((await call(h, 'POST', send, { eventType: 'unknown' })).status, 404);
      await ok(h, 'POST', '/event-type', { name: 'bare', description: 'x' });
      const bare = await call(h, 'POST', send, { eventType: 'bare' });
      assert.equal(bare.status, 400);
      assert.equal(bare.body['code'], 'invalid_scheme');
    });

    test('new endpoints get ed25519 keys with HOOKYARD_DEFAULT_SIGNATURE_TYPE=ed25519', async (t) => {
      const h = await withHarness(t, { defaultSignatureType: 'ed25519' });
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      const secret = `/app/shop/endpoint/${ep['id']}/secret`;
      assert.match(String((await ok(h, 'GET', secret))['key']), /^whpk_/);
      await ok(h, 'POST', `${secret}/rotate`, {});
      assert.match(String((await ok(h, 'GET', secret))['key']), /^whpk_/, 'rotation keeps the key type');
      const given = await ok(h, 'POST', '/app/shop/endpoint', {
        url: 'https://example.com/b',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      });
      assert.match(
        String((await ok(h, 'GET', `/app/shop/endpoint/${given['id']}/secret`))['key']),
        /^whsec_/,
      );
    });
  });

  describe('Svix parity: messages', () => {
    test('resending a message whose payload was expunged is 400 missing_payload', async (t) => {
      const h = await withHarness(t);
      await ok(h, 'POST', '/app', { name: 'shop', uid: 'shop' });
      const ep = await ok(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com' });
      const msg = await ok(h, 'POST', '/app/shop/msg', { eventType: 'a', payload: { a: 1 } });
      await ok(h, 'DELETE', `/app/shop/msg/${msg['id']}/content`);
      const resend = await call(h, 'POST', `/app/shop/msg/${msg['id']}/endpoint/${ep['id']}/resend`);
      assert.equal(resend.status, 400);
      assert.equal(resend.body['code'], 'missing_payload');
    });
  });
  describe('Svix parity: text fields', () => {
    test('control characters 0x00-0x08 in names and descriptions are 422', async (t) => {
      const h = await withHarness(t);
      assert.deepEqual((await invalid(h, 'POST', '/app', { name: 'bad\u0001name' })).loc, ['body', 'name']);
      await invalid(h, 'POST', '/event-type', { name: 'a', description: 'x\u0000' });
      await ok(h, 'POST', '/app', { name: 'tabs\tand\nnewlines are fine', uid: 'shop' });
      await invalid(h, 'POST', '/app/shop/endpoint', { url: 'https://example.com', description: '\u0008' });
    });
  });
});
