import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStreamPublisher, PAYLOAD_FIELD } from '../../src/delivery/brokers/redis-stream.ts';
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

let consumer: Redis;
const keys: string[] = [];

before(() => {
  consumer = new Redis(BROKERS.redis);
});
after(async () => {
  if (keys.length > 0) await consumer.del(...keys);
  consumer.disconnect();
});

function streamName(): string {
  const name = uniqueName('hookyard:test');
  keys.push(name);
  return name;
}

async function entries(stream: string): Promise<{ id: string; fields: Record<string, string> }[]> {
  const raw = await consumer.xrange(stream, '-', '+');
  return raw.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { id, fields };
  });
}

test('XADD carries the webhook headers as fields, and the signature verifies', async () => {
  const publisher = createRedisStreamPublisher({ guard: loopbackGuard });
  try {
    const stream = streamName();
    const { message, secret, id } = signedMessage();
    const outcome = await publisher.publish({ url: BROKERS.redis, stream }, message, 5000);
    assertOutcome(outcome, 'success', new RegExp(`added to stream '${stream}' as entry \\d+-\\d+`));
    const [entry] = await entries(stream);
    assert.ok(entry);
    assert.equal(entry.fields['webhook-id'], id);
    const { [PAYLOAD_FIELD]: body = '', ...headers } = entry.fields;
    assert.equal(body, message.body);
    assertVerifies(secret, body, headers);
  } finally {
    await publisher.close();
  }
});

test('maxLen trims the stream approximately', async () => {
  const publisher = createRedisStreamPublisher({ guard: loopbackGuard });
  try {
    const stream = streamName();
    for (let i = 0; i < 400; i++) {
      assertOutcome(
        await publisher.publish({ url: BROKERS.redis, stream, maxLen: 10 }, signedMessage().message, 5000),
        'success',
      );
    }
    const length = await consumer.xlen(stream);
    assert.ok(length < 400 && length >= 10, `length ${length}`);
    assert.equal(publisher.connections(), 1);
  } finally {
    await publisher.close();
  }
});

test('a key of another type is retryable (the owner can fix it), a bad config permanent', async () => {
  const publisher = createRedisStreamPublisher({ guard: loopbackGuard });
  try {
    const stream = streamName();
    await consumer.set(stream, 'not a stream');
    assertOutcome(
      await publisher.publish({ url: BROKERS.redis, stream }, signedMessage().message, 5000),
      'retryable',
      /WRONGTYPE/,
    );
    assertOutcome(
      await publisher.publish({ url: BROKERS.redis, stream, maxLen: 0 }, signedMessage().message, 5000),
      'permanent',
      /maxLen must be a positive integer/,
    );
  } finally {
    await publisher.close();
  }
});

test('a broker that is down is retryable at once, then backs off; a silent one times out', async () => {
  const silent = await startSilentServer();
  const publisher = createRedisStreamPublisher({
    guard: loopbackGuard,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  try {
    const { message } = signedMessage();
    const down = { url: `redis://127.0.0.1:${await closedPort()}`, stream: 's' };
    assertOutcome(
      await publisher.publish(down, message, 5000),
      'retryable',
      /cannot connect: .*ECONNREFUSED/,
    );
    assertOutcome(await publisher.publish(down, message, 5000), 'retryable', /next connection attempt in/);
    const hung = { url: `redis://127.0.0.1:${silent.port}`, stream: 's' };
    assertOutcome(await publisher.publish(hung, message, 300), 'retryable', /timed out|cannot connect/);
  } finally {
    await publisher.close();
    await silent.close();
  }
});

test('after the connection drops, the next publish reconnects', async () => {
  const proxy = await startTcpProxy(6379);
  const publisher = createRedisStreamPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const stream = streamName();
    const config = { url: `redis://127.0.0.1:${proxy.port}`, stream };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.dropAll();
    await until(() => publisher.connections() === 0);
    await until(
      async () => (await publisher.publish(config, signedMessage().message, 5000)).kind === 'success',
    );
    assert.equal(proxy.accepted(), 2);
    assert.equal(await consumer.xlen(stream), 2);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('a publish waiting for its reply fails as soon as the connection drops', async () => {
  const proxy = await startTcpProxy(6379);
  const publisher = createRedisStreamPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const config = { url: `redis://127.0.0.1:${proxy.port}`, stream: streamName() };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.holdReplies();
    const pending = publisher.publish(config, signedMessage().message, 600_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.dropAll();
    assertOutcome(await pending, 'retryable', /Connection is closed/);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('the address guard applies to the Redis host', async () => {
  const publisher = createRedisStreamPublisher({ guard: defaultGuard });
  try {
    const outcome = await publisher.publish(
      { url: BROKERS.redis, stream: 's' },
      signedMessage().message,
      2000,
    );
    assertOutcome(outcome, 'permanent', /blocked by the address guard/);
  } finally {
    await publisher.close();
  }
});
