import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerConfigError } from '../../src/delivery/brokers/broker-config.ts';
import {
  abortable,
  BrokerUnavailableError,
  createConnectionPool,
  failureOutcome,
  withTimeout,
} from '../../src/delivery/brokers/connection-pool.ts';

test('concurrent acquires share one connection attempt, and the connection is reused', async () => {
  const closed: number[] = [];
  const pool = createConnectionPool<number>(async (n) => {
    closed.push(n);
  });
  let opened = 0;
  const open = async () => ++opened;
  const [a, b] = await Promise.all([pool.acquire('k', open, 1000), pool.acquire('k', open, 1000)]);
  assert.equal(a, 1);
  assert.equal(b, 1);
  assert.equal(await pool.acquire('k', open, 1000), 1);
  assert.equal(await pool.acquire('other', open, 1000), 2);
  assert.equal(pool.size(), 2);
  pool.discard('k', 1);
  assert.equal(pool.size(), 1);
  assert.equal(await pool.acquire('k', open, 1000), 3);
  await pool.close();
  assert.deepEqual(closed.sort(), [1, 2, 3]);
  await assert.rejects(pool.acquire('k', open, 1000), BrokerUnavailableError);
});

test('failed connects back off, doubling up to the cap; a success resets the count', async () => {
  const pool = createConnectionPool<number>(async () => {}, { initialMs: 1000, maxMs: 4000 });
  const failing = async (): Promise<number> => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  };
  const waits: number[] = [];
  const realNow = Date.now;
  let now = realNow();
  Date.now = () => now;
  try {
    for (let i = 0; i < 5; i++) {
      const error = await pool.acquire('k', failing, 1000).catch((e: unknown) => e);
      assert.ok(error instanceof BrokerUnavailableError);
      assert.match(error.message, /^cannot connect: connect ECONNREFUSED/);
      waits.push(error.retryAfterMs);
      // Inside the window the pool refuses without trying.
      const refused = await pool.acquire('k', failing, 1000).catch((e: unknown) => e);
      assert.ok(
        refused instanceof BrokerUnavailableError && /next connection attempt in/.test(refused.message),
      );
      now += error.retryAfterMs;
    }
    // Each wait is between half and all of its ceiling: 1 s, 2 s, 4 s, 4 s, 4 s.
    for (const [i, ceiling] of [1000, 2000, 4000, 4000, 4000].entries()) {
      const wait = waits[i] ?? 0;
      assert.ok(wait >= ceiling / 2 && wait <= ceiling, `wait ${i}: ${wait}`);
    }
    assert.equal(await pool.acquire('k', async () => 7, 1000), 7);
  } finally {
    Date.now = realNow;
    await pool.close();
  }
});

test('config errors do not back off; a late connection is closed', async () => {
  const closed: number[] = [];
  const pool = createConnectionPool<number>(async (n) => {
    closed.push(n);
  });
  await assert.rejects(
    pool.acquire('k', async () => Promise.reject(new BrokerConfigError('bad')), 1000),
    BrokerConfigError,
  );
  assert.equal(await pool.acquire('k', async () => 1, 1000), 1);
  let release: (n: number) => void = () => {};
  const slow = new Promise<number>((resolve) => {
    release = resolve;
  });
  await assert.rejects(
    pool.acquire('slow', () => slow, 20),
    /timed out after 20 ms connecting/,
  );
  release(9);
  await slow;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(closed, [9]);
  await pool.close();
});

test('withTimeout passes results and errors through, and failureOutcome classifies', async () => {
  assert.equal(await withTimeout(Promise.resolve(1), 100, 'x'), 1);
  await assert.rejects(withTimeout(Promise.reject(new Error('boom')), 100, 'x'), /boom/);
  const started = performance.now();
  assert.equal(failureOutcome(new BrokerConfigError('uri is bad'), started).kind, 'permanent');
  const unavailable = failureOutcome(new BrokerUnavailableError('down', 1234), started);
  assert.ok(unavailable.kind === 'retryable' && unavailable.retryAfterMs === 1234);
  const plain = failureOutcome(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), started);
  assert.ok(plain.kind === 'retryable' && plain.error === 'reset (ECONNRESET)');
  assert.equal(failureOutcome('thrown string', started, () => true).kind, 'permanent');
});

test('abortable: the attempt when it settles first, a retryable "aborted" when the signal fires first', async () => {
  const started = performance.now();
  const done = { kind: 'success', response: 'ok', durationMs: 1 } as const;
  assert.equal(await abortable(Promise.resolve(done), undefined, started), done);
  assert.equal(await abortable(Promise.resolve(done), new AbortController().signal, started), done);
  const early = new AbortController();
  early.abort();
  const never = new Promise<never>(() => {});
  assert.match(JSON.stringify(await abortable(never, early.signal, started)), /"kind":"retryable".*aborted/);
  const later = new AbortController();
  const pending = abortable(never, later.signal, started);
  later.abort();
  const outcome = await pending;
  assert.ok(outcome.kind === 'retryable' && /shutting down/.test(outcome.error));
});
