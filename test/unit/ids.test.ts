import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { idBoundary, idOfBytes, idTime, newId } from '../../src/domain/ids.ts';
import { generateAdminToken, hashToken, tokenMatches } from '../../src/domain/tokens.ts';

describe('ids', () => {
  it('carry the Svix prefix and a fixed-length body', () => {
    assert.match(newId('application'), /^app_[0-9A-Za-z]{27}$/);
    assert.match(newId('endpoint'), /^ep_[0-9A-Za-z]{27}$/);
    assert.match(newId('message'), /^msg_[0-9A-Za-z]{27}$/);
    assert.match(newId('attempt'), /^atmpt_[0-9A-Za-z]{27}$/);
  });

  it('sort by time, strictly, even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => newId('message', 1_700_000_000_000));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
    const later = newId('message', 1_700_000_000_001);
    assert.ok(ids.at(-1)! < later);
  });

  it('encode their creation time, and boundaries bracket it', () => {
    const now = Date.now();
    const id = newId('message', now);
    assert.equal(idTime(id), now);
    assert.ok(idBoundary('message', now) <= id);
    assert.ok(idBoundary('message', now + 1) > id);
    assert.equal(idTime('msg_nope'), undefined);
  });

  it('encode 20 bytes and decode their time exactly as the BigInt arithmetic does', () => {
    const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const reference = (bytes: Buffer) => {
      let value = BigInt(`0x${bytes.toString('hex')}`);
      let body = '';
      for (let i = 0; i < 27; i++) {
        body = ALPHABET[Number(value % 62n)] + body;
        value /= 62n;
      }
      return body;
    };
    const samples = [
      Buffer.alloc(20),
      Buffer.alloc(20, 0xff),
      Buffer.from(`000000000001${'00'.repeat(14)}`, 'hex'),
    ];
    for (let i = 0; i < 2000; i++) samples.push(randomBytes(20));
    for (const bytes of samples) {
      const id = idOfBytes('message', bytes);
      assert.equal(id, `msg_${reference(bytes)}`);
      assert.equal(idTime(id), bytes.readUIntBE(0, 6));
    }
    // The largest body 27 digits can hold is more than 20 bytes: its time is still what BigInt says.
    assert.equal(idTime(`msg_${'z'.repeat(27)}`), Number((62n ** 27n - 1n) >> 112n));
    for (const bad of ['msg_nope', `msg_${'!'.repeat(27)}`, `msg_${'é'.repeat(27)}`, `msg_${'0'.repeat(28)}`])
      assert.equal(idTime(bad), undefined, bad);
  });

  it('draw fresh randomness for every millisecond, past any refill of the pool it comes from', () => {
    const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const randomPart = (id: string) => {
      let value = 0n;
      for (const char of id.slice(-27)) value = value * 62n + BigInt(ALPHABET.indexOf(char));
      return value & ((1n << 112n) - 1n);
    };
    // Ahead of every id made so far in this process, so each call starts a new millisecond.
    const start = Date.now() + 1;
    const parts = new Set(Array.from({ length: 3000 }, (_, ms) => randomPart(newId('message', start + ms))));
    assert.equal(parts.size, 3000);
    assert.ok(![...parts].includes(0n));
  });
});

describe('admin tokens', () => {
  it('match only their own hash', () => {
    const token = generateAdminToken();
    assert.ok(tokenMatches(token, hashToken(token)));
    assert.ok(!tokenMatches(`${token}x`, hashToken(token)));
    assert.ok(!tokenMatches('', hashToken(token)));
    assert.notEqual(generateAdminToken(), token);
  });
});
