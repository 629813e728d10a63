import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { configWith } from '../../src/config/load.ts';
import { createHttpClient } from '../../src/delivery/http-client.ts';
import { startConnectProxy } from '../helpers/connect-proxy.ts';
import { startReceiver } from '../helpers/receiver.ts';

test('HOOKYARD_EGRESS_PROXY sends deliveries through the proxy', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const proxy = await startConnectProxy();
  t.after(() => proxy.close());
  const config = configWith({ allowedSubnets: '127.0.0.0/8', egressProxy: proxy.url });
  const client = createHttpClient(config, pino({ level: 'silent' }));
  t.after(() => client.close());
  const result = await client.send({
    url: `${receiver.url}/hook`,
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    body: '{"a":1}',
    timeoutMs: 5000,
  });
  assert.equal(result.kind, 'response');
  assert.equal(result.kind === 'response' && result.status, 200);
  assert.deepEqual(proxy.targets, [`127.0.0.1:${receiver.port}`]);
  assert.equal(receiver.deliveries[0]?.body, '{"a":1}');
});

test('HOOKYARD_EGRESS_PROXY must be an http(s) URL', () => {
  assert.throws(() => configWith({ egressProxy: 'socks5://127.0.0.1:1080' }), /HOOKYARD_EGRESS_PROXY/);
  assert.equal(configWith({ egressProxy: '' }).egressProxy, '');
});
