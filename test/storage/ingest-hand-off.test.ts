import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ClaimAdmission,
  type ClaimedTask,
  type IngestTaker,
  MessageStatus,
  type Storage,
  TriggerType,
} from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, message } from './fixtures.ts';

const LEASE_MS = 60_000;

interface Settled {
  tasks: readonly ClaimedTask[];
  committed: boolean;
  /** What the stored rows looked like when settle ran: the commit must be visible by then. */
  visible: (number | null | undefined)[];
}

/** A taker that grants `slots` (or whatever `grant` says) and records every call. */
function recordingTaker(
  storage: Storage,
  options: { grant?: (max: number) => number; admit?: ClaimAdmission; readBack?: boolean } = {},
) {
  const asked: number[] = [];
  const settled: Settled[] = [];
  const pending: Promise<void>[] = [];
  const taker: IngestTaker = {
    owner: 'w-local',
    leaseMs: LEASE_MS,
    reserve(max) {
      asked.push(max);
      const slots = options.grant ? options.grant(max) : max;
      if (slots === 0) return undefined;
      return {
        slots,
        admission: () => options.admit ?? (() => undefined),
        settle(tasks, committed) {
          const entry: Settled = { tasks, committed, visible: [] };
          settled.push(entry);
          // Read back outside the ingest's transaction, as the dispatcher's attempts would.
          if (options.readBack)
            pending.push(
              (async () => {
                for (const task of tasks)
                  entry.visible.push(
                    (await storage.deliveries.get(task.msgId, task.endpointId))?.nextAttemptAt,
                  );
              })(),
            );
        },
      };
    },
  };
  return { taker, asked, settled, readBack: () => Promise.all(pending) };
}

