import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchBody, batchingOf, batchWebhookId } from '../../src/domain/ordered-batch.ts';

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
