import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idBoundary, idTime, idTimeApprox, newId } from '../../src/domain/ids.ts';
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

  it('give their time without BigInt to within a millisecond (idTimeApprox)', () => {
    let at = Date.now();
    for (let index = 0; index < 5000; index++) {
      at += index % 7;
      const id = newId('delivery', at);
      const off = idTimeApprox(id) - (idTime(id) ?? Number.NaN);
      assert.ok(off >= -1 && off <= 1, `${id}: ${off} ms off`);
    }
    assert.equal(idTimeApprox(idBoundary('message', 0)), 0);
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
