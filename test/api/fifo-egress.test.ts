import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { pipeline } from '../helpers/pipeline.ts';
import { OPENSSL_MISSING, startTlsReceiver, tlsFixtures } from '../helpers/tls.ts';

/**
 * A fifoEndpoint is delivered over HTTP, so it takes an endpoint's egress settings (a Hookyard
 * addition on the Destination API): here a client certificate and a private CA, to a receiver that
 * requires the one and is signed by the other. Broker types refuse `egress`: their connections are
 * the broker client's.
 */
const fixtures = tlsFixtures();

test('a fifoEndpoint with egress delivers its batches over mutual TLS to a private CA', {
  skip: fixtures ? false : OPENSSL_MISSING,
}, async (t) => {
  const f = fixtures as NonNullable<typeof fixtures>;
  const tls = await startTlsReceiver(f, { requireClientCert: true });
  t.after(() => tls.close());
  const p = await pipeline(t, backends()[0]!);
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Ledger' } })).json();

  const created = await p.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/destination`,
    payload: {
      type: 'fifoEndpoint',
      batchSize: 10,
      config: { url: `${tls.url}/fifo` },
      egress: { clientCertificate: f.clientCert, clientKey: f.clientKey, caBundle: f.serverCa },
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const out = created.json();
  assert.equal(out.egress.clientCertificate.subject.includes('hookyard-test-client'), true, created.body);
  assert.equal(created.body.includes('PRIVATE KEY'), false, 'the key is never returned');

  await p.startDispatcher();
  for (let n = 1; n <= 3; n++) {
    const sent = await p.call({
      method: 'POST',
      url: `/api/v1/app/${app.id}/msg`,
      payload: { eventType: 'entry.posted', payload: { n } },
    });
    assert.equal(sent.statusCode, 202, sent.body);
  }
  const deadline = Date.now() + 60_000;
  const seen = () =>
    tls.deliveries.flatMap((d) =>
      JSON.parse(d.body).events.map((e: { payload: { n: number } }) => e.payload.n),
    );
  while (seen().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const attempts = await p.call({
    method: 'GET',
    url: `/api/v1/app/${app.id}/destination/${out.id}/attempt`,
  });
  assert.deepEqual(
    seen(),
    [1, 2, 3],
    `in order, over the client certificate (attempts: ${attempts.body}; refusals: ${tls.refusals.join('; ')})`,
  );
  for (const delivery of tls.deliveries) assert.equal(delivery.clientCn, 'hookyard-test-client');

  // Cleared by PATCH egress: null, the same destination then has no client certificate to show.
  const cleared = await p.call({
    method: 'PATCH',
    url: `/api/v1/app/${app.id}/destination/${out.id}`,
    payload: { egress: null },
  });
  assert.equal(cleared.statusCode, 200, cleared.body);
  assert.equal(cleared.json().egress, null);

  const broker = await p.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/destination`,
    payload: {
      type: 'redisStream',
      config: { url: 'redis://127.0.0.1:6379', stream: 'hooks' },
      egress: { proxy: 'direct' },
    },
  });
  assert.equal(broker.statusCode, 422, broker.body);
  assert.deepEqual(broker.json().detail[0].loc, ['body', 'egress']);
});
