/**
 * Endpoint stats (Svix's GET …/endpoint/{id}/stats) on every backend: `success` counts the successful
 * attempts that finished in the range, from the stats rollup for whole minutes and from the attempts
 * for the minutes the range cuts; the other statuses count the deliveries created in the range.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idBoundary } from '../../src/domain/ids.ts';
import { type AttemptOutcome, MessageStatus, type Storage } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, message, outcome } from './fixtures.ts';

const MINUTE = 60_000;
/** The fixtures' attempts take this long: an attempt started at `at` finished at `at + DURATION`. */
const DURATION = 12;

/**
 * An attempt started at `at`, with an id of that time, as the dispatcher makes them (`newId` here would
 * stamp a time in the past with the latest id's time instead).
 */
function tried(
  task: Parameters<typeof outcome>[0],
  next: MessageStatus,
  at: number,
  options: { nextAttemptAt?: number } = {},
): AttemptOutcome {
  const made = outcome(task, next, { ...options, at });
  return { ...made, attempt: { ...made.attempt, id: idBoundary('attempt', at) } };
}

/** Ingests one message per entry of `count`, to `endpointId`, and leases their deliveries. */
async function leased(storage: Storage, appId: string, endpointId: string, count: number) {
  for (let i = 0; i < count; i++)
    await storage.messages.ingest({ message: message(appId), endpointIds: [endpointId] });
  const tasks = await storage.deliveries.claim('w', count, Date.now(), 60_000);
  assert.equal(tasks.length, count);
  return tasks;
}

forEachBackend((backend) => {
  test('success counts attempts by the millisecond they finished, across cut and whole minutes', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const endpointId = endpoints[0]!.id;
    // Three minutes in the past, starting on a minute boundary.
    const m = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    const [a, b, c, retried] = await leased(storage, app.id, endpointId, 4);
    await storage.deliveries.complete([
      tried(a!, MessageStatus.success, m + 30_000),
      tried(b!, MessageStatus.success, m + MINUTE + 5_000),
      tried(c!, MessageStatus.success, m + 2 * MINUTE + 5_000),
      // A failed try: a retry, not a success; its delivery is sending until its next try succeeds.
      tried(retried!, MessageStatus.sending, m + 10_000, { nextAttemptAt: Date.now() - 1 }),
    ]);
    const again = await storage.deliveries.claim('w', 10, Date.now(), 60_000);
    assert.equal(again.length, 1);
    assert.deepEqual(await storage.endpoints.stats(endpointId, {}), {
      success: 3,
      pending: 0,
      sending: 1,
      fail: 0,
      canceled: 0,
    });
    await storage.deliveries.complete([tried(again[0]!, MessageStatus.success, m + MINUTE + 20_000)]);

    const aDone = m + 30_000 + DURATION;
    const cDone = m + 2 * MINUTE + 5_000 + DURATION;
    const success = async (range: { after?: number; before?: number }) =>
      (await storage.endpoints.stats(endpointId, range)).success;
    assert.equal(await success({}), 4);
    assert.equal((await storage.endpoints.stats(endpointId, {})).sending, 0);
    // Cut at both ends: a in the first cut minute, b and the retry in the whole one, c in the last cut one.
    assert.equal(await success({ after: aDone - 1, before: cDone + 1 }), 4);
    // Each end exact to the millisecond.
    assert.equal(await success({ after: aDone, before: cDone + 1 }), 3);
    assert.equal(await success({ after: aDone - 1, before: cDone }), 3);
    assert.equal(await success({ after: aDone, before: cDone }), 2);
    // Open at one end.
    assert.equal(await success({ before: cDone }), 3);
    assert.equal(await success({ after: aDone }), 3);
    // Whole minutes only, and a range inside one minute.
    assert.equal(await success({ after: m + MINUTE - 1, before: m + 2 * MINUTE }), 2);
    assert.equal(await success({ after: m - 1, before: m + MINUTE }), 1);
    assert.equal(await success({ after: m + 30_000, before: m + 31_000 }), 1);
    assert.equal(await success({ after: m + 31_000, before: m + 59_000 }), 0);
    assert.equal(await success({ after: cDone, before: cDone }), 0);
    // Before any of them.
    assert.equal(await success({ before: m }), 0);
  });

  test('a delivery resent after it succeeded counts once per success; while queued, as pending', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const endpointId = endpoints[0]!.id;
    const [task] = await leased(storage, app.id, endpointId, 1);
    await storage.deliveries.complete([outcome(task!, MessageStatus.success)]);
    assert.equal(await storage.replay.resend(app.id, task!.msgId, endpointId, Date.now()), 'queued');
    assert.deepEqual(await storage.endpoints.stats(endpointId, {}), {
      success: 1,
      pending: 1,
      sending: 0,
      fail: 0,
      canceled: 0,
    });
    const [resent] = await storage.deliveries.claim('w', 1, Date.now(), 60_000);
    await storage.deliveries.complete([outcome(resent!, MessageStatus.success)]);
    assert.deepEqual(await storage.endpoints.stats(endpointId, {}), {
      success: 2,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
    });
  });

  test('success follows the stats retention, not the message retention', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const endpointId = endpoints[0]!.id;
    const now = Date.now();
    const m = Math.floor(now / MINUTE) * MINUTE - 10 * MINUTE;
    // Retention goes by the time in the message id; 40 days back is in a range PostgreSQL's partitions
    // purge row by row (test/storage/partitions.test.ts).
    const oldAt = now - 40 * 86_400_000;
    const old = message(app.id, { id: idBoundary('message', oldAt), createdAt: oldAt });
    await storage.messages.ingest({ message: old, endpointIds: [endpointId] });
    const [task] = await storage.deliveries.claim('w', 1, now, 60_000);
    await storage.deliveries.complete([tried(task!, MessageStatus.success, m + 1_000)]);
    const [late] = await leased(storage, app.id, endpointId, 1);
    await storage.deliveries.complete([tried(late!, MessageStatus.success, m + 3 * MINUTE)]);
    assert.equal((await storage.endpoints.stats(endpointId, {})).success, 2);

    // The old message goes with its delivery and attempt; its success stays in the rollup.
    assert.equal(await storage.retention.purgeMessagesBefore(now - 30 * 86_400_000, 100), 1);
    assert.equal(await storage.deliveries.get(old.id, endpointId), undefined);
    assert.equal((await storage.endpoints.stats(endpointId, {})).success, 2);
    // A whole minute of it still counts; a cut part of that minute reads the attempts, which are gone.
    assert.equal(
      (await storage.endpoints.stats(endpointId, { after: m - 1, before: m + MINUTE })).success,
      1,
    );
    assert.equal((await storage.endpoints.stats(endpointId, { after: m, before: m + MINUTE })).success, 0);

    // The rollup's retention drops the minutes before its cutoff, and their successes with them.
    await storage.stats.purgeBefore(m + MINUTE, 100);
    assert.equal((await storage.endpoints.stats(endpointId, {})).success, 1);
    assert.deepEqual(await storage.endpoints.stats(endpointId, { after: m + 2 * MINUTE }), {
      success: 1,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
    });
  });
});
