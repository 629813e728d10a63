import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { configWith } from '../../src/config/load.ts';
import { createHttpClient, type HttpClient, type SendResult } from '../../src/delivery/http-client.ts';
import type { EgressProxy, EndpointEgress } from '../../src/storage/contract.ts';
import { startConnectProxy } from '../helpers/connect-proxy.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { OPENSSL_MISSING, startTlsReceiver, tlsFixtures } from '../helpers/tls.ts';

/**
 * Per-endpoint egress in the HTTP client, against real receivers on 127.0.0.1: mutual TLS with a
 * receiver that requires a client certificate, a CA trusted for one endpoint only, a CONNECT proxy
 * for one endpoint while another goes direct, and the pools kept apart by egress settings.
 */
const fixtures = tlsFixtures();
const silent = pino({ level: 'silent' });

function egress(fields: Partial<EndpointEgress>): EndpointEgress {
  return { clientCertificate: null, clientKey: null, caBundle: null, proxy: { kind: 'default' }, ...fields };
}

function send(client: HttpClient, url: string, egressSettings?: EndpointEgress): Promise<SendResult> {
  return client.send({
    url,
    headers: { 'content-type': 'application/json' },
    body: '{"n":1}',
    timeoutMs: 10_000,
    egress: egressSettings,
  });
}

function statusOf(result: SendResult): number | string {
  return result.kind === 'response' ? result.status : result.errno;
}

describe('egress: TLS', { skip: fixtures ? false : OPENSSL_MISSING }, () => {
  const f = fixtures as NonNullable<typeof fixtures>;
  const trusted = { caBundle: f.serverCa };
  const identity = { clientCertificate: f.clientCert, clientKey: f.clientKey };

  test('a receiver requiring a client certificate gets the endpoint’s, and refuses an endpoint without one', async (t) => {
    const receiver = await startTlsReceiver(f, { requireClientCert: true });
    t.after(() => receiver.close());
    const client = createHttpClient(configWith({ allowedSubnets: '127.0.0.0/8' }), silent);
    t.after(() => client.close());

    assert.equal(
      statusOf(await send(client, `${receiver.url}/hook`, egress({ ...trusted, ...identity }))),
      200,
    );
    assert.deepEqual(
      receiver.deliveries.map((d) => d.clientCn),
      ['hookyard-test-client'],
    );
    // Same origin, no certificate: a connection of its own (the mTLS one is not shared), refused.
    const without = await send(client, `${receiver.url}/hook`, egress(trusted));
    assert.equal(without.kind, 'error', 'an endpoint without a client certificate must not get through');
    // Another identity gets its own connection, presenting its own certificate.
    const other = { clientCertificate: f.otherClientCert, clientKey: f.otherClientKey };
    assert.equal(statusOf(await send(client, `${receiver.url}/hook`, egress({ ...trusted, ...other }))), 200);
    assert.equal(
      statusOf(await send(client, `${receiver.url}/hook`, egress({ ...trusted, ...identity }))),
      200,
    );
    assert.deepEqual(
      receiver.deliveries.map((d) => d.clientCn),
      ['hookyard-test-client', 'hookyard-test-other-client', 'hookyard-test-client'],
    );
  });

  test('a CA bundle is trusted for its endpoint only: without it the receiver’s certificate is refused', async (t) => {
    const receiver = await startTlsReceiver(f, { requireClientCert: false });
    t.after(() => receiver.close());
    const client = createHttpClient(configWith({ allowedSubnets: '127.0.0.0/8' }), silent);
    t.after(() => client.close());

    assert.equal(statusOf(await send(client, `${receiver.url}/hook`, egress(trusted))), 200);
    // The public roots do not know the test CA; the connection the trusted endpoint keeps open is
    // not lent to these.
    const untrusted = await send(client, `${receiver.url}/hook`);
    assert.equal(untrusted.kind, 'error');
    assert.match(untrusted.kind === 'error' ? untrusted.reason : '', /does not chain to a trusted CA/);
    const wrongCa = await send(client, `${receiver.url}/hook`, egress({ caBundle: f.clientCa }));
    assert.equal(wrongCa.kind, 'error');
    assert.equal(receiver.deliveries.length, 1);
  });

  test('mutual TLS through a per-endpoint CONNECT proxy: the tunnel carries the endpoint’s own TLS', async (t) => {
    const receiver = await startTlsReceiver(f, { requireClientCert: true });
    t.after(() => receiver.close());
    const proxy = await startConnectProxy();
    t.after(() => proxy.close());
    const client = createHttpClient(configWith({ allowedSubnets: '127.0.0.0/8' }), silent);
    t.after(() => client.close());
    const viaProxy: EgressProxy = { kind: 'proxy', url: proxy.url };
    const result = await send(
      client,
      `${receiver.url}/hook`,
      egress({ ...trusted, ...identity, proxy: viaProxy }),
    );
    assert.equal(statusOf(result), 200);
    assert.deepEqual(proxy.targets, [new URL(receiver.url).host]);
    assert.deepEqual(
      receiver.deliveries.map((d) => d.clientCn),
      ['hookyard-test-client'],
    );
  });
});

