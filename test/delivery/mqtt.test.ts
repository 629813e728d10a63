import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { createMqttPublisher } from '../../src/delivery/brokers/mqtt.ts';
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

let consumer: MqttClient;
const received: { topic: string; body: string; packet: IPublishPacket }[] = [];

before(async () => {
  consumer = await connectAsync(BROKERS.mqtt, {
    protocolVersion: 5,
    clientId: uniqueName('hookyard_consumer'),
  });
  consumer.on('message', (topic, payload, packet) =>
    received.push({ topic, body: payload.toString(), packet }),
  );
});
after(async () => {
  await consumer.endAsync();
});

async function topic(): Promise<string> {
  const name = `hookyard/test/${uniqueName('t')}`;
  await consumer.subscribeAsync(name, { qos: 1 });
  return name;
}

const on = (name: string) => received.filter((entry) => entry.topic === name);

test('a QoS 1 publish reaches a subscriber with the headers as user properties; the signature verifies', async () => {
  const publisher = createMqttPublisher({ guard: loopbackGuard });
  try {
    const name = await topic();
    const { message, secret, id } = signedMessage();
    const outcome = await publisher.publish({ url: BROKERS.mqtt, topic: name }, message, 5000);
    assertOutcome(outcome, 'success', /PUBACK from the MQTT broker/);
    await until(() => on(name).length === 1);
    const [entry] = on(name);
    assert.ok(entry);
    assert.equal(entry.body, message.body);
    assert.equal(entry.packet.properties?.contentType, 'application/json');
    const properties = entry.packet.properties?.userProperties ?? {};
    const headers = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)]));
    assert.equal(headers['webhook-id'], id);
    assertVerifies(secret, entry.body, headers);
    assert.equal(publisher.connections(), 1);
  } finally {
    await publisher.close();
  }
});

test('a broker that is down is retryable at once, then backs off; a silent one times out', async () => {
  const silent = await startSilentServer();
  const publisher = createMqttPublisher({
    guard: loopbackGuard,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  try {
    const { message } = signedMessage();
    const down = { url: `mqtt://127.0.0.1:${await closedPort()}`, topic: 't' };
    assertOutcome(
      await publisher.publish(down, message, 5000),
      'retryable',
      /cannot connect: .*ECONNREFUSED/,
    );
    assertOutcome(await publisher.publish(down, message, 5000), 'retryable', /next connection attempt in/);
    const hung = { url: `mqtt://127.0.0.1:${silent.port}`, topic: 't' };
    assertOutcome(await publisher.publish(hung, message, 300), 'retryable', /timed out|cannot connect/);
  } finally {
    await publisher.close();
    await silent.close();
  }
});

test('after the connection drops, the next publish reconnects', async () => {
  const proxy = await startTcpProxy(1883);
  const publisher = createMqttPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const name = await topic();
    const config = { url: `mqtt://127.0.0.1:${proxy.port}`, topic: name };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.dropAll();
    await until(() => publisher.connections() === 0);
    await until(
      async () => (await publisher.publish(config, signedMessage().message, 5000)).kind === 'success',
    );
    assert.equal(proxy.accepted(), 2);
    await until(() => on(name).length === 2);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('a publish waiting for its PUBACK fails as soon as the connection drops', async () => {
  const proxy = await startTcpProxy(1883);
  const publisher = createMqttPublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const config = { url: `mqtt://127.0.0.1:${proxy.port}`, topic: await topic() };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.holdReplies();
    const pending = publisher.publish(config, signedMessage().message, 600_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.dropAll();
    assertOutcome(await pending, 'retryable', /closed before the PUBACK/);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('the address guard applies to the MQTT host; bad config is permanent', async () => {
  const publisher = createMqttPublisher({ guard: defaultGuard });
  try {
    const { message } = signedMessage();
    assertOutcome(
      await publisher.publish({ url: BROKERS.mqtt, topic: 't' }, message, 2000),
      'permanent',
      /blocked by the address guard/,
    );
    assertOutcome(
      await publisher.publish({ url: BROKERS.mqtt, topic: 'a/#' }, message, 2000),
      'permanent',
      /without wildcards/,
    );
    assertOutcome(
      await publisher.publish({ url: 'ws://x', topic: 't' }, message, 2000),
      'permanent',
      /url must use mqtt:\/\//,
    );
  } finally {
    await publisher.close();
  }
});
