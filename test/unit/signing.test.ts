import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import {
  generateSecret,
  generateSigningKeyPair,
  normaliseSecret,
  parseSigningKey,
  publicKeyOf,
} from '../../src/signing/keys.ts';
import { signatureHeader } from '../../src/signing/sign.ts';
import { verifyWebhook } from '../../src/signing/verify.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SIGNING_KEY =
  'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==';
const PUBLIC_KEY = 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const V1 = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const V1A = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';
const AT_VECTOR = TIMESTAMP * 1000;

function headers(signature: string, timestamp: number = TIMESTAMP) {
  return { 'webhook-id': MSG_ID, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('signing', () => {
  it('produces the spec vectors for v1 and v1a', () => {
    assert.equal(signatureHeader([{ key: SECRET, expiresAt: null }], MSG_ID, TIMESTAMP, BODY, 0), V1);
    assert.equal(signatureHeader([{ key: SIGNING_KEY, expiresAt: null }], MSG_ID, TIMESTAMP, BODY, 0), V1A);
    assert.equal(publicKeyOf(SIGNING_KEY), PUBLIC_KEY);
  });

  it('signs with every unexpired key during a rotation grace period', () => {
    const old = generateSecret();
    const header = signatureHeader(
      [
        { key: SECRET, expiresAt: null },
        { key: old, expiresAt: 2_000 },
        { key: generateSecret(), expiresAt: 1_000 },
      ],
      MSG_ID,
      TIMESTAMP,
      BODY,
      1_500,
    );
    const entries = header.split(' ');
    assert.equal(entries.length, 2);
    assert.equal(entries[0], V1);
    const onlyOld = verifyWebhook({ headers: headers(header), body: BODY, secrets: [old], now: AT_VECTOR });
    assert.equal(onlyOld.ok, true);
  });

  it('refuses to sign without a usable key', () => {
    assert.throws(() => signatureHeader([{ key: SECRET, expiresAt: 5 }], MSG_ID, TIMESTAMP, BODY, 10));
    assert.throws(() => signatureHeader([{ key: 'nonsense', expiresAt: null }], MSG_ID, TIMESTAMP, BODY, 0));
  });

  it('verifies the vectors, with webhook-* or svix-* headers', () => {
    assert.equal(
      verifyWebhook({ headers: headers(V1), body: BODY, secrets: [SECRET], now: AT_VECTOR }).ok,
      true,
    );
    assert.equal(
      verifyWebhook({ headers: headers(V1A), body: BODY, secrets: [PUBLIC_KEY], now: AT_VECTOR }).ok,
      true,
    );
    const svix = { 'svix-id': MSG_ID, 'svix-timestamp': String(TIMESTAMP), 'svix-signature': V1 };
    assert.equal(
      verifyWebhook({ headers: svix, body: Buffer.from(BODY), secrets: [SECRET], now: AT_VECTOR }).ok,
      true,
    );
  });

  it('rejects the negative cases of the reference libraries', () => {
    const rejected = (signature: string, now = AT_VECTOR, body = BODY) =>
      verifyWebhook({ headers: headers(signature), body, secrets: [SECRET], now });
    assert.equal(rejected('v1,dawfeoifkpqwoekfpqoekf').ok, false);
    assert.equal(rejected(V1.slice(0, -4)).ok, false);
    assert.equal(rejected('v1,').ok, false);
    assert.equal(rejected('').ok, false);
    assert.equal(rejected(V1, AT_VECTOR, '{"test": 2432232315}').ok, false);
    assert.deepEqual(rejected(V1, AT_VECTOR + 301_000), { ok: false, reason: 'timestamp too old' });
    assert.deepEqual(rejected(V1, AT_VECTOR - 301_000), { ok: false, reason: 'timestamp too new' });
    assert.equal(rejected(V1, AT_VECTOR + 299_000).ok, true);
    // A v1a signature is not checked against an HMAC secret, and vice versa.
    assert.equal(rejected(V1A).ok, false);
    assert.equal(
      verifyWebhook({ headers: headers(V1), body: BODY, secrets: [PUBLIC_KEY], now: AT_VECTOR }).ok,
      false,
    );
  });

  it('accepts a header holding decoys and the valid entry', () => {
    const decoys = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${V1}`;
    assert.equal(
      verifyWebhook({ headers: headers(decoys), body: BODY, secrets: [SECRET], now: AT_VECTOR }).ok,
      true,
    );
  });

  it('is verified by the standardwebhooks and svix packages', () => {
    const secret = generateSecret();
    const now = Date.now();
    const timestamp = Math.floor(now / 1000);
    const body = JSON.stringify({ type: 'user.created', data: { name: 'Zoë 😀' } });
    const signature = signatureHeader([{ key: secret, expiresAt: null }], MSG_ID, timestamp, body, now);
    const h = headers(signature, timestamp);
    assert.deepEqual(new StandardWebhook(secret).verify(body, h), JSON.parse(body));
    const svixHeaders = {
      'svix-id': MSG_ID,
      'svix-timestamp': String(timestamp),
      'svix-signature': signature,
    };
    assert.deepEqual(new SvixWebhook(secret).verify(body, svixHeaders), JSON.parse(body));
    assert.throws(() => new StandardWebhook(secret).verify(`${body} `, h));
  });

  it('generates secrets and key pairs that round-trip', () => {
    const secret = generateSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 24);
    const pair = generateSigningKeyPair();
    assert.equal(publicKeyOf(pair.secretKey), pair.publicKey);
    const header = signatureHeader([{ key: pair.secretKey, expiresAt: null }], MSG_ID, TIMESTAMP, BODY, 0);
    assert.equal(
      verifyWebhook({ headers: headers(header), body: BODY, secrets: [pair.publicKey], now: AT_VECTOR }).ok,
      true,
    );
  });

  it('normalises user-supplied secrets like Svix', () => {
    const bare = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    assert.deepEqual(normaliseSecret(bare), { ok: true, secret: SECRET });
    assert.deepEqual(normaliseSecret(SECRET), { ok: true, secret: SECRET });
    assert.deepEqual(normaliseSecret(SIGNING_KEY), { ok: true, secret: SIGNING_KEY });
    for (const bad of [
      'short',
      'whsec_tooShort',
      `whsec_${'a'.repeat(101)}`,
      'whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw',
      'whsec_=MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    ]) {
      assert.equal(normaliseSecret(bad).ok, false, bad);
    }
    // The second half of a whsk_ key must be the seed's own public key.
    const pair = generateSigningKeyPair();
    const mismatched = `whsk_${Buffer.concat([Buffer.from(pair.secretKey.slice(5), 'base64').subarray(0, 32), Buffer.alloc(32, 1)]).toString('base64')}`;
    assert.equal(normaliseSecret(mismatched).ok, false);
    assert.equal(parseSigningKey(mismatched), undefined);
  });
});
