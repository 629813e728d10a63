import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
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
