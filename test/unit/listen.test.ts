import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createListener, formatDelivery, type ReceivedWebhook } from '../../src/cli/listen.ts';
import { generateSecret, generateSigningKeyPair } from '../../src/signing/keys.ts';
import { signatureHeader } from '../../src/signing/sign.ts';

async function post(url: string, headers: Record<string, string>, body: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('hookyard listen', () => {
  it('answers 200 to a signed delivery and 401 otherwise, reporting each one', async () => {
    const secret = generateSecret();
    const pair = generateSigningKeyPair();
    const seen: ReceivedWebhook[] = [];
    const listener = await createListener({
      port: 0,
      secrets: [secret, pair.publicKey],
      onDelivery: (d) => seen.push(d),
    });
    try {
      const now = Date.now();
      const timestamp = Math.floor(now / 1000);
      const body = JSON.stringify({ type: 'invoice.paid', data: { id: 7 } });
      const v1 = signatureHeader([{ key: secret, expiresAt: null }], 'msg_1', timestamp, body, now);
      const ok = await post(
        listener.url,
        { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': v1 },
        body,
      );
      assert.equal(ok.status, 200);

      const v1a = signatureHeader([{ key: pair.secretKey, expiresAt: null }], 'msg_2', timestamp, body, now);
      const svix = await post(
        listener.url,
        { 'svix-id': 'msg_2', 'svix-timestamp': String(timestamp), 'svix-signature': v1a },
        body,
      );
      assert.equal(svix.status, 200);

      const forged = await post(
        listener.url,
        { 'webhook-id': 'msg_3', 'webhook-timestamp': String(timestamp), 'webhook-signature': v1 },
        body,
      );
      assert.equal(forged.status, 401);
      assert.equal(forged.text, 'no matching signature\n');

      assert.deepEqual(
        seen.map((d) => [d.msgId, d.eventType, d.verified, d.reason]),
        [
          ['msg_1', 'invoice.paid', true, undefined],
          ['msg_2', 'invoice.paid', true, undefined],
          ['msg_3', 'invoice.paid', false, 'no matching signature'],
        ],
      );
      const line = formatDelivery(seen[2] as ReceivedWebhook);
      assert.match(
        line,
        /^\d\d:\d\d:\d\d\.\d{3} {2}msg_3 {2}invoice\.paid {2}✗ rejected \(no matching signature\) {2}\{"type"/,
      );
      assert.match(formatDelivery(seen[0] as ReceivedWebhook), /✓ verified/);
    } finally {
      await listener.close();
    }
  });
});
