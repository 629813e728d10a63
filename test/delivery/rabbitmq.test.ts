import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { createRabbitMqPublisher } from '../../src/delivery/brokers/rabbitmq.ts';
import {
  assertOutcome,
  assertVerifies,
  BROKERS,
  closedPort,
  defaultGuard,
  fastBackoff,
  loopbackGuard,
  signedMessage,
  startSilentServer,
  startTcpProxy,
  uniqueName,
  until,
} from '../helpers/brokers.ts';

let consumer: ChannelModel;
let channel: Channel;

before(async () => {
  consumer = await amqp.connect(BROKERS.rabbitMq);
  channel = await consumer.createChannel();
});
after(async () => {
  await consumer.close();
});

async function queueWithConsumer(): Promise<{ name: string; received: ConsumeMessage[] }> {
  const name = uniqueName('hookyard_test');
  const received: ConsumeMessage[] = [];
  await channel.assertQueue(name, { exclusive: true, autoDelete: true });
  await channel.consume(name, (message) => message && received.push(message), { noAck: true });
  return { name, received };
}

function amqpHeaders(message: ConsumeMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(message.properties.headers ?? {}).map(([k, v]) => [k, String(v)]));
}

test('a confirmed publish reaches a consumer with the webhook headers, and the signature verifies', async () => {
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard });
  try {
    const queue = await queueWithConsumer();
    const { message, secret, id } = signedMessage();
    const outcome = await publisher.publish({ uri: BROKERS.rabbitMq, routingKey: queue.name }, message, 5000);
    assertOutcome(outcome, 'success', /confirmed by RabbitMQ \(the default exchange/);
    await until(() => queue.received.length === 1);
    const [received] = queue.received;
    assert.ok(received);
    assert.equal(received.content.toString(), message.body);
    assert.equal(received.properties.messageId, id);
    assert.equal(received.properties.type, 'invoice.paid');
    assert.equal(received.properties.deliveryMode, 2);
    assertVerifies(secret, received.content.toString(), amqpHeaders(received));
    // The same connection serves the next publish.
    assertOutcome(
      await publisher.publish({ uri: BROKERS.rabbitMq, routingKey: queue.name }, message, 5000),
      'success',
    );
    assert.equal(publisher.connections(), 1);
  } finally {
    await publisher.close();
  }
});

test('a named exchange routes by the routing key', async () => {
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard });
  const exchange = uniqueName('hookyard_x');
  try {
    await channel.assertExchange(exchange, 'topic', { autoDelete: true });
    const queue = await queueWithConsumer();
    await channel.bindQueue(queue.name, exchange, 'invoice.*');
    const { message } = signedMessage();
    const config = { uri: BROKERS.rabbitMq, exchange, routingKey: 'invoice.paid' };
    assertOutcome(
      await publisher.publish(config, message, 5000),
      'success',
      new RegExp(`exchange '${exchange}'`),
    );
    await until(() => queue.received.length === 1);
  } finally {
    await publisher.close();
    await channel.deleteExchange(exchange).catch(() => {});
  }
});

test('a message no queue would receive is a retryable failure, not a silent success', async () => {
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard });
  try {
    const { message } = signedMessage();
    const outcome = await publisher.publish(
      { uri: BROKERS.rabbitMq, routingKey: uniqueName('nobody') },
      message,
      5000,
    );
    assertOutcome(outcome, 'retryable', /no queue is bound/);
  } finally {
    await publisher.close();
  }
});

test('a missing exchange is retryable and the publisher recovers on the next publish', async () => {
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard });
  try {
    const { message } = signedMessage();
    const missing = { uri: BROKERS.rabbitMq, exchange: uniqueName('missing'), routingKey: 'x' };
    assertOutcome(await publisher.publish(missing, message, 5000), 'retryable', /NOT_FOUND/);
    const queue = await queueWithConsumer();
    assertOutcome(
      await publisher.publish({ uri: BROKERS.rabbitMq, routingKey: queue.name }, message, 5000),
      'success',
    );
  } finally {
    await publisher.close();
  }
});

test('a broker that is down gives a retryable outcome at once, then backs off', async () => {
  const publisher = createRabbitMqPublisher({
    guard: loopbackGuard,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  try {
    const { message } = signedMessage();
    const config = { uri: `amqp://guest:guest@127.0.0.1:${await closedPort()}`, routingKey: 'q' };
    assertOutcome(
      await publisher.publish(config, message, 5000),
      'retryable',
      /cannot connect: .*ECONNREFUSED/,
    );
    const second = await publisher.publish(config, message, 5000);
    assertOutcome(second, 'retryable', /next connection attempt in \d+ ms/);
    assert.ok(second.kind === 'retryable' && (second.retryAfterMs ?? 0) > 1000);
  } finally {
    await publisher.close();
  }
});

test('a broker that accepts the connection and never answers times out as retryable', async () => {
  const silent = await startSilentServer();
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard });
  try {
    const { message } = signedMessage();
    const config = { uri: `amqp://guest:guest@127.0.0.1:${silent.port}`, routingKey: 'q' };
    assertOutcome(
      await publisher.publish(config, message, 300),
      'retryable',
      /timed out after 300 ms connecting/,
    );
  } finally {
    await publisher.close();
    await silent.close();
  }
});

test('after the connection drops, the next publish reconnects', async () => {
  const proxy = await startTcpProxy(5672);
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const queue = await queueWithConsumer();
    const config = { uri: `amqp://guest:guest@127.0.0.1:${proxy.port}`, routingKey: queue.name };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.dropAll();
    await until(() => publisher.connections() === 0);
    await until(
      async () => (await publisher.publish(config, signedMessage().message, 5000)).kind === 'success',
    );
    assert.equal(proxy.accepted(), 2);
    await until(() => queue.received.length >= 2);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('a publish waiting for its confirmation fails as soon as the connection drops', async () => {
  const proxy = await startTcpProxy(5672);
  const publisher = createRabbitMqPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const queue = await queueWithConsumer();
    const config = { uri: `amqp://guest:guest@127.0.0.1:${proxy.port}`, routingKey: queue.name };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.holdReplies();
    const pending = publisher.publish(config, signedMessage().message, 600_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.dropAll();
    const outcome = await pending;
    assert.equal(outcome.kind, 'retryable', JSON.stringify(outcome));
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('the address guard applies to the broker host; bad config is permanent', async () => {
  const publisher = createRabbitMqPublisher({ guard: defaultGuard });
  try {
    const { message } = signedMessage();
    assertOutcome(
      await publisher.publish({ uri: BROKERS.rabbitMq, routingKey: 'q' }, message, 5000),
      'permanent',
      /loopback; blocked by the address guard/,
    );
    assertOutcome(
      await publisher.publish({ uri: 'amqp://localhost:5672', routingKey: 'q' }, message, 5000),
      'permanent',
      /blocked by the address guard/,
    );
    assertOutcome(
      await publisher.publish({ uri: 'http://example.com', routingKey: 'q' }, message, 5000),
      'permanent',
      /uri must use amqp:\/\/ or amqps:\/\//,
    );
    assertOutcome(
      await publisher.publish({ uri: 'not a url', routingKey: 'q' }, message, 5000),
      'permanent',
      /uri is not a valid URL/,
    );
  } finally {
    await publisher.close();
  }
});
