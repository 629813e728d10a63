import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  batchBody,
  batchingOf,
  batchWebhookId,
  orderedBatching,
  PER_MESSAGE,
} from '../../src/domain/ordered-batch.ts';

test('a batch body splices each payload in as accepted, oldest first', () => {
  const body = batchBody([
    { msgId: 'msg_a', eventType: 'x.y', payload: '{"b": 1,  "a":[2]}', createdAt: 0 },
    { msgId: 'msg_b', eventType: 'x.z', payload: null, createdAt: 1_000 },
  ]);
  assert.equal(
    body,
    '{"events":[{"id":"msg_a","eventType":"x.y","timestamp":"1970-01-01T00:00:00.000Z","payload":{"b": 1,  "a":[2]}},' +
      '{"id":"msg_b","eventType":"x.z","timestamp":"1970-01-01T00:00:01.000Z","payload":null}]}',
  );
  assert.deepEqual(JSON.parse(body).events[0].payload, { b: 1, a: [2] });
});

test('a batch is signed as its message, or as first..last', () => {
  assert.equal(batchWebhookId([{ msgId: 'msg_a' }]), 'msg_a');
  assert.equal(batchWebhookId([{ msgId: 'msg_a' }, { msgId: 'msg_b' }, { msgId: 'msg_c' }]), 'msg_a..msg_c');
});

test("a fifoEndpoint's batching defaults to Svix's", () => {
  assert.deepEqual(batchingOf({ url: 'https://x' }), { batchSize: 100, maxWaitSecs: 0 });
  assert.deepEqual(batchingOf({ batchSize: 5, maxWaitSecs: 10 }), { batchSize: 5, maxWaitSecs: 10 });
});

test('a broker destination is ordered exactly when its batching asks for it', () => {
  const rabbit = (config: Record<string, unknown>) => ({
    type: 'rabbitMq',
    config: { uri: 'amqp://h', ...config },
  });
  assert.equal(orderedBatching(rabbit({})), undefined, 'no batching stored: one message at a time');
  assert.equal(orderedBatching(rabbit({ batchSize: 1, maxWaitSecs: 0 })), undefined);
  assert.deepEqual(orderedBatching(rabbit({ batchSize: 10 })), { batchSize: 10, maxWaitSecs: 0 });
  assert.deepEqual(orderedBatching(rabbit({ maxWaitSecs: 5 })), { batchSize: 1, maxWaitSecs: 5 });
  assert.deepEqual(orderedBatching({ type: 'fifoEndpoint', config: {} }), { batchSize: 100, maxWaitSecs: 0 });
  assert.equal(orderedBatching({ type: 'pollingEndpoint', config: { batchSize: 10 } }), undefined);
  assert.equal(orderedBatching(undefined), undefined, 'an HTTP endpoint');
  assert.deepEqual(batchingOf({}, PER_MESSAGE), { batchSize: 1, maxWaitSecs: 0 });
});
