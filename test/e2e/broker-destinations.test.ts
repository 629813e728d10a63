import assert from 'node:assert/strict';
import { after, before, type TestContext, test } from 'node:test';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { type IPublishPacket, connectAsync as mqttConnect } from 'mqtt';
import { connect as natsConnect } from 'nats';
import pg from 'pg';
import { sqliteBackend } from '../api/harness.ts';
import {
  assertVerifies,
  BROKERS,
  closedPort,
  createDestination,
  uniqueName,
  until,
} from '../helpers/brokers.ts';
import { pipeline } from '../helpers/pipeline.ts';
import { skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';

/**
 * The Destination API end to end, one test per broker type: a destination created through the API, a
 * message sent through the API, the dispatcher delivering it to the real broker on 127.0.0.1, and a
 * consumer reading it there and verifying the signature with the destination's secret.
 */
async function setUp(t: TestContext, destination: object) {
  const p = await pipeline(t, sqliteBackend());
  const { appId, base, secret } = await createDestination(p, 'Brokers', destination);
  await p.startDispatcher();
  const sent = await p.call({
    method: 'POST',
    url: `/api/v1/app/${appId}/msg`,
    payload: { eventType: 'invoice.paid', payload: { invoice: 'inv_1', amount: 42 } },
  });
  assert.equal(sent.statusCode, 202, sent.body);
  const msgId: string = sent.json().id;
  /** The destination's attempts once one succeeded (the API's view of the delivery). */
  const succeeded = async () => {
    const attempts = async () => (await p.call({ method: 'GET', url: `${base}/attempt` })).json().data;
    await until(async () => (await attempts()).length > 0);
    const [attempt] = await attempts();
    assert.equal(attempt.statusText, 'success', JSON.stringify(attempt));
    assert.equal(attempt.firstMsgId, msgId);
  };
  return { secret, msgId, succeeded };
}

const verify = (secret: string, msgId: string, body: string, headers: Record<string, string>) => {
  assert.equal(headers['webhook-id'], msgId);
  assert.equal(headers['x-team'], 'billing');
  assert.deepEqual(JSON.parse(body), { invoice: 'inv_1', amount: 42 });
  assertVerifies(secret, body, headers);
};

let rabbit: ChannelModel;
let channel: Channel;
before(async () => {
  rabbit = await amqp.connect(BROKERS.rabbitMq);
  channel = await rabbit.createChannel();
});
after(() => rabbit.close());

test('rabbitMq: the message reaches a queue, signed', async (t) => {
  const queue = uniqueName('hookyard_e2e');
  const received: ConsumeMessage[] = [];
  await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
  await channel.consume(queue, (message) => message && received.push(message), { noAck: true });
  const { secret, msgId, succeeded } = await setUp(t, {
    type: 'rabbitMq',
    config: { uri: BROKERS.rabbitMq, routingKey: queue },
  });
  await until(() => received.length === 1);
  const [message] = received;
  assert.ok(message);
  const headers = Object.fromEntries(
    Object.entries(message.properties.headers ?? {}).map(([k, v]) => [k, String(v)]),
  );
  verify(secret, msgId, message.content.toString(), headers);
  await succeeded();
});

test('redisStream: the message is an entry of the stream, signed', async (t) => {
  const redis = new Redis(BROKERS.redis);
  const stream = uniqueName('hookyard:e2e');
  t.after(async () => {
    await redis.del(stream);
    redis.disconnect();
  });
  const { secret, msgId, succeeded } = await setUp(t, {
    type: 'redisStream',
    config: { url: BROKERS.redis, stream, maxLen: 1000 },
  });
  await until(async () => (await redis.xlen(stream)) === 1);
  const [[, flat] = ['', []]] = await redis.xrange(stream, '-', '+');
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  const { payload = '', ...headers } = fields;
  verify(secret, msgId, payload, headers);
  await succeeded();
});

test('natsJetStream: the message is stored by the stream, signed', async (t) => {
  const nats = await natsConnect({ servers: '127.0.0.1:4222' });
  const manager = await nats.jetstreamManager();
  const name = uniqueName('HOOKYARD_E2E').toUpperCase();
  const subject = `hookyard.e2e.${name.toLowerCase()}`;
  await manager.streams.add({ name, subjects: [subject] });
  t.after(async () => {
    await manager.streams.delete(name);
    await nats.close();
  });
  const { secret, msgId, succeeded } = await setUp(t, {
    type: 'natsJetStream',
    config: { url: BROKERS.nats, subject },
  });
  await until(async () => (await manager.streams.info(name)).state.messages === 1);
  const stored = await manager.streams.getMessage(name, { seq: 1 });
  const headers: Record<string, string> = {};
  for (const [key] of stored.header) headers[key.toLowerCase()] = stored.header.get(key);
  verify(secret, msgId, Buffer.from(stored.data).toString(), headers);
  await succeeded();
});

test('mqtt: a subscriber receives the message, signed', async (t) => {
  const topic = `hookyard/e2e/${uniqueName('t')}`;
  const received: { body: string; packet: IPublishPacket }[] = [];
  const subscriber = await mqttConnect(BROKERS.mqtt, { protocolVersion: 5, clientId: uniqueName('e2e') });
  subscriber.on('message', (_topic, payload, packet) => received.push({ body: payload.toString(), packet }));
  await subscriber.subscribeAsync(topic, { qos: 1 });
  t.after(() => subscriber.endAsync());
  const { secret, msgId, succeeded } = await setUp(t, { type: 'mqtt', config: { url: BROKERS.mqtt, topic } });
  await until(() => received.length === 1);
  const [entry] = received;
  assert.ok(entry);
  const properties = entry.packet.properties?.userProperties ?? {};
  const headers = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)]));
  verify(secret, msgId, entry.body, headers);
  await succeeded();
});

