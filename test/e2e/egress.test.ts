import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { startConnectProxy } from '../helpers/connect-proxy.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { runCli, startHookyard, tempDir } from '../helpers/server-process.ts';
import { OPENSSL_MISSING, startTlsReceiver, tlsFixtures } from '../helpers/tls.ts';

/**
 * Egress end to end, through `hookyard serve` with encryption at rest: a delivery with a client
 * certificate to a receiver that requires one, another through its own CONNECT proxy, then a key
 * rotation with `hookyard reencrypt`, the refusal to start without the key, and delivery again
 * with the rotated key.
 */
const fixtures = tlsFixtures();

test('mTLS and per-endpoint proxy deliveries from a server that encrypts secrets at rest; key rotation', {
  skip: fixtures ? false : OPENSSL_MISSING,
}, async (t) => {
  const f = fixtures as NonNullable<typeof fixtures>;
  const dataDir = tempDir('hookyard-egress-');
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const tls = await startTlsReceiver(f, { requireClientCert: true });
  t.after(() => tls.close());
  const plain = await startReceiver();
  t.after(() => plain.close());
  const proxy = await startConnectProxy();
  t.after(() => proxy.close());
  const first = randomBytes(32).toString('base64');
  const second = randomBytes(32).toString('hex');

  let server = await startHookyard({ HOOKYARD_DATA_DIR: dataDir, HOOKYARD_ENCRYPTION_KEY: first });
  t.after(() => server.kill());
  const app = await server.api<{ id: string }>('POST', '/api/v1/app', { name: 'egress' });
  assert.equal(app.status, 201);
  const mtls = await server.api('POST', `/api/v1/app/${app.body.id}/endpoint`, {
    url: `${tls.url}/hook`,
    egress: { clientCertificate: f.clientCert, clientKey: f.clientKey, caBundle: f.serverCa },
  });
  assert.equal(mtls.status, 201, JSON.stringify(mtls.body));
  const proxied = await server.api('POST', `/api/v1/app/${app.body.id}/endpoint`, {
    url: `${plain.url}/hook`,
    egress: { proxy: proxy.url },
  });
  assert.equal(proxied.status, 201, JSON.stringify(proxied.body));

  const send = (n: number) =>
    server.api('POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'egress.test', payload: { n } });
  assert.equal((await send(1)).status, 202);
  await plain.waitFor(() => plain.deliveries.length === 1, 60_000);
  const deadline = Date.now() + 60_000;
  while (tls.deliveries.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    tls.deliveries.map((d) => [JSON.parse(d.body).n, d.clientCn]),
    [[1, 'hookyard-test-client']],
  );
  assert.deepEqual(proxy.targets, [`127.0.0.1:${plain.port}`], 'only the proxied endpoint used the proxy');
  assert.equal(await server.stop(), 0);

  // Rotation: encrypt everything with the new key while the old one still decrypts.
  const rotated = await runCli(['reencrypt'], {
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_ENCRYPTION_KEY: `${second},${first}`,
  });
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /^rewrote 2 endpoint rows with key [0-9a-f]{8} /);

  // The old key alone no longer opens them: start-up stops with one line naming the setting.
  const refused = await runCli(['serve'], {
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_ENCRYPTION_KEY: first,
    HOOKYARD_PORT: '0',
    HOOKYARD_ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
  });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^hookyard: HOOKYARD_ENCRYPTION_KEY does not hold key [0-9a-f]{8}/m);
  assert.ok(!refused.stderr.includes(first));
  const malformed = await runCli(['serve'], {
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_ENCRYPTION_KEY: 'not-a-key',
  });
  assert.equal(malformed.code, 2);
  assert.equal(malformed.stderr.trim().split('\n').length, 1, malformed.stderr);
  assert.match(malformed.stderr, /HOOKYARD_ENCRYPTION_KEY/);

  server = await startHookyard({ HOOKYARD_DATA_DIR: dataDir, HOOKYARD_ENCRYPTION_KEY: second });
  assert.equal((await send(2)).status, 202);
  await plain.waitFor(() => plain.deliveries.length === 2, 60_000);
  const again = Date.now() + 60_000;
  while (tls.deliveries.length < 2 && Date.now() < again) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    tls.deliveries.map((d) => JSON.parse(d.body).n),
    [1, 2],
  );
  assert.equal(await server.stop(), 0);
});
