import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type {
  Destination,
  DestinationOutcome,
  OutboundMessage,
  SendOptions,
} from '../../src/delivery/destination.ts';
import { createDispatcher } from '../../src/dispatch/dispatcher.ts';
import { newId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import { generateSecret } from '../../src/signing/keys.ts';
import { type EndpointRecord, MessageStatus } from '../../src/storage/contract.ts';
import { createEndpointCache } from '../../src/storage/endpoint-cache.ts';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { application, endpoint as endpointFixture } from '../storage/fixtures.ts';

/**
 * The dispatcher knows destinations only through `Destination`: this one is no HTTP at all, a queue in
 * memory that answers from a script, standing in for a broker. Adding a real one touches only
 * src/delivery/.
 */
interface Sent {
  endpoint: EndpointRecord;
  message: OutboundMessage;
  options: SendOptions;
}

function fakeBroker(
  script: (sent: Sent, index: number) => DestinationOutcome,
): Destination & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    async send(endpoint, message, options) {
      const entry = { endpoint, message, options };
      sent.push(entry);
      return script(entry, sent.length - 1);
    },
    async close() {},
  };
}

const recorded = (response: string) => ({ statusCode: 0, response, durationMs: 3 });
const noHostProblem = { reached: true, unreachable: false, gone: false, slowDown: false };
const logger = createLogger('silent', false);

async function setUp(t: TestContext, backend: TestBackend, destination: Destination) {
  const storage = await backend.create({ retrySchedule: '50ms,50ms' });
  const endpointCache = createEndpointCache(storage);
  const dispatcher = createDispatcher({
    storage,
    endpointCache,
    destination,
    config: storage.config,
    logger,
    pollIntervalMs: 200,
  });
  t.after(async () => {
    await dispatcher.close();
    endpointCache.close();
    await storage.cleanup();
  });
  const app = await storage.applications.create(application({ name: 'fake destination' }));
  const secret = generateSecret();
  const endpoint = await storage.endpoints.create(
    endpointFixture(app.id, {
      url: 'amqp://broker.invalid/orders',
      secrets: [{ key: secret, expiresAt: null }],
    }),
  );
  await dispatcher.start();
  const send = async (payload: string) => {
    const id = newId('message');
    const at = Date.now();
    await storage.messages.ingest({
      message: {
        id,
        appId: app.id,
        uid: null,
        eventType: 'order.placed',
        channels: null,
        payload,
        payloadExpiresAt: at + 86_400_000,
        createdAt: at,
      },
      endpointIds: [endpoint.id],
    });
    return id;
  };
  const settled = async (msgId: string) => {
    for (;;) {
      const row = await storage.deliveries.get(msgId, endpoint.id);
      if (row && (row.status === MessageStatus.success || row.status === MessageStatus.fail)) return row;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const attempts = async (msgId: string) =>
    (await storage.attempts.listByMessage(app.id, msgId, {}, { limit: 10 })).data.sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
  return { storage, endpoint, secret, send, settled, attempts };
}

forEachBackend((backend) => {
  test('the dispatcher delivers through any Destination: retried on its word, then recorded as it said', async (t) => {
    const broker = fakeBroker((_sent, index) =>
      index === 0
        ? { kind: 'retryable', recorded: recorded('broker busy'), host: noHostProblem }
        : { kind: 'success', recorded: recorded('confirmed: offset 42') },
    );
    const s = await setUp(t, backend, broker);
    const payload = '{"order":1,  "total": 9.50}';
    const msgId = await s.send(payload);

    const row = await s.settled(msgId);
    assert.equal(row.status, MessageStatus.success);
    assert.equal(row.attempts, 2);
    assert.equal(broker.sent.length, 2);
    const first = broker.sent[0];
    assert.ok(first);
    assert.equal(first.endpoint.id, s.endpoint.id);
    assert.equal(first.message.msgId, msgId);
    assert.equal(first.message.eventType, 'order.placed');
    assert.equal(first.message.body, payload);
    // The message is signed for the destination exactly as for HTTP: a consumer verifies it.
    const verified = new Webhook(s.secret).verify(first.message.body, { ...first.message.headers });
    assert.deepEqual(verified, JSON.parse(payload));

    const attempts = await s.attempts(msgId);
    assert.deepEqual(
      attempts.map((a) => [a.status, a.response, a.responseStatusCode, a.url]),
      [
        [MessageStatus.fail, 'broker busy', 0, 'amqp://broker.invalid/orders'],
        [MessageStatus.success, 'confirmed: offset 42', 0, 'amqp://broker.invalid/orders'],
      ],
    );
  });

  test('a permanent failure fails the delivery at once, with retries left on the schedule', async (t) => {
    const broker = fakeBroker(() => ({
      kind: 'permanent',
      recorded: recorded('rejected: message too large for the queue'),
      host: noHostProblem,
    }));
    const s = await setUp(t, backend, broker);
    const msgId = await s.send('{"big":true}');

    const row = await s.settled(msgId);
    assert.equal(row.status, MessageStatus.fail);
    assert.equal(row.attempts, 1);
    const [attempt, ...more] = await s.attempts(msgId);
    assert.equal(more.length, 0);
    assert.equal(attempt?.response, 'rejected: message too large for the queue');
  });
});
