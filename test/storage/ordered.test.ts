import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/domain/ids.ts';
import {
  type AttemptRecord,
  MessageStatus,
  type OrderedLease,
  type Storage,
  TriggerType,
} from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { application, endpoint, message } from './fixtures.ts';

/** The ordered-delivery store (fifoEndpoint) on every backend: numbering, leases, fencing, skip, force-retry. */
async function orderedDestination(storage: Storage, batchSize = 2) {
  const app = await storage.applications.create(application());
  const destination = await storage.endpoints.create(
    endpoint(app.id, {
      id: newId('destination'),
      destination: { type: 'fifoEndpoint', config: { url: 'https://r.example/', batchSize, maxWaitSecs: 0 } },
    }),
  );
  const send = async (count: number) => {
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: count }, async (_, n) => {
        const msg = message(app.id, { payload: JSON.stringify({ n }) });
        ids.push(msg.id);
        await storage.messages.ingest({
          message: msg,
          endpointIds: [],
          ordered: [{ endpointId: destination.id, batchSize }],
        });
      }),
    );
    return ids;
  };
  return { app, destination, send };
}

function attempt(lease: OrderedLease, appId: string, msgId: string, ok: boolean): AttemptRecord {
  const at = Date.now();
  return {
    id: newId('attempt', at),
    appId,
    msgId,
    endpointId: lease.endpointId,
    deliveryId: msgId,
    url: 'https://r.example/',
    status: ok ? MessageStatus.success : MessageStatus.fail,
    responseStatusCode: ok ? 200 : 500,
    response: ok ? 'ok' : 'nope',
    responseDurationMs: 1,
    triggerType: TriggerType.scheduled,
    createdAt: at,
    batch: { lastMsgId: msgId, numEvents: 1 },
  };
}

