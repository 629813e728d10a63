import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAdmission } from '../../src/dispatch/admission.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { ClaimedTask } from '../../src/storage/contract.ts';

function task(n: number, endpointId = 'ep_a'): ClaimedTask {
  return {
    deliveryId: `dlv_${n}`,
    appId: 'app_1',
    msgId: `msg_${n}`,
    endpointId,
    attempts: 0,
    eventType: 'user.created',
    payload: '{}',
    triggerType: 0,
    failStreak: 0,
  };
}

/** Admission whose attempts run until the test ends them. */
function harness(concurrency: number, endpointCap = concurrency) {
  const finish: (() => void)[] = [];
  let slotsFreed = 0;
  const admission = createAdmission({
    deliveries: { unpark: async () => ({ taken: 0, tasks: [] }) },
    owner: 'w',
    concurrency,
    endpointCap,
    leaseMs: 60_000,
    claimBatch: 100,
    clock: Date.now,
    logger: createLogger('silent', false),
    run: (_task, responded) =>
      new Promise<void>((resolve) => {
        finish.push(() => {
          responded();
          resolve();
        });
      }),
    slotFreed: () => slotsFreed++,
    requestEnded: () => {},
  });
  return { admission, started: () => finish.length, slotsFreed: () => slotsFreed };
}

test('reserved slots are not free to claims until released, and release wakes a waiting claim', async () => {
  const h = harness(4);
  assert.equal(h.admission.reserve(3), 3);
  assert.equal(h.admission.free(), 1);
  assert.equal(h.admission.reserve(5), 1, 'no more than is free');
  assert.equal(h.admission.reserve(1), 0);
  let unreserved = false;
  void h.admission.unreserved().then(() => {
    unreserved = true;
  });

  // The first hand-off accepts two tasks for its three slots, then gives the three back.
  h.admission.accept(task(1));
  h.admission.accept(task(2));
  h.admission.release(3);
  assert.equal(h.started(), 2);
  assert.equal(h.admission.free(), 1, 'two running, one still reserved');
  assert.equal(h.slotsFreed(), 1);
  await Promise.resolve();
  assert.equal(unreserved, false, 'the second reservation is open');
  h.admission.release(1);
  await Promise.resolve();
  assert.equal(unreserved, true);
  assert.equal(h.admission.free(), 2);
});

test('rounds count apart: each admits up to the endpoint cap, and accept queues what is beyond it', () => {
  const h = harness(8, 2);
  const claim = h.admission.gate();
  const ingest = h.admission.gate();
  const say = (round: typeof claim) =>
    [1, 2, 3].map(() => round.admit({ deliveryId: 'd', endpointId: 'ep_a' }));
  assert.deepEqual(say(claim), [undefined, undefined, undefined], 'two to start, one to queue');
  assert.deepEqual(say(ingest), [undefined, undefined, undefined], 'another round counts afresh');
  assert.equal(claim.parked(), 0);
  for (let n = 0; n < 6; n++) h.admission.accept(task(n));
  assert.equal(h.started(), 2, 'the cap holds however the rounds counted');
});

test("a hand-off's round gives back what a claim's would park; a queue or a park makes the dispatcher backlogged", () => {
  const h = harness(2, 1);
  const ask = (round: ReturnType<typeof h.admission.gate>) =>
    round.admit({ deliveryId: 'd', endpointId: 'ep_a' });
  assert.equal(h.admission.backlogged(), false);
  h.admission.accept(task(1));
  assert.equal(h.admission.backlogged(), false, 'running is not a backlog');
  h.admission.accept(task(2));
  assert.equal(h.admission.backlogged(), true, 'queued behind the endpoint cap');

  // The cap is taken and the queue (bounded by concurrency, 2) holds one: one more fits, then no room.
  const handOff = h.admission.gate('give back');
  assert.equal(ask(handOff), undefined);
  const due = ask(handOff);
  assert.equal(typeof due, 'number', 'given back, due now');
  assert.ok(Math.abs((due as number) - Date.now()) < 1_000);
  assert.equal(handOff.parked(), 0);
  const claim = h.admission.gate();
  ask(claim);
  assert.equal(ask(claim), 'park');
  assert.equal(claim.parked(), 1);
});
