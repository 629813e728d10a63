import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { configWith } from '../../src/config/load.ts';
import { createHttpClient } from '../../src/delivery/http-client.ts';
import { startReceiver } from '../helpers/receiver.ts';

/** A CONNECT proxy on 127.0.0.1 that records the targets it tunnelled to. */
async function startProxy() {
  const targets: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    targets.push(String(req.url));
    const [host = '', port = '80'] = String(req.url).split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

test('HOOKYARD_EGRESS_PROXY sends deliveries through the proxy', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const proxy = await startProxy();
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
