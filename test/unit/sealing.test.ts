import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError, configWith } from '../../src/config/load.ts';
import { createSealer, SEALED_PREFIX, SealedValueError } from '../../src/storage/sealing.ts';

const base64Key = () => randomBytes(32).toString('base64');
const hexKey = () => randomBytes(32).toString('hex');

test('a sealed value opens to the text, is not the text, and differs each time (random IV)', () => {
  const sealer = createSealer([base64Key()]);
  const text = '[{"key":"whsec_abc","expiresAt":null}]';
  const one = sealer.seal(text, 'secrets');
  const two = sealer.seal(text, 'secrets');
  assert.ok(one.startsWith(`${SEALED_PREFIX}${sealer.keyIds[0]}:`));
  assert.ok(!one.includes('whsec_abc'));
  assert.notEqual(one, two);
  assert.equal(sealer.open(one, 'secrets'), text);
  assert.equal(sealer.open(two, 'secrets'), text);
});

test('plaintext from before a key was set reads as is; without keys nothing is sealed', () => {
  assert.equal(createSealer([hexKey()]).open('[{"key":"whsec_x"}]', 'secrets'), '[{"key":"whsec_x"}]');
  const none = createSealer([]);
  assert.equal(none.sealing, false);
  assert.equal(none.seal('{"a":1}', 'config'), '{"a":1}');
});

test('a value sealed with a key not held, altered, or moved to another column does not open', () => {
  const old = createSealer([base64Key()]);
  const sealed = old.seal('{"uri":"amqp://u:p@h"}', 'config');
  assert.throws(() => createSealer([base64Key()]).open(sealed, 'config'), SealedValueError);
  assert.throws(() => createSealer([]).open(sealed, 'config'), /HOOKYARD_ENCRYPTION_KEY does not hold/);
  const flipped = `${sealed.slice(0, -4)}${sealed.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  assert.throws(() => old.open(flipped, 'config'), /altered/);
  assert.throws(() => old.open(sealed, 'egress'), /altered/);
});

test('during a rotation the first key seals and every key listed opens', () => {
  const [a, b] = [base64Key(), hexKey()];
  const before = createSealer([a]).seal('x', 'secrets');
  const rotating = createSealer([b, a]);
  assert.equal(rotating.open(before, 'secrets'), 'x');
  assert.ok(rotating.seal('x', 'secrets').includes(rotating.keyIds[0] ?? '?'));
  assert.equal(createSealer([b]).open(rotating.seal('x', 'secrets'), 'secrets'), 'x');
  // --plaintext: opens with the keys, writes plaintext.
  assert.equal(createSealer([a], { plaintext: true }).seal('x', 'secrets'), 'x');
});

test('HOOKYARD_ENCRYPTION_KEY in the wrong format stops start-up with one line naming it, never echoing it', () => {
  for (const bad of ['short', 'x'.repeat(64), randomBytes(16).toString('base64'), `${hexKey()},nope`]) {
    assert.throws(
      () => configWith({ encryptionKey: bad }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^invalid HOOKYARD_ENCRYPTION_KEY=\(hidden\): expected .*32-byte keys/);
        assert.doesNotMatch(error.message, /\n/);
        assert.ok(!error.message.includes(bad));
        return true;
      },
    );
  }
  const same = base64Key();
  assert.throws(() => configWith({ encryptionKey: `${same},${same}` }), /distinct/);
  const [a, b] = [base64Key(), hexKey()];
  assert.deepEqual(configWith({ encryptionKey: ` ${a} , ${b} ` }).encryptionKey, [a, b]);
  assert.deepEqual(configWith({ encryptionKey: '' }).encryptionKey, []);
  // URL-safe base64 (openssl rand output piped through tr, or a secret manager's) is accepted too.
  assert.equal(
    configWith({ encryptionKey: a.replace(/\+/g, '-').replace(/\//g, '_') }).encryptionKey.length,
    1,
  );
});
