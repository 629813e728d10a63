import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { createNatsJetStreamPublisher } from '../../src/delivery/brokers/nats-jetstream.ts';
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

let consumer: NatsConnection;
let manager: JetStreamManager;
const streams: string[] = [];

before(async () => {
  consumer = await connect({ servers: '127.0.0.1:4222' });
  manager = await consumer.jetstreamManager();
});
after(async () => {
  for (const stream of streams) await manager.streams.delete(stream).catch(() => {});
  await consumer.close();
});

async function stream(): Promise<{ name: string; subject: string }> {
  const name = uniqueName('HOOKYARD_TEST').toUpperCase();
  const subject = `hookyard.test.${name.toLowerCase()}`;
  await manager.streams.add({ name, subjects: [subject] });
  streams.push(name);
  return { name, subject };
}

async function stored(name: string, seq: number) {
  const message = await manager.streams.getMessage(name, { seq });
  const headers: Record<string, string> = {};
  for (const [key] of message.header) headers[key] = message.header.get(key);
  return { body: Buffer.from(message.data).toString(), headers };
}

test('a publish is stored by JetStream with the webhook headers, and the signature verifies', async () => {
  const publisher = createNatsJetStreamPublisher({ guard: loopbackGuard });
  try {
    const target = await stream();
    const { message, secret, id } = signedMessage();
    const config = { url: BROKERS.nats, subject: target.subject };
    const outcome = await publisher.publish(config, message, 5000);
    assertOutcome(outcome, 'success', new RegExp(`stream ${target.name}, sequence 1\\)`));
    const received = await stored(target.name, 1);
    assert.equal(received.body, message.body);
    assert.equal(received.headers['webhook-id'], id);
    assert.equal(received.headers['Nats-Msg-Id'], `${id}:${target.subject}`);
    assertVerifies(secret, received.body, received.headers);
    // A redelivery of the same message inside the duplicate window is stored once.
    assertOutcome(await publisher.publish(config, message, 5000), 'success', /sequence 1, duplicate/);
    assert.equal((await manager.streams.info(target.name)).state.messages, 1);
  } finally {
    await publisher.close();
  }
});

test('a subject no stream captures is retryable', async () => {
  const publisher = createNatsJetStreamPublisher({ guard: loopbackGuard });
  try {
    const outcome = await publisher.publish(
      { url: BROKERS.nats, subject: `hookyard.nowhere.${uniqueName('x')}` },
      signedMessage().message,
      2000,
    );
    assertOutcome(outcome, 'retryable', /no JetStream stream captures the subject/);
  } finally {
    await publisher.close();
  }
});

test('a payload over the server max_payload is permanent', async () => {
  const publisher = createNatsJetStreamPublisher({ guard: loopbackGuard });
  try {
    const target = await stream();
    const { message } = signedMessage({ blob: 'x'.repeat(2 * 1024 * 1024) });
    const outcome = await publisher.publish({ url: BROKERS.nats, subject: target.subject }, message, 5000);
    assertOutcome(outcome, 'permanent', /MAX_PAYLOAD_EXCEEDED|max_payload|maximum payload/i);
  } finally {
    await publisher.close();
  }
});

test('a broker that is down is retryable at once, then backs off; a silent one times out', async () => {
  const silent = await startSilentServer();
  const publisher = createNatsJetStreamPublisher({
    guard: loopbackGuard,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  try {
    const { message } = signedMessage();
    const down = { url: `nats://127.0.0.1:${await closedPort()}`, subject: 'a.b' };
    assertOutcome(await publisher.publish(down, message, 5000), 'retryable', /cannot connect/);
    assertOutcome(await publisher.publish(down, message, 5000), 'retryable', /next connection attempt in/);
    const hung = { url: `nats://127.0.0.1:${silent.port}`, subject: 'a.b' };
    assertOutcome(await publisher.publish(hung, message, 300), 'retryable', /cannot connect|timed out/);
  } finally {
    await publisher.close();
    await silent.close();
  }
});

test('after the connection drops, the next publish reconnects', async () => {
  const proxy = await startTcpProxy(4222);
  const publisher = createNatsJetStreamPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const target = await stream();
    const config = { url: `nats://127.0.0.1:${proxy.port}`, subject: target.subject };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.dropAll();
    await until(() => publisher.connections() === 0);
    await until(
      async () => (await publisher.publish(config, signedMessage().message, 5000)).kind === 'success',
    );
    assert.equal(proxy.accepted(), 2);
    assert.equal((await manager.streams.info(target.name)).state.messages, 2);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('a publish waiting for its acknowledgement fails as soon as the connection drops', async () => {
  const proxy = await startTcpProxy(4222);
  const publisher = createNatsJetStreamPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const target = await stream();
    const config = { url: `nats://127.0.0.1:${proxy.port}`, subject: target.subject };
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

test('the address guard applies to the NATS host; bad config is permanent', async () => {
  const publisher = createNatsJetStreamPublisher({ guard: defaultGuard });
  try {
    const { message } = signedMessage();
    assertOutcome(
      await publisher.publish({ url: BROKERS.nats, subject: 'a' }, message, 2000),
      'permanent',
      /blocked by the address guard/,
    );
    assertOutcome(
      await publisher.publish({ url: 'redis://x', subject: 'a' }, message, 2000),
      'permanent',
      /url must use nats:\/\//,
    );
    assertOutcome(
      await publisher.publish({ url: BROKERS.nats, subject: 'a.*' }, message, 2000),
      'permanent',
      /subject must be/,
    );
  } finally {
    await publisher.close();
  }
});
