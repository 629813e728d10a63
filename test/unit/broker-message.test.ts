import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerHeaders, signature, signedTimestamp } from '../../src/delivery/brokers/broker-message.ts';

const message = (headers: Record<string, string>) => ({
  msgId: 'msg_1',
  eventType: 'a.b',
  body: '{}',
  headers,
});

test('broker headers are the message headers, lower-cased, plus the event type', () => {
  assert.deepEqual(brokerHeaders(message({ 'Webhook-Id': 'msg_1', 'X-Custom': 'y' })), {
    'webhook-id': 'msg_1',
    'x-custom': 'y',
    'webhook-event-type': 'a.b',
  });
});

test('the timestamp and signature come from the webhook- headers, or their svix- twins', () => {
  const standard = message({ 'webhook-timestamp': '1700000000', 'webhook-signature': 'v1,abc' });
  assert.equal(signedTimestamp(standard), 1700000000);
  assert.equal(signature(standard), 'v1,abc');
  const svix = message({ 'svix-timestamp': '1700000001', 'svix-signature': 'v1,def' });
  assert.equal(signedTimestamp(svix), 1700000001);
  assert.equal(signature(svix), 'v1,def');
  assert.equal(signedTimestamp(message({})), 0);
  assert.equal(signature(message({})), '');
});
