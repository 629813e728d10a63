import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClaimPump, type PassResult } from '../../src/dispatch/claim-pump.ts';
import { createLogger } from '../../src/log/logger.ts';

/** A pump whose passes wait for the test to answer them, one at a time. */
function harness(options: { ready?: () => boolean; pollIntervalMs?: number } = {}) {
  const answers: ((result: PassResult) => void)[] = [];
  let passes = 0;
  let notify: (() => void) | undefined;
  let unsubscribed = false;
  const pump = createClaimPump({
    clock: Date.now,
    pollIntervalMs: options.pollIntervalMs ?? 60_000,
    subscribe(wake) {
      notify = wake;
      return () => {
        unsubscribed = true;
      };
    },
    ready: options.ready ?? (() => true),
    logger: createLogger('silent', false),
    pass() {
      passes += 1;
      return new Promise<PassResult>((resolve) => answers.push(resolve));
    },
  });
  return {
    pump,
    passes: () => passes,
    notify: () => notify?.(),
    unsubscribed: () => unsubscribed,
    /** Answers the pass in flight, then lets the pump take its next step. */
    async answer(result: PassResult) {
      const resolve = answers.shift();
      assert.ok(resolve, 'a pass is in flight');
      resolve(result);
      await sleep(0);
    },
  };
}

test('a wake during a pass is not lost: the pump passes once more, then rests', async () => {
  const h = harness();
  h.pump.start();
  assert.equal(h.passes(), 1);
  h.notify();
  h.notify(); // two wakes during one pass ask for one more pass, not two
  assert.equal(h.passes(), 1, 'one pass at a time');
  await h.answer('idle');
  assert.equal(h.passes(), 2);
  await h.answer('idle');
  assert.equal(h.passes(), 2, 'no wake came during the second pass');
  await h.pump.stop();
  assert.ok(h.unsubscribed());
});

test('a full batch claims again at once; stop leaves the next pass to a later wake', async () => {
  const h = harness();
  h.pump.start();
  await h.answer('more');
  await h.answer('more');
  assert.equal(h.passes(), 3);
  h.notify();
  await h.answer('stop');
  assert.equal(h.passes(), 3, 'a wake during a stopping pass does not run another');
  h.notify();
  assert.equal(h.passes(), 4, 'the next wake does');
  await h.answer('idle');
  await h.pump.stop();
});

test('a wake while not ready runs no pass, and none after stop', async () => {
  let ready = false;
  const h = harness({ ready: () => ready });
  h.pump.start();
  assert.equal(h.passes(), 0);
  ready = true;
  h.pump.wake();
  assert.equal(h.passes(), 1);
  await h.answer('idle');
  await h.pump.stop();
  h.pump.wake();
  h.notify();
  assert.equal(h.passes(), 1);
  assert.equal(h.pump.running, false);
});

test('the timer wakes at the earliest due time armed, never later than the poll', async () => {
  const h = harness({ pollIntervalMs: 60_000 });
  h.pump.start();
  await h.answer('idle');
  h.pump.armTimer(Date.now() + 10_000);
  h.pump.armTimer(Date.now() + 30); // earlier: replaces the timer
  h.pump.armTimer(Date.now() + 20_000); // later: ignored
  await sleep(200);
  assert.equal(h.passes(), 2, 'woken by the 30 ms timer');
  await h.answer('idle');
  await h.pump.stop();

  const capped = harness({ pollIntervalMs: 40 });
  capped.pump.start();
  await capped.answer('idle');
  capped.pump.armTimer(Date.now() + 3_600_000);
  await sleep(200);
  assert.ok(capped.passes() >= 2, 'the poll interval bounds the wait');
  const stopping = capped.pump.stop(); // the polls during the pass in flight would ask for another
  await capped.answer('idle');
  await stopping;
});

test('stop resolves once the pass in flight has ended', async () => {
  const h = harness();
  h.pump.start();
  let stopped = false;
  const stopping = h.pump.stop().then(() => {
    stopped = true;
  });
  await sleep(10);
  assert.equal(stopped, false, 'the pass is still in flight');
  await h.answer('more');
  await stopping;
  assert.equal(h.passes(), 1, 'a stopped pump claims no more, even after a full batch');
});

test('restUntilDue arms the timer at the due time read, and a failed read is not thrown', async () => {
  const h = harness();
  h.pump.start();
  await h.answer('idle');
  assert.equal(await h.pump.restUntilDue(async () => Date.now() + 30, 'test'), 'idle');
  await sleep(200);
  assert.equal(h.passes(), 2, 'woken at the due time read');
  await h.answer('idle');
  const failed = await h.pump.restUntilDue(async () => {
    throw new Error('storage down');
  }, 'test');
  assert.equal(failed, 'idle');
  await sleep(100);
  assert.equal(h.passes(), 2, 'the retry waits a second, not a spin');
  await h.pump.stop();
});

test('the pump rests only between passes, after one that found nothing more due', async () => {
  const h = harness();
  assert.equal(h.pump.resting, false, 'not started');
  h.pump.start();
  assert.equal(h.pump.resting, false, 'a pass is under way');
  await h.answer('more');
  assert.equal(h.pump.resting, false, 'claiming again at once');
  await h.answer('idle');
  assert.equal(h.pump.resting, true);
  h.notify();
  assert.equal(h.pump.resting, false, 'woken: a pass is under way');
  await h.answer('stop');
  assert.equal(h.pump.resting, false, 'stopped full (saturated, capped, or storage failing): not resting');
  h.notify();
  await h.answer('idle');
  assert.equal(h.pump.resting, true);
  await h.pump.stop();
  assert.equal(h.pump.resting, false, 'stopped');
});
