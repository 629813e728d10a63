import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, test } from 'node:test';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { connectAsync as mqttConnect } from 'mqtt';
import { connect as natsConnect } from 'nats';
import pg from 'pg';
import { Svix } from 'svix2';
import { sqliteBackend } from '../api/harness.ts';
import { forEachBackend } from '../helpers/backends.ts';
import {
  assertVerifies,
  BROKERS,
  closedPort,
  createDestination,
  destinationWithHeader,
  uniqueName,
  until,
} from '../helpers/brokers.ts';
import { ADMIN_TOKEN, type Pipeline, pipeline } from '../helpers/pipeline.ts';
import { skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';

/**
 * Broker destinations with batching (`batchSize` > 1 or `maxWaitSecs` > 0), end to end: created
 * through the API (one through the SDK 2.x), messages sent through the API, the ordered loop
 * publishing each message of a batch as its own broker message to the real broker on 127.0.0.1, in
 * acceptance order, and a consumer verifying every signature with the destination's secret; the
 * destination's attempts are one per batch.
 */

interface Attempt {
  statusText: string;
  firstMsgId: string;
  lastMsgId: string;
  numEvents: number;
}

async function setUp(p: Pipeline, destination: object) {
  const { appId, id } = await createDestination(p, 'Batches', destination);
  return destinationOf(p, appId, id);
}

async function destinationOf(p: Pipeline, appId: string, id: string) {
  const { base, secret } = await destinationWithHeader(p, appId, id);
  /** Sends `count` messages numbered from `from`, in order; their ids. */
  const send = async (count: number, from = 1) => {
    const ids: string[] = [];
    for (let n = from; n < from + count; n++) {
      const sent = await p.call({
        method: 'POST',
        url: `/api/v1/app/${appId}/msg`,
        payload: { eventType: 'invoice.paid', payload: { n } },
      });
      assert.equal(sent.statusCode, 202, sent.body);
      ids.push(sent.json().id);
    }
    return ids;
  };
  /** Oldest first. */
  const attempts = async (): Promise<Attempt[]> =>
    (await p.call({ method: 'GET', url: `${base}/attempt?limit=250` })).json().data.reverse();
  const read = async () => (await p.call({ method: 'GET', url: base })).json();
  return { appId, id, base, secret, send, attempts, read };
}

/** A received message as a consumer checks it: its own webhook id, its signature, the destination's header. */
function verify(secret: string, msgId: string, body: string, headers: Record<string, string>) {
  assert.equal(headers['webhook-id'], msgId);
  assert.equal(headers['x-team'], 'billing');
  assertVerifies(secret, body, headers);
}

const numberOf = (body: string) => (JSON.parse(body) as { n: number }).n;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const amqpHeaders = (message: ConsumeMessage) =>
  Object.fromEntries(Object.entries(message.properties.headers ?? {}).map(([k, v]) => [k, String(v)]));

let rabbit: ChannelModel;
let channel: Channel;
before(async () => {
  rabbit = await amqp.connect(BROKERS.rabbitMq);
  channel = await rabbit.createChannel();
});
after(() => rabbit.close());

async function consumeQueue(queue: string): Promise<ConsumeMessage[]> {
  const received: ConsumeMessage[] = [];
  await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
  await channel.consume(queue, (message) => message && received.push(message), { noAck: true });
  return received;
}

forEachBackend((backend) => {
  test('rabbitMq with batchSize 5: every message in order, each signed, one attempt per batch', async (t) => {
    const p = await pipeline(t, backend);
    const queue = uniqueName('hookyard_batch');
    const received = await consumeQueue(queue);
    const d = await setUp(p, {
      type: 'rabbitMq',
      batchSize: 5,
      config: { uri: BROKERS.rabbitMq, routingKey: queue },
    });
    const shown = await d.read();
    assert.equal(shown.batchSize, 5);
    assert.equal(shown.maxWaitSecs, 0);
    assert.equal(shown.currentIterator, '');
    assert.deepEqual(shown.config, { routingKey: queue }, 'the batching is not part of the config shown');
    // Queued before any worker runs, so the batches are exactly 5, 5 and 2.
    const ids = await d.send(12);
    const next = await p.call({ method: 'GET', url: `${d.base}/next-event` });
    assert.equal(next.statusCode, 200, next.body);
    assert.deepEqual(JSON.parse(next.json().payload), { n: 1 });

    await p.startDispatcher();
    await until(() => received.length >= 12, 60_000);
    await until(async () => (await d.attempts()).length >= 3, 60_000);
    assert.deepEqual(
      received.map((message) => numberOf(message.content.toString())),
      range(1, 12),
    );
    received.forEach((message, index) => {
      verify(d.secret, ids[index]!, message.content.toString(), amqpHeaders(message));
      assert.equal(message.properties.messageId, ids[index]);
    });
    assert.deepEqual(
      (await d.attempts()).map((a) => [a.statusText, a.firstMsgId, a.lastMsgId, a.numEvents]),
      [
        ['success', ids[0], ids[4], 5],
        ['success', ids[5], ids[9], 5],
        ['success', ids[10], ids[11], 2],
      ],
    );
    const done = await d.read();
    assert.equal(done.currentIterator, ids[11]);
    assert.equal(done.status, 'enabled');
    assert.equal((await p.call({ method: 'GET', url: `${d.base}/next-event` })).statusCode, 404);
    const acked = await p.call({ method: 'GET', url: `${d.base}/last-acked-event` });
    assert.deepEqual(JSON.parse(acked.json().payload), { n: 12 });
  });
});

test('redisStream with batchSize 3: the stream holds every message in order, each signed', async (t) => {
  const p = await pipeline(t, sqliteBackend());
  const redis = new Redis(BROKERS.redis);
  const stream = uniqueName('hookyard:batch');
  t.after(async () => {
    await redis.del(stream);
    redis.disconnect();
  });
  const d = await setUp(p, { type: 'redisStream', batchSize: 3, config: { url: BROKERS.redis, stream } });
  const ids = await d.send(7);
  await p.startDispatcher();
  await until(async () => (await redis.xlen(stream)) >= 7, 60_000);
  const entries = await redis.xrange(stream, '-', '+');
  const bodies = entries.map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return fields;
  });
  assert.deepEqual(
    bodies.map((fields) => numberOf(fields['payload'] ?? '')),
    range(1, 7),
  );
  for (const [index, { payload = '', ...headers }] of bodies.entries())
    verify(d.secret, ids[index]!, payload, headers);
  await until(async () => (await d.attempts()).length >= 3, 60_000);
  assert.deepEqual(
    (await d.attempts()).map((a) => a.numEvents),
    [3, 3, 1],
  );
});

