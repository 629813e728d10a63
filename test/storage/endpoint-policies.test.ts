import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AttemptOutcome,
  type AttemptSignal,
  type ChangeEvent,
  type ClaimedTask,
  MessageStatus,
  type Storage,
} from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, message, outcome } from './fixtures.ts';

/**
 * The endpoint policies as storage applies them, with time passed in (claims take `now`, completions
 * their attempts' `createdAt`): no waiting.
 */
const UNREACHABLE: AttemptSignal = { responded: false, unreachable: true, gone: false, pauseUntil: null };
const RESPONDED: AttemptSignal = { responded: true, unreachable: false, gone: false, pauseUntil: null };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function failed(task: ClaimedTask, at: number, signal: AttemptSignal, retryAt: number): AttemptOutcome {
  return {
    ...outcome(task, MessageStatus.sending, {
      nextAttemptAt: retryAt,
      at,
      statusCode: signal.responded ? 500 : 0,
    }),
    signal,
  };
}

async function ingestMany(storage: Storage, appId: string, endpointIds: string[], count: number, at: number) {
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const m = message(appId, { createdAt: at - count + index });
      ids.push(m.id);
      await storage.messages.ingest({ message: m, endpointIds });
    }),
  );
  return ids;
}

forEachBackend((backend) => {
  test('an open circuit costs one probe per interval, however large the backlog; a success releases it', async (t) => {
    const storage = await backend.create({ circuitThreshold: '5', circuitProbeInterval: '30s' });
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const [dead, healthy] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
    const t0 = Date.now();
    const backlog = 20_000;
    await ingestMany(storage, app.id, [dead.id], backlog, t0);

    // Five attempts find the host down: the circuit opens and the backlog leaves the due range.
    const first = await storage.deliveries.claim('w', 5, t0, 60_000);
    assert.equal(first.length, 5);
    await storage.deliveries.complete(first.map((task) => failed(task, t0, UNREACHABLE, t0 + 5_000)));
    const health = await storage.endpoints.health(dead.id);
    assert.equal(health?.circuit, 'open');
    assert.equal(health?.nextProbeAt, t0 + 30_000);

    // New work for a healthy endpoint is not stuck behind the dead endpoint's 20,000 rows.
    await storage.messages.ingest({ message: message(app.id, { createdAt: t0 }), endpointIds: [healthy.id] });
    const meanwhile = await storage.deliveries.claim('w', 100, t0 + 1, 60_000);
    assert.deepEqual(
      meanwhile.map((task) => task.endpointId),
      [healthy.id],
    );
    await storage.deliveries.complete(
      meanwhile.map((task) => ({
        ...outcome(task, MessageStatus.success, { at: t0 + 1 }),
        signal: RESPONDED,
      })),
    );
    assert.equal(await storage.deliveries.nextDueAt(), t0 + 30_000);

    // Four intervals with a claim every second: one probe each, each failing.
    let attempts = 0;
    for (let now = t0 + 2_000; now < t0 + 4 * 30_000 + 1_000; now += 1_000) {
      const tasks = await storage.deliveries.claim('w', 100, now, 60_000);
      attempts += tasks.length;
      if (tasks.length > 0)
        await storage.deliveries.complete(tasks.map((task) => failed(task, now, UNREACHABLE, now + 300_000)));
    }
    assert.equal(attempts, 4);

    // The next probe gets an HTTP response: the host is up, everything held is due again.
    const probeAt = (await storage.endpoints.health(dead.id))?.nextProbeAt;
    assert.ok(probeAt);
    const [probe, ...none] = await storage.deliveries.claim('w', 100, probeAt, 60_000);
    assert.ok(probe);
    assert.equal(none.length, 0);
    await storage.deliveries.complete([
      { ...outcome(probe, MessageStatus.success, { at: probeAt }), signal: RESPONDED },
    ]);
    assert.equal((await storage.endpoints.health(dead.id))?.circuit, 'closed');
    const stats = await storage.endpoints.stats(dead.id, {});
    assert.equal(stats.pending + stats.sending, backlog - 1);
    const released = await storage.deliveries.claim('w', 100, probeAt + 1, 60_000);
    assert.equal(released.length, 100);
  });

  test('failing for HOOKYARD_DISABLE_AFTER disables the endpoint once; re-enabling resumes it', async (t) => {
    const storage = await backend.create({ disableAfter: '5d' });
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const endpoint = endpoints[0]!;
    const changes: ChangeEvent[] = [];
    storage.subscribe((event) => changes.push(event));
    const t0 = Date.now();
    await ingestMany(storage, app.id, [endpoint.id], 3, t0);

    const [a, b, c] = (await storage.deliveries.claim('w', 3, t0, 60_000)) as [
      ClaimedTask,
      ClaimedTask,
      ClaimedTask,
    ];
    let report = await storage.deliveries.complete([failed(a, t0, RESPONDED, t0 + DAY)]);
    assert.deepEqual(report.disabled, []);
    assert.equal((await storage.endpoints.health(endpoint.id))?.failSince, t0);
    report = await storage.deliveries.complete([failed(b, t0 + 4 * DAY, RESPONDED, t0 + 6 * DAY)]);
    assert.deepEqual(report.disabled, []);
    report = await storage.deliveries.complete([failed(c, t0 + 5 * DAY, RESPONDED, t0 + 6 * DAY)]);
    assert.deepEqual(report.disabled, [{ appId: app.id, endpointId: endpoint.id, failSince: t0 }]);
    const disabled = await storage.endpoints.get(app.id, endpoint.id);
    assert.equal(disabled?.disabled, true);
    assert.ok(changes.some((event) => event.kind === 'endpoint' && event.id === endpoint.id));

    // Held: nothing due, not even after the retries' times.
    assert.equal(await storage.deliveries.nextDueAt(), null);
    assert.deepEqual(await storage.deliveries.claim('w', 10, t0 + 30 * DAY, 60_000), []);
    // New messages that reach it anyway (a cache that had not heard yet) are held at their first claim.
    await storage.messages.ingest({ message: message(app.id), endpointIds: [endpoint.id] });
    assert.deepEqual(await storage.deliveries.claim('w', 10, Date.now() + 1, 60_000), []);

    assert.ok(disabled);
    await storage.endpoints.update({ ...disabled, disabled: false, updatedAt: Date.now() });
    const health = await storage.endpoints.health(endpoint.id);
    assert.equal(health?.failSince, null);
    const resumed = await storage.deliveries.claim('w', 10, Date.now() + 1, 60_000);
    assert.equal(resumed.length, 4);
  });

  test('a 410 disables the endpoint at once; disabling by API holds its deliveries too', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const [gone, other] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
    const t0 = Date.now();
    await ingestMany(storage, app.id, [gone.id, other.id], 2, t0);
    const tasks = await storage.deliveries.claim('w', 1, t0, 60_000);
    const task = tasks[0]!;
    const report = await storage.deliveries.complete([
      failed(task, t0, { ...RESPONDED, gone: true }, t0 + 1_000),
      // Two batches of one transaction: still reported once.
    ]);
    assert.equal(report.disabled.length, 1);
    const goneId = task.endpointId;
    const otherId = goneId === gone.id ? other.id : gone.id;
    const rest = await storage.deliveries.claim('w', 10, t0 + 2_000, 60_000);
    assert.deepEqual(new Set(rest.map((row) => row.endpointId)), new Set([otherId]));

    const record = await storage.endpoints.get(app.id, otherId);
    assert.ok(record);
    await storage.messages.ingest({ message: message(app.id, { createdAt: t0 }), endpointIds: [otherId] });
    await storage.endpoints.update({ ...record, disabled: true, updatedAt: Date.now() });
    assert.deepEqual(await storage.deliveries.claim('w', 10, t0 + 3_000, 60_000), []);
  });

  test('backpressure postpones only that endpoint, until its pause ends', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const [busy, calm] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
    const t0 = Date.now();
    await ingestMany(storage, app.id, [busy.id], 50, t0);
    const [task] = await storage.deliveries.claim('w', 1, t0, 60_000);
    assert.ok(task);
    await storage.deliveries.complete([
      failed(task, t0, { ...RESPONDED, pauseUntil: t0 + 60_000 }, t0 + 5_000),
    ]);
    await ingestMany(storage, app.id, [calm.id, busy.id], 3, t0 + 10);
    const during = await storage.deliveries.claim('w', 100, t0 + 30_000, 60_000);
    assert.deepEqual(new Set(during.map((row) => row.endpointId)), new Set([calm.id]));
    assert.equal(during.length, 3);
    assert.equal(await storage.deliveries.nextDueAt(), t0 + 60_000);
    const after = await storage.deliveries.claim('w', 100, t0 + 60_000, 60_000);
    assert.equal(after.length, 50 + 3);
    assert.ok(after.every((row) => row.endpointId === busy.id));
  });

  test('a throttled endpoint sends at its rate across two storage instances; nothing is dropped', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const endpoint = endpoints[0]!;
    // The application's rate is the default; the endpoint's own wins.
    await storage.applications.update({ ...app, throttleRate: 100 });
    await storage.endpoints.update({ ...endpoint, throttleRate: 4, updatedAt: Date.now() });
    const t0 = Date.now();
    const total = 40;
    await ingestMany(storage, app.id, [endpoint.id], total, t0);

    const sentAt: number[] = [];
    // A fleet where the backend has one; SQLite has a single writer process by design.
    const workers = storage.capabilities.multipleWriters ? [storage, await storage.openAnother()] : [storage];
    for (let now = t0; sentAt.length < total && now < t0 + 60_000; now += 50) {
      // Both instances claim at the same instant, as two workers of a fleet would.
      const claimed = await Promise.all(workers.map((w, i) => w.deliveries.claim(`w${i}`, 100, now, 60_000)));
      for (const tasks of claimed) {
        for (let i = 0; i < tasks.length; i++) sentAt.push(now);
        await storage.deliveries.complete(
          tasks.map((task) => ({ ...outcome(task, MessageStatus.success, { at: now }), signal: RESPONDED })),
        );
      }
    }
    assert.equal(sentAt.length, total, 'every message went eventually');
    // At 4/s with a burst of 4: any window of W ms holds at most 4 * W / 1000 + 4 sends.
    for (const start of sentAt) {
      for (const width of [1_000, 3_000]) {
        const inside = sentAt.filter((at) => at >= start && at < start + width).length;
        assert.ok(inside <= (4 * width) / 1000 + 4, `${inside} sends in ${width} ms from ${start - t0}`);
      }
    }
    const span = (Math.max(...sentAt) - t0) / 1000;
    assert.ok(span >= (total - 4) / 4 - 1, `40 messages at 4/s took ${span} s`);
  });
});
