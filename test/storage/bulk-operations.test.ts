import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/domain/ids.ts';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, endpoint, message } from './fixtures.ts';

forEachBackend((backend) => {
  test('tags and deliverAt are stored with the message; tag filters the list; deliverAt is the first due time', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const [ep] = endpoints;
    assert.ok(ep);
    const later = Date.now() + 3_600_000;
    const tagged = message(app.id, { tags: ['vip', 'eu/west'], deliverAt: later });
    const plain = message(app.id);
    await storage.messages.ingest({ message: tagged, endpointIds: [ep.id] });
    await storage.messages.ingest({ message: plain, endpointIds: [ep.id] });
    assert.deepEqual(await storage.messages.get(app.id, tagged.id), tagged);
    assert.deepEqual(await storage.messages.get(app.id, plain.id), plain);
    assert.deepEqual(
      (await storage.messages.list(app.id, { tag: 'eu/west' }, { limit: 10 })).data.map((m) => m.id),
      [tagged.id],
    );
    assert.equal((await storage.deliveries.get(tagged.id, ep.id))?.nextAttemptAt, later);
    assert.equal((await storage.deliveries.get(plain.id, ep.id))?.nextAttemptAt, plain.createdAt);
  });

  test('background tasks: created running, finished with data, listed by status and task', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const now = Date.now();
    const a = {
      id: newId('task', now),
      task: 'endpoint.bulk-replay',
      status: 'running' as const,
      data: { x: 1 },
      createdAt: now,
      updatedAt: now,
    };
    const b = { ...a, id: newId('task', now + 1), task: 'endpoint.recover', status: 'finished' as const };
    await storage.backgroundTasks.create(a);
    await storage.backgroundTasks.create(b);
    assert.deepEqual(await storage.backgroundTasks.get(a.id), a);
    assert.equal(
      await storage.backgroundTasks.finish(a.id, 'finished', { x: 1, replayed: 3 }, now + 5),
      true,
    );
    assert.deepEqual(await storage.backgroundTasks.get(a.id), {
      ...a,
      status: 'finished',
      data: { x: 1, replayed: 3 },
      updatedAt: now + 5,
    });
    assert.equal(await storage.backgroundTasks.finish('qtask_missing', 'failed', {}, now), false);
    assert.deepEqual(
      (await storage.backgroundTasks.list({}, { limit: 10 })).data.map((task) => task.id),
      [b.id, a.id],
    );
    assert.deepEqual(
      (await storage.backgroundTasks.list({ task: 'endpoint.recover' }, { limit: 10 })).data.map(
        (task) => task.id,
      ),
      [b.id],
    );
    assert.equal((await storage.backgroundTasks.list({ status: 'running' }, { limit: 10 })).data.length, 0);
  });

  test('replay missing queues, once, what the endpoint never got and its filters match', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const [first] = endpoints;
    assert.ok(first);
    const since = Date.now() - 1000;
    const signup = message(app.id, { eventType: 'user.signup' });
    const other = message(app.id, { eventType: 'other' });
    const expunged = message(app.id, { eventType: 'user.signup', payload: null });
    for (const m of [signup, other, expunged])
      await storage.messages.ingest({ message: m, endpointIds: [first.id] });
    const late = await storage.endpoints.create(endpoint(app.id, { eventTypes: ['user.signup'] }));
    const until = Date.now() + 1000;
    assert.equal(await storage.bulk.replayMissing(app.id, late.id, since, until, Date.now()), 1);
    assert.equal((await storage.deliveries.get(signup.id, late.id))?.status, MessageStatus.pending);
    assert.equal(await storage.deliveries.get(other.id, late.id), undefined);
    assert.equal(await storage.bulk.replayMissing(app.id, late.id, since, until, Date.now()), 0);
  });

  test('bulk expunge drops payloads and cancels the queued deliveries, not the finished ones', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const [ep] = endpoints;
    assert.ok(ep);
    const queued = message(app.id);
    const kept = message(app.id);
    await storage.messages.ingest({ message: queued, endpointIds: [ep.id] });
    await storage.messages.ingest({ message: kept, endpointIds: [ep.id] });
    assert.deepEqual(await storage.bulk.expungePayloads(app.id, [queued.id, 'msg_missing']), [queued.id]);
    assert.equal((await storage.messages.get(app.id, queued.id))?.payload, null);
    const canceled = await storage.deliveries.get(queued.id, ep.id);
    assert.equal(canceled?.status, MessageStatus.canceled);
    assert.equal(canceled?.nextAttemptAt, null);
    assert.equal((await storage.deliveries.get(kept.id, ep.id))?.status, MessageStatus.pending);
    assert.equal(await storage.bulk.expungeAppPayloads(app.id), 1);
    assert.equal((await storage.messages.get(app.id, kept.id))?.payload, null);
    assert.equal((await storage.deliveries.get(kept.id, ep.id))?.status, MessageStatus.canceled);
    assert.equal(await storage.deliveries.nextDueAt(), null);
  });
});