test('postgres with batchSize 4: each batch is one transaction of rows, in order, each signed', {
  skip: skipWithoutPostgres,
}, async (t) => {
  const url = testDatabaseUrl ?? '';
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schema = uniqueName('hookyard_batch');
  // `n` numbers the rows in the order they were inserted.
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.webhooks (
    n bigserial, webhook_id text PRIMARY KEY, webhook_timestamp timestamptz NOT NULL,
    event_type text NOT NULL, webhook_signature text NOT NULL, payload text NOT NULL)`);
  t.after(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  const p = await pipeline(t, sqliteBackend());
  const d = await setUp(p, {
    type: 'postgres',
    batchSize: 4,
    config: { url, tableName: `${schema}.webhooks` },
  });
  const ids = await d.send(10);
  await p.startDispatcher();
  await until(async () => (await d.attempts()).length >= 3, 60_000);
  const rows = (await admin.query(`SELECT * FROM ${schema}.webhooks ORDER BY n`)).rows;
  assert.deepEqual(
    rows.map((row) => row.webhook_id),
    ids,
  );
  for (const row of rows)
    verify(d.secret, row.webhook_id, row.payload, {
      'webhook-id': row.webhook_id,
      'webhook-timestamp': String(row.webhook_timestamp.getTime() / 1000),
      'webhook-signature': row.webhook_signature,
      'webhook-event-type': row.event_type,
      'x-team': 'billing',
    });
  const attempts = await d.attempts();
  assert.deepEqual(
    attempts.map((a) => [a.statusText, a.numEvents]),
    [
      ['success', 4],
      ['success', 4],
      ['success', 2],
    ],
  );
  // One INSERT per batch: the transaction ids of a batch's rows are one.
  const transactions = await admin.query(
    `SELECT count(DISTINCT xmin::text)::int AS n FROM ${schema}.webhooks`,
  );
  assert.equal(transactions.rows[0].n, 3);
});

/** A TCP proxy on a given port to the local RabbitMQ, standing in for a broker that comes up late. */
async function rabbitOnPort(port: number) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect({ host: '127.0.0.1', port: 5672 });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {}).on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a batched rabbitMq destination whose broker is down blocks only itself, then drains in order', async (t) => {
  const p = await pipeline(t, sqliteBackend(), {
    settings: { retrySchedule: Array.from({ length: 40 }, () => '200ms').join(',') },
  });
  const port = await closedPort();
  const queue = uniqueName('hookyard_down');
  const up = uniqueName('hookyard_up');
  const received = await consumeQueue(queue);
  const other = await consumeQueue(up);
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Down' } })).json();
  const create = async (payload: object) => {
    const created = await p.call({ method: 'POST', url: `/api/v1/app/${app.id}/destination`, payload });
    assert.equal(created.statusCode, 201, created.body);
    return destinationOf(p, app.id, created.json().id);
  };
  const down = await create({
    type: 'rabbitMq',
    batchSize: 3,
    config: { uri: `amqp://guest:guest@127.0.0.1:${port}`, routingKey: queue },
  });
  await create({ type: 'rabbitMq', batchSize: 3, config: { uri: BROKERS.rabbitMq, routingKey: up } });
  await p.startDispatcher();
  const ids = await down.send(8);
  // The other destination, on a broker that is up, gets all of its messages meanwhile.
  await until(() => other.length >= 8, 60_000);
  assert.deepEqual(
    other.map((message) => numberOf(message.content.toString())),
    range(1, 8),
  );
  await until(async () => (await down.attempts()).length >= 2, 60_000);
  const failing = await down.read();
  assert.equal(failing.status, 'retrying');
  assert.match(failing.failureReason, /message 1 of \d/);
  assert.equal(failing.currentIterator, '');
  for (const attempt of await down.attempts()) {
    assert.equal(attempt.statusText, 'fail');
    assert.equal(attempt.firstMsgId, ids[0], 'every retry starts from the head of the queue');
  }
  assert.equal(received.length, 0);

  const broker = await rabbitOnPort(port);
  t.after(() => broker.close());
  await until(() => received.length >= 8, 60_000);
  assert.deepEqual(
    received.map((message) => numberOf(message.content.toString())),
    range(1, 8),
  );
  for (const [index, message] of received.entries())
    verify(down.secret, ids[index]!, message.content.toString(), amqpHeaders(message));
  await until(async () => (await down.read()).currentIterator === ids[7], 60_000);
  assert.equal((await down.read()).status, 'enabled');
});

