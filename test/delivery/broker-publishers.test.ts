import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import type { BrokerDestination } from '../../src/delivery/brokers/broker-config.ts';
import { createBrokerPublishers } from '../../src/delivery/brokers/broker-publishers.ts';
import {
  assertOutcome,
  BROKERS,
  loopbackGuard,
  signedMessage,
  startSilentServer,
  uniqueName,
} from '../helpers/brokers.ts';

test('the registry routes each destination to its type, and refuses an unknown type', async () => {
  const publishers = createBrokerPublishers({ guard: loopbackGuard });
  const redis = new Redis(BROKERS.redis);
  const stream = uniqueName('hookyard:registry');
  try {
    const { message } = signedMessage();
    const outcome = await publishers.publish(
      { type: 'redisStream', config: { url: BROKERS.redis, stream } },
      message,
      5000,
    );
    assertOutcome(outcome, 'success', /added to stream/);
    assert.equal(await redis.xlen(stream), 1);
    const unknown = { type: 'kafka', config: {} } as unknown as BrokerDestination;
    assertOutcome(
      await publishers.publish(unknown, message, 5000),
      'permanent',
      /unknown destination type kafka/,
    );
  } finally {
    await publishers.close();
    await redis.del(stream);
    redis.disconnect();
  }
});

test('a broker that hangs does not hold up publishes to another', async () => {
  const publishers = createBrokerPublishers({ guard: loopbackGuard });
  const silent = await startSilentServer();
  const redis = new Redis(BROKERS.redis);
  const stream = uniqueName('hookyard:isolation');
  try {
    const { message } = signedMessage();
    let hungDone = false;
    const hung = publishers
      .publish(
        { type: 'rabbitMq', config: { uri: `amqp://127.0.0.1:${silent.port}`, routingKey: 'q' } },
        message,
        5000,
      )
      .then((outcome) => {
        hungDone = true;
        return outcome;
      });
    const healthy = await publishers.publish(
      { type: 'redisStream', config: { url: BROKERS.redis, stream } },
      message,
      5000,
    );
    assertOutcome(healthy, 'success');
    assert.equal(hungDone, false);
    assertOutcome(await hung, 'retryable', /timed out after 5000 ms connecting/);
  } finally {
    await publishers.close();
    await silent.close();
    await redis.del(stream);
    redis.disconnect();
  }
});

test('a publish stops waiting when its signal aborts (shutdown)', async () => {
  const publishers = createBrokerPublishers({ guard: loopbackGuard });
  const silent = await startSilentServer();
  try {
    const controller = new AbortController();
    const pending = publishers.publish(
      { type: 'mqtt', config: { url: `mqtt://127.0.0.1:${silent.port}`, topic: 't' } },
      signedMessage().message,
      600_000,
      controller.signal,
    );
    controller.abort();
    assertOutcome(await pending, 'retryable', /aborted: the process is shutting down/);
  } finally {
    await publishers.close();
    await silent.close();
  }
});

test('a batch is published in turn; the first failure ends it, naming the message, after the ones before it', async () => {
  const publishers = createBrokerPublishers({ guard: loopbackGuard });
  const nats = await natsConnect({ servers: '127.0.0.1:4222' });
  const manager = await nats.jetstreamManager();
  const name = uniqueName('HOOKYARD_EACH').toUpperCase();
  const subject = `hookyard.each.${name.toLowerCase()}`;
  await manager.streams.add({ name, subjects: [subject] });
  try {
    const destination: BrokerDestination = { type: 'natsJetStream', config: { url: BROKERS.nats, subject } };
    const batch = [signedMessage({ n: 1 }), signedMessage({ n: 2 })];
    assertOutcome(
      await publishers.publishEach(
        destination,
        batch.map((entry) => entry.message),
        5000,
      ),
      'success',
      /^2 messages, each confirmed; the last: stored by JetStream/,
    );
    // The second message is over the server's max_payload: the first of this batch is stored, the third never sent.
    const tooBig = signedMessage({ blob: 'x'.repeat(2 * 1024 * 1024) });
    const outcome = await publishers.publishEach(
      destination,
      [signedMessage({ n: 3 }).message, tooBig.message, signedMessage({ n: 4 }).message],
      5000,
    );
    assertOutcome(outcome, 'permanent', new RegExp(`^message 2 of 3 \\(${tooBig.id}\\)`));
    const stored = await manager.streams.info(name);
    assert.equal(stored.state.messages, 3);
    const numbers: number[] = [];
    for (let seq = 1; seq <= 3; seq++)
      numbers.push(
        JSON.parse(Buffer.from((await manager.streams.getMessage(name, { seq })).data).toString()).n,
      );
    assert.deepEqual(numbers, [1, 2, 3], 'in order');
  } finally {
    await manager.streams.delete(name);
    await nats.close();
    await publishers.close();
  }
});