describe('egress: proxies', () => {
  test('one endpoint goes through its proxy while another goes direct', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const proxy = await startConnectProxy();
    t.after(() => proxy.close());
    const client = createHttpClient(configWith({ allowedSubnets: '127.0.0.0/8' }), silent);
    t.after(() => client.close());
    const credentialed = new URL(proxy.url);
    credentialed.username = 'hooks';
    credentialed.password = 's3cret';
    const proxied = egress({ proxy: { kind: 'proxy', url: credentialed.href } });

    assert.equal(statusOf(await send(client, `${receiver.url}/a`, proxied)), 200);
    assert.equal(statusOf(await send(client, `${receiver.url}/b`)), 200);
    assert.equal(statusOf(await send(client, `${receiver.url}/c`, proxied)), 200);
    assert.equal(receiver.deliveries.length, 3);
    // One tunnel (kept alive) for the proxied endpoint; the direct one never reached the proxy.
    assert.deepEqual(proxy.targets, [`127.0.0.1:${receiver.port}`]);
    assert.equal(proxy.authorizations[0], `Basic ${Buffer.from('hooks:s3cret').toString('base64')}`);
  });

  test('"direct" takes one endpoint past HOOKYARD_EGRESS_PROXY', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const proxy = await startConnectProxy();
    t.after(() => proxy.close());
    const client = createHttpClient(
      configWith({ allowedSubnets: '127.0.0.0/8', egressProxy: proxy.url }),
      silent,
    );
    t.after(() => client.close());
    assert.equal(
      statusOf(await send(client, `${receiver.url}/direct`, egress({ proxy: { kind: 'direct' } }))),
      200,
    );
    assert.deepEqual(proxy.targets, []);
    assert.equal(statusOf(await send(client, `${receiver.url}/proxied`)), 200);
    assert.deepEqual(proxy.targets, [`127.0.0.1:${receiver.port}`]);
  });

  test('through a proxy the address guard still checks the receiver, before any CONNECT', async (t) => {
    const proxy = await startConnectProxy();
    t.after(() => proxy.close());
    // 127.0.0.1 (the proxy) is allowed, 127.0.0.2 (the target) is not.
    const client = createHttpClient(
      configWith({ allowedSubnets: '127.0.0.1/32', egressProxy: proxy.url }),
      silent,
    );
    t.after(() => client.close());
    const global = await send(client, 'http://127.0.0.2:9/hook');
    assert.equal(statusOf(global), 'EADDRBLOCKED');
    const perEndpoint = await send(
      client,
      'http://127.0.0.2:9/hook',
      egress({ proxy: { kind: 'proxy', url: proxy.url } }),
    );
    assert.equal(statusOf(perEndpoint), 'EADDRBLOCKED');
    assert.deepEqual(proxy.targets, []);
  });

  test('through a proxy a receiver named by a host name is judged by the addresses Hookyard resolves', async (t) => {
    const proxy = await startConnectProxy();
    t.after(() => proxy.close());
    // HOOKYARD_EGRESS_PROXY is the operator's, so its own address is not checked; localhost is.
    const client = createHttpClient(
      configWith({ allowedSubnets: '127.0.0.2/32', egressProxy: proxy.url }),
      silent,
    );
    t.after(() => client.close());
    const byName = await send(client, 'http://localhost:9/hook');
    assert.equal(statusOf(byName), 'EADDRBLOCKED');
    assert.deepEqual(proxy.targets, []);
  });

  test('a per-endpoint proxy is reached only if the address guard allows its address', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const proxy = await startConnectProxy();
    t.after(() => proxy.close());
    // Nothing private allowed: the receiver would be blocked too, but the proxy is refused first.
    const client = createHttpClient(configWith({ allowedSubnets: '' }), silent);
    t.after(() => client.close());
    const result = await send(
      client,
      'http://203.0.113.7/hook',
      egress({ proxy: { kind: 'proxy', url: proxy.url } }),
    );
    assert.equal(result.kind, 'error');
    assert.deepEqual(proxy.targets, []);
  });
});