test('a publish that fails part-way retries the batch whole: a repeat, never a reorder', async (t) => {
  const p = await pipeline(t, sqliteBackend(), {
    settings: { retrySchedule: Array.from({ length: 40 }, () => '100ms').join(',') },
  });
  const queue = uniqueName('hookyard_part');
  const received = await consumeQueue(queue);
  // A headers exchange routes each message by its own headers: only invoice.paid is bound at first,
  // so the batch's third message (invoice.voided) is returned, after the first two were confirmed.
  const exchange = uniqueName('hookyard_part_x');
  await channel.assertExchange(exchange, 'headers', { autoDelete: true });
  const binding = (eventType: string) => ({ 'x-match': 'all', 'webhook-event-type': eventType });
  await channel.bindQueue(queue, exchange, '', binding('invoice.paid'));
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Part' } })).json();
  const created = await p.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/destination`,
    payload: {
      type: 'rabbitMq',
      batchSize: 5,
      config: { uri: BROKERS.rabbitMq, routingKey: 'any', exchange },
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const d = await destinationOf(p, app.id, created.json().id);
  const ids: string[] = [];
  for (let n = 1; n <= 5; n++) {
    const eventType = n === 3 ? 'invoice.voided' : 'invoice.paid';
    const sent = await p.call({
      method: 'POST',
      url: `/api/v1/app/${app.id}/msg`,
      payload: { eventType, payload: { n } },
    });
    ids.push(sent.json().id);
  }
  await p.startDispatcher();
  await until(async () => (await d.attempts()).length >= 1 && received.length >= 2, 60_000);
  const [first] = await d.attempts();
  assert.equal(first?.statusText, 'fail');
  assert.equal(first?.numEvents, 5);
  assert.match((await d.read()).failureReason, /message 3 of 5/);
  await channel.bindQueue(queue, exchange, '', binding('invoice.voided'));
  await until(async () => (await d.read()).currentIterator === ids[4], 60_000);
  const numbers = received.map((message) => numberOf(message.content.toString()));
  // Each try published from the head of the batch: runs of 1, 2 (failed at 3), then 1..5.
  const runs: number[][] = [];
  for (const n of numbers) {
    if (n === 1) runs.push([]);
    runs.at(-1)?.push(n);
  }
  assert.ok(runs.length >= 2, JSON.stringify(numbers));
  for (const run of runs.slice(0, -1)) assert.deepEqual(run, [1, 2]);
  assert.deepEqual(runs.at(-1), range(1, 5));
});

test('the SDK 2.x creates a rabbitMq destination with batchSize, and it is delivered in batches', async (t) => {
  const p = await pipeline(t, sqliteBackend());
  await p.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = p.app.server.address() as AddressInfo;
  const svix = new Svix(ADMIN_TOKEN, { serverUrl: `http://127.0.0.1:${port}` });
  const app = await svix.application.create({ name: 'Sdk' });
  const queue = uniqueName('hookyard_sdk');
  const received = await consumeQueue(queue);
  const created = await svix.destination.create(app.id, {
    type: 'rabbitMq',
    batchSize: 4,
    maxWaitSecs: 0,
    config: { uri: BROKERS.rabbitMq, routingKey: queue },
  });
  assert.equal(created.type, 'rabbitMq');
  assert.equal(created.batchSize, 4);
  assert.equal(created.currentIterator, '');
  const read = await svix.destination.get(app.id, created.id);
  assert.equal(read.batchSize, 4);
  const patched = await svix.destination.patch(app.id, created.id, {
    type: 'rabbitMq',
    config: {},
    batchSize: 2,
  });
  assert.equal(patched.batchSize, 2);
  const ids: string[] = [];
  for (let n = 1; n <= 5; n++)
    ids.push((await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { n } })).id);
  await p.startDispatcher();
  await until(() => received.length >= 5, 60_000);
  assert.deepEqual(
    received.map((message) => numberOf(message.content.toString())),
    range(1, 5),
  );
  const d = await destinationOf(p, app.id, created.id);
  await until(async () => (await d.attempts()).length >= 3, 60_000);
  assert.deepEqual(
    (await d.attempts()).map((a) => a.numEvents),
    [2, 2, 1],
  );
  assert.equal((await svix.destination.get(app.id, created.id)).currentIterator, ids[4]);
});