forEachBackend((backend) => {
  test('ingest leases new due deliveries to the taker, as many as it reserved, and hands them over once committed', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 3);
    const { taker, asked, settled, readBack } = recordingTaker(storage, { grant: () => 2, readBack: true });
    storage.takeIngested(taker);
    let wakes = 0;
    storage.subscribeWork(() => wakes++);
    const msg = message(app.id, { traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const before = Date.now();
    await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((endpoint) => endpoint.id) });
    await readBack();

    assert.deepEqual(asked, [3], 'asked for every new delivery');
    assert.equal(settled.length, 1);
    const [{ tasks, committed, visible }] = settled as [Settled];
    assert.equal(committed, true);
    assert.equal(tasks.length, 2);
    for (const task of tasks) {
      assert.deepEqual(
        { ...task, deliveryId: '', endpointId: '' },
        {
          deliveryId: '',
          endpointId: '',
          appId: app.id,
          msgId: msg.id,
          attempts: 0,
          eventType: 'user.created',
          payload: '{"hello":"world"}',
          triggerType: TriggerType.scheduled,
          failStreak: 0,
          traceContext: msg.traceContext,
        },
      );
    }
    assert.ok(tasks[0]!.deliveryId < tasks[1]!.deliveryId, 'oldest delivery first');
    for (const at of visible) assert.ok(at !== null && at !== undefined && at >= before + LEASE_MS, 'leased');

    // The third is queued as ever: another worker claims it, and not the two leased ones.
    assert.equal(wakes, 1, 'the queued delivery is announced');
    const claimed = await storage.deliveries.claim('w-other', 10, Date.now(), LEASE_MS);
    assert.equal(claimed.length, 1);
    assert.ok(!tasks.some((task) => task.deliveryId === claimed[0]!.deliveryId));
    // Should the taker die, its leases lapse like a claim's.
    const lapsed = await storage.deliveries.claim('w-other', 10, before + 2 * LEASE_MS, LEASE_MS);
    assert.deepEqual(
      lapsed.map((task) => task.deliveryId).sort(),
      [...tasks.map((task) => task.deliveryId), claimed[0]!.deliveryId].sort(),
    );
  });

  test('a batch handed over whole announces no work', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const { taker, settled } = recordingTaker(storage);
    storage.takeIngested(taker);
    let wakes = 0;
    storage.subscribeWork(() => wakes++);
    await Promise.all(
      [0, 1, 2].map(() =>
        storage.messages.ingest({
          message: message(app.id),
          endpointIds: endpoints.map((endpoint) => endpoint.id),
        }),
      ),
    );
    assert.equal(
      settled.reduce((sum, entry) => sum + entry.tasks.length, 0),
      6,
    );
    assert.equal(wakes, 0);
    assert.deepEqual(await storage.deliveries.claim('w-other', 10, Date.now(), LEASE_MS), []);
  });

  test("the claim's gate sorts what ingest leases: held, postponed, parked, or handed over", async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 4);
    const [disabled, later, busy, free] = endpoints as [
      (typeof endpoints)[0],
      (typeof endpoints)[0],
      (typeof endpoints)[0],
      (typeof endpoints)[0],
    ];
    await storage.endpoints.update({ ...disabled, disabled: true, updatedAt: Date.now() });
    const until = Date.now() + 30_000;
    const { taker, settled } = recordingTaker(storage, {
      admit: ({ endpointId }) =>
        endpointId === later.id ? until : endpointId === busy.id ? 'park' : undefined,
    });
    storage.takeIngested(taker);
    let wakes = 0;
    storage.subscribeWork(() => wakes++);
    const msg = message(app.id);
    await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((endpoint) => endpoint.id) });

    assert.deepEqual(
      settled[0]?.tasks.map((task) => task.endpointId),
      [free.id],
    );
    assert.equal(wakes, 1, 'the claim loop hears of what the gate gave back');
    const held = await storage.deliveries.get(msg.id, disabled.id);
    assert.equal(held?.nextAttemptAt, null, 'held while its endpoint is disabled');
    assert.equal((await storage.deliveries.get(msg.id, later.id))?.nextAttemptAt, until, 'postponed');
    assert.deepEqual(await storage.deliveries.claim('w-other', 10, Date.now(), LEASE_MS), []);
    // Parked for the taker: only it unparks the delivery.
    assert.equal((await storage.deliveries.unpark('w-other', busy.id, Date.now(), LEASE_MS, 10)).taken, 0);
    const back = await storage.deliveries.unpark('w-local', busy.id, Date.now(), LEASE_MS, 10);
    assert.deepEqual(
      back.tasks.map((task) => task.msgId),
      [msg.id],
    );
    const postponed = await storage.deliveries.claim('w-other', 10, until, LEASE_MS);
    assert.deepEqual(
      postponed.map((task) => task.endpointId),
      [later.id],
    );
  });

  test('a scheduled message is left to claims; a failed batch hands nothing over and gives its slots back', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const { taker, asked, settled } = recordingTaker(storage);
    const stop = storage.takeIngested(taker);
    const endpointIds = [endpoints[0]!.id];

    const scheduled = message(app.id, { deliverAt: Date.now() + 60_000 });
    await storage.messages.ingest({ message: scheduled, endpointIds });
    assert.deepEqual(asked, [], 'not due now: no slots asked for');
    assert.equal(
      (await storage.deliveries.get(scheduled.id, endpointIds[0]!))?.status,
      MessageStatus.pending,
    );

    const taken = message(app.id);
    await storage.messages.ingest({ message: taken, endpointIds });
    // The same id again, without an eventId to make it a duplicate: the batch fails.
    await assert.rejects(
      storage.messages.ingest({ message: { ...taken, createdAt: Date.now() }, endpointIds }),
    );
    assert.deepEqual(
      settled.map((entry) => [entry.committed, entry.tasks.length]),
      [
        [true, 1],
        [false, 0],
      ],
    );

    stop();
    const after = message(app.id);
    await storage.messages.ingest({ message: after, endpointIds });
    assert.equal(asked.length, 2, 'no taker once it unregistered');
    const claimed = await storage.deliveries.claim('w-other', 10, Date.now(), LEASE_MS);
    assert.deepEqual(
      claimed.map((task) => task.msgId),
      [after.id],
    );
  });
});
