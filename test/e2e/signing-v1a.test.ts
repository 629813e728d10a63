/**
 * v1a (ed25519) per endpoint, end to end: an endpoint created with a `whsk_` key signs its
 * deliveries with `v1a`, the secret endpoint shows only the `whpk_` public key, and a receiver
 * verifies with that public key.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { generateSigningKeyPair } from '../../src/signing/keys.ts';
import { verifyWebhook } from '../../src/signing/verify.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { startHookyard, tempDir } from '../helpers/server-process.ts';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

it('an endpoint with a whsk_ key gets v1a signatures that verify with its whpk_ public key', async () => {
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const hookyard = await startHookyard({ HOOKYARD_DATA_DIR: tempDir() });
  cleanups.push(() => hookyard.stop());

  const { secretKey, publicKey } = generateSigningKeyPair();
  const app = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'v1a' });
  const endpoint = await hookyard.api<{ id: string }>('POST', `/api/v1/app/${app.body.id}/endpoint`, {
    url: `${receiver.url}/hook`,
    secret: secretKey,
  });
  assert.equal(endpoint.status, 201);

  const shown = await hookyard.api<{ key: string }>(
    'GET',
    `/api/v1/app/${app.body.id}/endpoint/${endpoint.body.id}/secret`,
  );
  assert.equal(shown.body.key, publicKey, 'only the public key is ever shown');

  const sent = await hookyard.api<{ id: string }>('POST', `/api/v1/app/${app.body.id}/msg`, {
    eventType: 'user.signup',
    payload: { type: 'user.signup', id: 7 },
  });
  await receiver.waitFor(() => receiver.counts.has(sent.body.id));
  const delivery = receiver.deliveries[0]!;
  assert.match(String(delivery.headers['webhook-signature']), /^v1a,[A-Za-z0-9+/=]{88}$/);
  const verdict = verifyWebhook({
    headers: delivery.headers,
    body: delivery.body,
    secrets: [shown.body.key],
  });
  assert.deepEqual(verdict.ok, true, JSON.stringify(verdict));
  const forged = verifyWebhook({
    headers: delivery.headers,
    body: delivery.body.replace('7', '8'),
    secrets: [shown.body.key],
  });
  assert.equal(forged.ok, false);
});