test('an expunged payload ends the batch before it, then stops the destination until it is skipped', async (t) => {
  const p = await pipeline(t, sqliteBackend());
  const queue = uniqueName('hookyard_expunged');
  const received = await consumeQueue(queue);
  const d = await setUp(p, {
    type: 'rabbitMq',
    batchSize: 5,
    config: { uri: BROKERS.rabbitMq, routingKey: queue },
  });
  const ids = await d.send(4);
  const expunged = await p.call({ method: 'DELETE', url: `/api/v1/app/${d.appId}/msg/${ids[2]}/content` });
  assert.equal(expunged.statusCode, 204, expunged.body);
  await p.startDispatcher();
  await until(async () => (await d.read()).status === 'paused', 60_000);
  assert.deepEqual(
    received.map((message) => numberOf(message.content.toString())),
    [1, 2],
  );
  const stopped = await d.read();
  assert.equal(stopped.currentIterator, ids[1]);
  assert.match(stopped.failureReason, new RegExp(`payload of ${ids[2]} was expunged.*skip it`));
  assert.deepEqual(
    (await d.attempts()).map((a) => [a.statusText, a.firstMsgId, a.numEvents]),
    [
      ['success', ids[0], 2],
      ['fail', ids[2], 1],
    ],
  );
  const skipped = await p.call({ method: 'POST', url: `${d.base}/skip`, payload: { iterator: ids[2] } });
  assert.equal(skipped.statusCode, 204, skipped.body);
  await until(() => received.length >= 3, 60_000);
  assert.equal(numberOf(received[2]!.content.toString()), 4);
  await until(async () => (await d.read()).currentIterator === ids[3], 60_000);
});

