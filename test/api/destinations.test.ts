import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type ApiException, DestinationStatus, DestinationStatusIn, Svix } from 'svix2';
import { forEachBackend } from '../helpers/backends.ts';
import { ADMIN_TOKEN, harness } from './harness.ts';

/** The Destination API: CRUD through the official SDK 2.x, the rest (and Hookyard's own types) over HTTP. */
const is = (code: number) => (error: ApiException<unknown>) => error.code === code;

forEachBackend((backend) => {
  test('the SDK 2.x creates, reads, lists, upserts, patches and deletes destinations', async (t) => {
    const h = await harness({}, backend);
    t.after(() => h.close());
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    const svix = new Svix(ADMIN_TOKEN, { serverUrl: `http://127.0.0.1:${port}` });
    const app = await svix.application.create({ name: 'Shop', uid: 'shop' });

    const rabbit = await svix.destination.create(app.id, {
      type: 'rabbitMq',
      uid: 'orders-queue',
      eventTypes: ['order.created'],
      config: { uri: 'amqp://user:pass@127.0.0.1:5672/', routingKey: 'orders' },
    });
    assert.match(rabbit.id, /^sink_/);
    assert.equal(rabbit.type, 'rabbitMq');
    assert.deepEqual(rabbit.config, { routingKey: 'orders' }, 'the uri (credentials) is never shown');
    assert.equal(rabbit.status, DestinationStatus.Enabled);
    assert.deepEqual(rabbit.eventTypes, ['order.created']);
    assert.equal((await svix.destination.get(app.id, 'orders-queue')).id, rabbit.id);

    const table = await svix.destination.create(app.id, {
      type: 'postgres',
      config: { url: 'postgres://hook@127.0.0.1:5432/events', password: 'secret', tableName: 'webhooks' },
    });
    assert.equal(table.type, 'postgres');
    if (table.type === 'postgres') {
      assert.equal(table.config.tableName, 'webhooks');
      assert.equal(table.config.url, 'postgres://127.0.0.1:5432/events');
    }
    // A Hookyard-only type, made over HTTP: the SDK's list leaves it out, since it cannot parse it.
    const created = await h.call({
      method: 'POST',
      url: `/api/v1/app/${app.id}/destination`,
      payload: { type: 'redisStream', config: { url: 'redis://127.0.0.1:6379', stream: 'hooks' } },
    });
    assert.equal(created.statusCode, 201, created.body);

    const listed = await svix.destination.list(app.id);
    assert.deepEqual(
      listed.data.map((item) => item.id),
      [table.id, rabbit.id],
    );
    const raw = await h.call({ method: 'GET', url: `/api/v1/app/${app.id}/destination` });
    assert.equal(raw.json().data.length, 3, 'a plain HTTP client sees every type');

    const upserted = await svix.destination.upsert(app.id, rabbit.id, {
      type: 'rabbitMq',
      uid: 'orders-queue',
      status: DestinationStatusIn.Disabled,
      config: { uri: 'amqp://127.0.0.1:5672/', routingKey: 'orders-2' },
    });
    assert.equal(upserted.status, DestinationStatus.Disabled);
    assert.deepEqual(upserted.eventTypes, [], 'a full update resets what it leaves out');
    const createdByUpsert = await svix.destination.upsert(app.id, 'nats-one', {
      type: 'rabbitMq',
      config: { uri: 'amqp://127.0.0.1:5672/', routingKey: 'x' },
    });
    assert.equal(createdByUpsert.uid, 'nats-one');

    const patched = await svix.destination.patch(app.id, rabbit.id, {
      status: DestinationStatusIn.Enabled,
      channels: ['eu'],
      type: 'rabbitMq',
      config: { routingKey: 'orders-3' },
    });
    assert.equal(patched.status, DestinationStatus.Enabled);
    assert.deepEqual(patched.channels, ['eu']);
    assert.deepEqual(patched.config, { routingKey: 'orders-3' }, 'the uri stays: a patch merges the config');
    const stored = await h.storage.endpoints.get(app.id, rabbit.id);
    assert.equal(stored?.destination?.config['uri'], 'amqp://127.0.0.1:5672/');

    await svix.destination.delete(app.id, rabbit.id);
    await assert.rejects(svix.destination.get(app.id, rabbit.id), is(404));
  });
});