test('postgres: the message is a row of the table, signed', { skip: skipWithoutPostgres }, async (t) => {
  const url = testDatabaseUrl ?? '';
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schema = uniqueName('hookyard_e2e');
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.webhooks (
    webhook_id text PRIMARY KEY, webhook_timestamp timestamptz NOT NULL, event_type text NOT NULL,
    webhook_signature text NOT NULL, payload text NOT NULL)`);
  t.after(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  const { secret, msgId, succeeded } = await setUp(t, {
    type: 'postgres',
    config: { url, tableName: `${schema}.webhooks` },
  });
  const rows = async () => (await admin.query(`SELECT * FROM ${schema}.webhooks`)).rows;
  await until(async () => (await rows()).length === 1);
  const [row] = await rows();
  verify(secret, msgId, row.payload, {
    'webhook-id': row.webhook_id,
    'webhook-timestamp': String(row.webhook_timestamp.getTime() / 1000),
    'webhook-signature': row.webhook_signature,
    'webhook-event-type': row.event_type,
    'x-team': 'billing',
  });
  await succeeded();
});

test('a broker that is down fails and retries its own deliveries; another destination still receives', async (t) => {
  const p = await pipeline(t, sqliteBackend(), { settings: { retrySchedule: '50ms,50ms' } });
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Down' } })).json();
  const create = async (payload: object) =>
    (await p.call({ method: 'POST', url: `/api/v1/app/${app.id}/destination`, payload })).json().id as string;
  const down = await create({
    type: 'rabbitMq',
    config: { uri: `amqp://127.0.0.1:${await closedPort()}`, routingKey: 'q' },
  });
  const redis = new Redis(BROKERS.redis);
  const stream = uniqueName('hookyard:e2e');
  t.after(async () => {
    await redis.del(stream);
    redis.disconnect();
  });
  await create({ type: 'redisStream', config: { url: BROKERS.redis, stream } });
  await p.startDispatcher();
  const sent = await p.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/msg`,
    payload: { eventType: 'invoice.paid', payload: { n: 1 } },
  });
  assert.equal(sent.statusCode, 202);
  await until(async () => (await redis.xlen(stream)) === 1);
  const attempts = async () =>
    (await p.call({ method: 'GET', url: `/api/v1/app/${app.id}/destination/${down}/attempt` })).json().data;
  // The first attempt and both retries of the schedule, each a failure.
  await until(async () => (await attempts()).length === 3);
  for (const attempt of await attempts()) assert.equal(attempt.statusText, 'fail');
});