test('natsJetStream and mqtt with batchSize 3: every message in order, each signed', async (t) => {
  const p = await pipeline(t, sqliteBackend());
  const nats = await natsConnect({ servers: '127.0.0.1:4222' });
  const manager = await nats.jetstreamManager();
  const name = uniqueName('HOOKYARD_BATCH').toUpperCase();
  const subject = `hookyard.batch.${name.toLowerCase()}`;
  await manager.streams.add({ name, subjects: [subject] });
  const topic = `hookyard/batch/${uniqueName('t')}`;
  const delivered: { body: string; headers: Record<string, string> }[] = [];
  const subscriber = await mqttConnect(BROKERS.mqtt, { protocolVersion: 5, clientId: uniqueName('batch') });
  subscriber.on('message', (_topic, payload, packet) => {
    const properties = packet.properties?.userProperties ?? {};
    delivered.push({
      body: payload.toString(),
      headers: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)])),
    });
  });
  await subscriber.subscribeAsync(topic, { qos: 1 });
  t.after(async () => {
    await subscriber.endAsync();
    await manager.streams.delete(name);
    await nats.close();
  });
  const jet = await setUp(p, { type: 'natsJetStream', batchSize: 3, config: { url: BROKERS.nats, subject } });
  const mqtt = await destinationOf(
    p,
    jet.appId,
    (
      await p.call({
        method: 'POST',
        url: `/api/v1/app/${jet.appId}/destination`,
        payload: { type: 'mqtt', batchSize: 3, config: { url: BROKERS.mqtt, topic } },
      })
    ).json().id,
  );
  const ids = await jet.send(7);
  await p.startDispatcher();
  await until(async () => (await manager.streams.info(name)).state.messages >= 7, 60_000);
  for (let seq = 1; seq <= 7; seq++) {
    const stored = await manager.streams.getMessage(name, { seq });
    const headers: Record<string, string> = {};
    for (const [key] of stored.header) headers[key.toLowerCase()] = stored.header.get(key);
    const body = Buffer.from(stored.data).toString();
    assert.equal(numberOf(body), seq);
    verify(jet.secret, ids[seq - 1]!, body, headers);
  }
  await until(() => delivered.length >= 7, 60_000);
  assert.deepEqual(
    delivered.map((entry) => numberOf(entry.body)),
    range(1, 7),
  );
  for (const [index, entry] of delivered.entries())
    verify(mqtt.secret, ids[index]!, entry.body, entry.headers);
  for (const d of [jet, mqtt]) {
    await until(async () => (await d.read()).currentIterator === ids[6], 60_000);
    assert.deepEqual(
      (await d.attempts()).map((a) => a.numEvents),
      [3, 3, 1],
    );
  }
});