test('destinations are checked per type (422 naming the field) and kept apart from endpoints', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  const app = (await h.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'A' } })).json();
  const base = `/api/v1/app/${app.id}/destination`;
  const create = (payload: object) => h.call({ method: 'POST', url: base, payload });
  const locOf = async (payload: object) => {
    const response = await create(payload);
    assert.equal(response.statusCode, 422, response.body);
    return response.json().detail[0].loc;
  };

  assert.deepEqual(await locOf({ type: 'mqtt', config: { url: 'mqtt://127.0.0.1:1883' } }), [
    'body',
    'config',
    'topic',
  ]);
  assert.deepEqual(await locOf({ type: 'natsJetStream', config: { url: 'http://x', subject: 's' } }), [
    'body',
    'config',
    'url',
  ]);
  assert.deepEqual(
    await locOf({ type: 'redisStream', config: { url: 'redis://h', stream: 's', maxLen: 0 } }),
    ['body', 'config', 'maxLen'],
  );
  assert.deepEqual(
    await locOf({ type: 'rabbitMq', config: { uri: 'amqp://h', routingKey: 'k', vhost: 'v' } }),
    ['body', 'config', 'vhost'],
  );
  assert.deepEqual(await locOf({ type: 'pollingEndpoint', batchSize: 10 }), ['body', 'batchSize']);
  assert.deepEqual(await locOf({ type: 'pollingEndpoint', maxWaitSecs: 5 }), ['body', 'maxWaitSecs']);
  assert.deepEqual(await locOf({ type: 'fifoEndpoint', config: { url: 'amqp://x' } }), [
    'body',
    'config',
    'url',
  ]);
  // The publishers' own checks, at the API's field names.
  assert.deepEqual(await locOf({ type: 'mqtt', config: { url: 'mqtt://h', topic: 'a/#' } }), [
    'body',
    'config',
    'topic',
  ]);
  assert.deepEqual(
    await locOf({ type: 'postgres', config: { url: 'postgres://h/db', tableName: 'drop table;' } }),
    ['body', 'config', 'tableName'],
  );

  const made = await create({
    type: 'mqtt',
    uid: 'sensor',
    config: { url: 'mqtt://u:p@127.0.0.1:1883', topic: 'hooks/a' },
  });
  assert.equal(made.statusCode, 201, made.body);
  const destination = made.json();
  assert.deepEqual(destination.config, { url: 'mqtt://127.0.0.1:1883', topic: 'hooks/a' });
  const path = `${base}/${destination.id}`;

  // Headers, secret and its rotation.
  const headers = await h.call({
    method: 'PATCH',
    url: `${path}/headers`,
    payload: { headers: { 'x-team': 'ops', authorization: 'Bearer t' } },
  });
  assert.equal(headers.statusCode, 200, headers.body);
  assert.deepEqual(headers.json(), { headers: { 'x-team': 'ops' }, sensitive: ['authorization'] });
  assert.deepEqual((await h.call({ method: 'GET', url: `${path}/headers` })).json(), headers.json());
  const secret = (await h.call({ method: 'GET', url: `${path}/secret` })).json().key;
  assert.match(secret, /^whsec_/);
  const rotated = await h.call({ method: 'POST', url: `${path}/secret/rotate`, payload: {} });
  assert.equal(rotated.statusCode, 200, rotated.body);
  assert.notEqual((await h.call({ method: 'GET', url: `${path}/secret` })).json().key, secret);
  const attempts = await h.call({ method: 'GET', url: `${path}/attempt` });
  assert.deepEqual(attempts.json().data, []);

  // The environment export carries HTTP endpoints only.
  const exported = (await h.call({ method: 'POST', url: '/api/v1/environment/export' })).json();
  const [exportedApp] = exported.settings.hookyard.applications;
  assert.deepEqual(exportedApp.endpoints, []);

  // Endpoint routes do not see destinations, and destination routes do not see endpoints.
  const endpoint = await h.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/endpoint`,
    payload: { url: 'http://127.0.0.1:9/hook' },
  });
  const endpoints = (await h.call({ method: 'GET', url: `/api/v1/app/${app.id}/endpoint` })).json();
  assert.deepEqual(
    endpoints.data.map((item: { id: string }) => item.id),
    [endpoint.json().id],
  );
  assert.equal(
    (await h.call({ method: 'GET', url: `/api/v1/app/${app.id}/endpoint/sensor` })).statusCode,
    404,
  );
  assert.equal((await h.call({ method: 'GET', url: `${base}/${endpoint.json().id}` })).statusCode, 404);
  const list = (await h.call({ method: 'GET', url: base })).json();
  assert.deepEqual(
    list.data.map((item: { id: string }) => item.id),
    [destination.id],
  );
  // A uid is shared with endpoints: both are the application's delivery targets.
  assert.equal((await h.call({ method: 'DELETE', url: path })).statusCode, 204);

  const document = (await h.call({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  const operations = document.paths['/api/v1/app/{app_id}/destination/{destination_id}'];
  assert.deepEqual(Object.keys(operations).sort(), ['delete', 'get', 'patch', 'put']);
  assert.ok(document.components.schemas.DestinationIn);
  assert.equal((await h.call({ method: 'GET', url: path })).statusCode, 404);
});

forEachBackend((backend) => {
  test('a broker destination with batching is ordered; batching does not switch on or off', async (t) => {
    const h = await harness({}, backend);
    t.after(() => h.close());
    const app = (await h.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'B' } })).json();
    const base = `/api/v1/app/${app.id}/destination`;
    const config = { uri: 'amqp://u:p@127.0.0.1:5672', routingKey: 'orders' };
    const call = (method: 'POST' | 'PUT' | 'PATCH' | 'GET', url: string, payload?: object) =>
      h.call({ method, url, ...(payload ? { payload } : {}) });

    const batched = await call('POST', base, { type: 'rabbitMq', batchSize: 10, maxWaitSecs: 2, config });
    assert.equal(batched.statusCode, 201, batched.body);
    const ordered = batched.json();
    assert.equal(ordered.batchSize, 10);
    assert.equal(ordered.maxWaitSecs, 2);
    assert.equal(ordered.currentIterator, '');
    assert.deepEqual(ordered.config, { routingKey: 'orders' });
    assert.equal('egress' in ordered, false);
    const one = (await call('POST', base, { type: 'rabbitMq', config })).json();
    assert.equal(one.batchSize, 1);
    assert.equal(one.maxWaitSecs, 0);
    assert.equal('currentIterator' in one, false);

    // Messages: the batched one queues them in order, the per-message one gets deliveries.
    const msg = await call('POST', `/api/v1/app/${app.id}/msg`, {
      eventType: 'order.created',
      payload: { n: 1 },
    });
    assert.equal(msg.statusCode, 202, msg.body);
    const next = await call('GET', `${base}/${ordered.id}/next-event`);
    assert.equal(next.statusCode, 200, next.body);
    assert.deepEqual(JSON.parse(next.json().payload), { n: 1 });
    const perMessage = await call('GET', `${base}/${one.id}/next-event`);
    assert.equal(perMessage.statusCode, 404);
    assert.match(perMessage.json().detail, /without batching/);
    const deliveries = (await call('GET', `/api/v1/app/${app.id}/msg/${msg.json().id}/endpoint`)).json();
    assert.deepEqual(
      deliveries.data.map((item: { id: string }) => item.id),
      [one.id],
      'the ordered destination has no delivery of its own',
    );

    // Batching changes within ordered delivery; PATCH keeps what it leaves out.
    const resized = await call('PATCH', `${base}/${ordered.id}`, { batchSize: 50 });
    assert.equal(resized.statusCode, 200, resized.body);
    assert.equal(resized.json().batchSize, 50);
    assert.equal(resized.json().maxWaitSecs, 2);
    const routed = await call('PATCH', `${base}/${ordered.id}`, {
      type: 'rabbitMq',
      config: { routingKey: 'o2' },
    });
    assert.equal(routed.json().batchSize, 50, 'a config patch keeps the batching');
    assert.deepEqual(routed.json().config, { routingKey: 'o2' });
    const stored = await h.storage.endpoints.get(app.id, ordered.id);
    assert.equal(stored?.destination?.config['uri'], config.uri);

    // Switching off (PATCH to 1 and 0, or a PUT that leaves batching out) or on is refused.
    const off = await call('PATCH', `${base}/${ordered.id}`, { batchSize: 1, maxWaitSecs: 0 });
    assert.equal(off.statusCode, 422, off.body);
    assert.deepEqual(off.json().detail[0].loc, ['body', 'batchSize']);
    assert.match(
      off.json().detail[0].msg,
      /cannot switch to one message at a time.*create a new destination/,
    );
    const put = await call('PUT', `${base}/${ordered.id}`, { type: 'rabbitMq', config });
    assert.equal(put.statusCode, 422, put.body);
    const putKept = await call('PUT', `${base}/${ordered.id}`, { type: 'rabbitMq', batchSize: 5, config });
    assert.equal(putKept.statusCode, 200, putKept.body);
    assert.equal(putKept.json().maxWaitSecs, 0, 'a PUT returns what it leaves out to its default');
    const on = await call('PATCH', `${base}/${one.id}`, { maxWaitSecs: 3 });
    assert.equal(on.statusCode, 422, on.body);
    assert.deepEqual(on.json().detail[0].loc, ['body', 'maxWaitSecs']);
    assert.match(on.json().detail[0].msg, /cannot switch to ordered batches.*Create a new destination/);
    const toPolling = await call('PATCH', `${base}/${ordered.id}`, { type: 'pollingEndpoint' });
    assert.equal(toPolling.statusCode, 422, toPolling.body);
    const toRedis = await call('PATCH', `${base}/${ordered.id}`, {
      type: 'redisStream',
      config: { url: 'redis://127.0.0.1:6379', stream: 's' },
    });
    assert.equal(toRedis.statusCode, 200, toRedis.body);
    assert.equal(toRedis.json().batchSize, 5, 'another broker type keeps the queue and its batching');
    const still = await call('GET', `${base}/${ordered.id}/next-event`);
    assert.deepEqual(JSON.parse(still.json().payload), { n: 1 });
    assert.equal((await call('GET', `${base}/${one.id}`)).json().batchSize, 1);
  });
});