forEachBackend((backend) => {
  test('ordered: numbered in commit order, one lease at a time, a lapsed lease is fenced out', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const other = await storage.openAnother();
    const { app, destination, send } = await orderedDestination(storage);
    await send(5);
    const queued = await storage.ordered.read(destination.id, 10);
    assert.deepEqual(
      queued.map((event) => event.seq),
      [1, 2, 3, 4, 5],
    );
    // Group-committed together or not, the numbers follow the order the store accepted them in.
    assert.deepEqual(
      queued.map((event) => event.seq),
      [...queued].sort((a, b) => a.seq - b.seq).map((event) => event.seq),
    );

    const now = Date.now();
    const [lease] = await storage.ordered.claim('w1', 10, now, 1_000);
    assert.ok(lease);
    assert.deepEqual(await other.ordered.claim('w2', 10, now, 1_000), [], 'leased: nobody else gets it');
    assert.equal(await storage.ordered.nextDueAt(), lease.until, 'the lease end is its due time');

    // The lease lapses and passes to w2; w1's late ack changes nothing but its attempt record.
    const [taken] = await other.ordered.claim('w2', 10, now + 1_001, 1_000);
    assert.ok(taken);
    assert.equal(
      await storage.ordered.finish(
        lease,
        { kind: 'acked', attempt: attempt(lease, app.id, queued[1]!.msgId, true), through: queued[1]! },
        now + 1_002,
      ),
      false,
    );
    assert.equal((await storage.ordered.position(destination.id)).queued, 5);
    assert.ok(
      await other.ordered.finish(
        taken,
        { kind: 'acked', attempt: attempt(taken, app.id, queued[1]!.msgId, true), through: queued[1]! },
        now + 1_003,
      ),
    );
    const position = await storage.ordered.position(destination.id);
    assert.equal(position.queued, 3);
    assert.equal(position.next?.msgId, queued[2]!.msgId);
    assert.equal(position.lastAcked?.msgId, queued[1]!.msgId);
    const attempts = await storage.attempts.listByEndpoint(app.id, destination.id, {}, { limit: 10 });
    assert.equal(attempts.data.length, 2, 'both attempts happened and are recorded');
    assert.deepEqual(attempts.data[0]?.batch, { lastMsgId: queued[1]!.msgId, numEvents: 1 });

    // A failure with retries left: due at the retry; none left: stopped until force-retry.
    const [again] = await storage.ordered.claim('w1', 10, now + 1_004, 1_000);
    assert.ok(again);
    await storage.ordered.finish(
      again,
      { kind: 'stopped', attempt: attempt(again, app.id, queued[2]!.msgId, false), failure: 'nope' },
      now + 1_005,
    );
    const stopped = await storage.ordered.position(destination.id);
    assert.equal(stopped.attempts, 1);
    assert.equal(stopped.nextAttemptAt, null);
    assert.equal(stopped.failure, 'nope');
    await send(1); // a new message does not wake a stopped destination
    assert.deepEqual(await storage.ordered.claim('w1', 10, now + 5_000, 1_000), []);
    assert.ok(await storage.ordered.forceRetry(destination.id, now + 5_000));
    const [retried] = await storage.ordered.claim('w1', 10, now + 5_000, 1_000);
    assert.equal(retried?.attempts, 0, 'force-retry restarts the schedule');
    assert.equal(
      await storage.ordered.forceRetry(destination.id, now + 5_001),
      false,
      'in flight: left alone',
    );

    // Skip by count and by message; a skip never moves the position back.
    assert.deepEqual(await storage.ordered.skip(destination.id, { count: 2 }, now + 5_002), {
      kind: 'skipped',
      count: 2,
    });
    const left = await storage.ordered.read(destination.id, 10);
    assert.equal(left.length, 2);
    assert.deepEqual(await storage.ordered.skip(destination.id, { msgId: queued[0]!.msgId }, now + 5_003), {
      kind: 'not_queued',
    });
    assert.deepEqual(await storage.ordered.skip(destination.id, { msgId: left[0]!.msgId }, now + 5_003), {
      kind: 'skipped',
      count: 1,
    });
    // The in-flight batch's late ack of an earlier message does not undo the skip.
    await storage.ordered.finish(
      retried!,
      { kind: 'acked', attempt: attempt(retried!, app.id, queued[2]!.msgId, true), through: queued[2]! },
      now + 5_004,
    );
    assert.equal((await storage.ordered.position(destination.id)).next?.msgId, left[1]!.msgId);
  });

  test('ordered: a disabled destination is not claimed; start-up releases dead leases', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { destination, send } = await orderedDestination(storage);
    await send(1);
    await storage.endpoints.update({ ...destination, disabled: true });
    assert.deepEqual(await storage.ordered.claim('w1', 10, Date.now() + 10, 60_000), []);
    assert.equal(await storage.ordered.nextDueAt(), null);
    await storage.endpoints.update({ ...destination, disabled: false });
    const [lease] = await storage.ordered.claim('w1', 10, Date.now() + 10, 60_000);
    assert.ok(lease);
    assert.equal(await storage.ordered.releaseLeases(Date.now()), 1);
    const [again] = await storage.ordered.claim('w2', 10, Date.now() + 10, 60_000);
    assert.ok(again);
    // Deleted while its batch was in flight: the finish changes nothing and does not throw.
    const [event] = await storage.ordered.read(destination.id, 1);
    await storage.endpoints.delete(destination.appId, destination.id);
    assert.equal(
      await storage.ordered.finish(
        again,
        { kind: 'acked', attempt: attempt(again, destination.appId, event!.msgId, true), through: event! },
        Date.now(),
      ),
      false,
    );
  });
});

forEachBackend((backend) => {
  test('ordered: a short batch that fills while its destination is leased is due at once, not after maxWaitSecs', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { destination, send } = await orderedDestination(storage, 3);
    await send(1);
    const now = Date.now() + 10;
    const [lease] = await storage.ordered.claim('w1', 10, now, 60_000);
    assert.ok(lease);
    // The turn read one message and will wait; meanwhile the batch fills (the ingests see a live lease).
    await send(2);
    const waitUntil = now + 300_000;
    assert.equal(
      await storage.ordered.finish(lease, { kind: 'wait', until: waitUntil, batchSize: 3 }, now),
      true,
    );
    assert.equal(await storage.ordered.nextDueAt(), now, 'full: due now');
    const [again] = await storage.ordered.claim('w1', 10, now, 60_000);
    assert.ok(again, 'claimed again at once');
    // Still short: the wait holds.
    assert.equal(
      await storage.ordered.finish(again, { kind: 'wait', until: waitUntil, batchSize: 4 }, now),
      true,
    );
    assert.equal(await storage.ordered.nextDueAt(), waitUntil);
    assert.equal((await storage.ordered.position(destination.id)).queued, 3);
  });
});
