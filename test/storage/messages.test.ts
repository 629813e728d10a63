import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idTime } from '../../src/domain/ids.ts';
import { MessageStatus, UniqueViolation } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, message, sleep } from './fixtures.ts';

forEachBackend((backend) => {
  test('ingest stores the message and one pending delivery per endpoint, due at creation', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 3);
    let wakes = 0;
    storage.subscribeWork(() => wakes++);
    const msg = message(app.id, { uid: 'evt-1', channels: ['eu'] });
    const result = await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((e) => e.id) });
    assert.deepEqual(result, { kind: 'created', message: msg });
    assert.equal(wakes, 1);
    assert.deepEqual(await storage.messages.get(app.id, msg.id), msg);
    assert.deepEqual(await storage.messages.get(app.id, 'evt-1'), msg);
    for (const ep of endpoints) {
      const delivery = await storage.deliveries.get(msg.id, ep.id);
      assert.equal(delivery?.status, MessageStatus.pending);
      assert.equal(delivery?.attempts, 0);
      assert.equal(delivery?.nextAttemptAt, msg.createdAt);
      assert.match(delivery?.id ?? '', /^msgep_/);
    }
    // No endpoints: the message is kept, nothing becomes due.
    const lonely = message(app.id);
    assert.equal((await storage.messages.ingest({ message: lonely, endpointIds: [] })).kind, 'created');
    assert.equal(wakes, 1);
  });

  test('a repeated eventId returns the existing message and creates nothing', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const original = message(app.id, { uid: 'evt-dup' });
    await storage.messages.ingest({ message: original, endpointIds: [endpoints[0]!.id] });
    const again = message(app.id, { uid: 'evt-dup', payload: '{"other":true}' });
    const result = await storage.messages.ingest({ message: again, endpointIds: [endpoints[0]!.id] });
    assert.deepEqual(result, { kind: 'duplicate', message: original });
    assert.equal(await storage.messages.get(app.id, again.id), undefined);
    assert.equal((await storage.messages.list(app.id, {}, { limit: 10 })).data.length, 1);

    // Same eventId twice inside one group commit: one wins, the other sees it.
    const [a, b] = await Promise.all([
      storage.messages.ingest({ message: message(app.id, { uid: 'evt-race' }), endpointIds: [] }),
      storage.messages.ingest({ message: message(app.id, { uid: 'evt-race' }), endpointIds: [] }),
    ]);
    assert.deepEqual([a.kind, b.kind].sort(), ['created', 'duplicate']);
    assert.equal(a.message.id, b.message.id);
  });

  test('group commit: 500 concurrent ingests all resolve and all rows are present', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const ids = endpoints.map((e) => e.id);
    const messages = Array.from({ length: 500 }, (_, i) => message(app.id, { uid: `bulk-${i}` }));
    const results = await Promise.all(
      messages.map((m) => storage.messages.ingest({ message: m, endpointIds: ids })),
    );
    assert.ok(results.every((r) => r.kind === 'created'));
    let count = 0;
    let iterator: string | undefined;
    for (;;) {
      const page = await storage.messages.list(app.id, {}, { limit: 200, iterator });
      count += page.data.length;
      iterator = page.data.at(-1)?.id;
      if (page.done) break;
    }
    assert.equal(count, 500);
    const stats = await storage.endpoints.stats(ids[0]!, {});
    assert.equal(stats.pending, 500);
  });

  test('a bad item in a batch fails only its own caller', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const good = Array.from({ length: 20 }, () => message(app.id));
    const bad = message('app_doesnotexist');
    const settled = await Promise.allSettled([
      ...good
        .slice(0, 10)
        .map((m) => storage.messages.ingest({ message: m, endpointIds: [endpoints[0]!.id] })),
      storage.messages.ingest({ message: bad, endpointIds: [endpoints[0]!.id] }),
      ...good.slice(10).map((m) => storage.messages.ingest({ message: m, endpointIds: [endpoints[0]!.id] })),
    ]);
    assert.equal(settled.filter((s) => s.status === 'rejected').length, 1);
    assert.equal(settled[10]?.status, 'rejected');
    assert.equal((await storage.messages.list(app.id, {}, { limit: 50 })).data.length, 20);
  });

  test('message list filters: time range, event types, channel; expunge payload', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app } = await appWithEndpoints(storage, 0);
    // Time filters read the time inside the id, so the messages are made a few milliseconds apart.
    const m1 = message(app.id, { eventType: 'a', channels: ['eu', 'us'] });
    await sleep(3);
    const m2 = message(app.id, { eventType: 'b', channels: ['us'] });
    await sleep(3);
    const m3 = message(app.id, { eventType: 'a', channels: null });
    const [t1, t2, t3] = [m1, m2, m3].map((m) => idTime(m.id)!) as [number, number, number];
    for (const m of [m1, m2, m3]) await storage.messages.ingest({ message: m, endpointIds: [] });
    const ids = async (filter: Parameters<typeof storage.messages.list>[1]) =>
      (await storage.messages.list(app.id, filter, { limit: 10 })).data.map((m) => m.id);

    assert.deepEqual(await ids({}), [m3.id, m2.id, m1.id]);
    assert.deepEqual(await ids({ eventTypes: ['a'] }), [m3.id, m1.id]);
    assert.deepEqual(await ids({ channel: 'us' }), [m2.id, m1.id]);
    assert.deepEqual(await ids({ channel: 'eu', eventTypes: ['a', 'b'] }), [m1.id]);
    assert.deepEqual(await ids({ before: t2 }), [m1.id]);
    assert.deepEqual(await ids({ after: t2 }), [m3.id]);
    assert.deepEqual(await ids({ after: t1, before: t3 }), [m2.id]);
    assert.deepEqual(await ids({ channel: 'nowhere' }), []);

    assert.equal(await storage.messages.expungePayload(app.id, m1.id), true);
    assert.equal((await storage.messages.get(app.id, m1.id))?.payload, null);
    assert.equal(await storage.messages.expungePayload(app.id, 'msg_missing'), false);
  });

  test('one group commit with duplicates: each item gets what it would get alone', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const ids = endpoints.map((e) => e.id);
    const stored = message(app.id, { uid: 'evt-stored' });
    await storage.messages.ingest({ message: stored, endpointIds: ids });

    // Submitted in one event-loop turn, so they share one commit.
    const first = message(app.id, { uid: 'evt-b' });
    const batch = [
      message(app.id, { uid: 'evt-c' }),
      message(app.id, { uid: 'evt-stored', payload: '{"late":true}' }),
      first,
      message(app.id, { uid: 'evt-b', payload: '{"second":true}' }),
      message(app.id),
      message(app.id, { uid: 'evt-a' }),
    ];
    const results = await Promise.all(
      batch.map((m) => storage.messages.ingest({ message: m, endpointIds: [...ids, ids[0]!] })),
    );
    assert.deepEqual(
      results.map((r) => r.kind),
      ['created', 'duplicate', 'created', 'duplicate', 'created', 'created'],
    );
    assert.deepEqual(results[1]?.message, stored);
    assert.deepEqual(results[3]?.message, first);
    for (const index of [0, 2, 4, 5]) assert.deepEqual(results[index]?.message, batch[index]);
    assert.equal(await storage.messages.get(app.id, batch[1]!.id), undefined);
    assert.equal(await storage.messages.get(app.id, batch[3]!.id), undefined);
    // One delivery per distinct endpoint of each created message, none for the duplicates.
    assert.equal((await storage.endpoints.stats(ids[0]!, {})).pending, 5);
    assert.equal((await storage.endpoints.stats(ids[1]!, {})).pending, 5);
  });

  test('a batch with a duplicate, an unknown application and a clashing id settles each item alone', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const ids = [endpoints[0]!.id];
    const stored = message(app.id, { uid: 'evt-stored' });
    await storage.messages.ingest({ message: stored, endpointIds: ids });

    const batch = [
      message(app.id, { uid: 'evt-1' }),
      message(app.id, { uid: 'evt-stored' }),
      message('app_doesnotexist', { uid: 'evt-2' }),
      message(app.id, { id: stored.id }),
      message(app.id, { uid: 'evt-1' }),
      message(app.id),
    ];
    const settled = await Promise.allSettled(
      batch.map((m) => storage.messages.ingest({ message: m, endpointIds: ids })),
    );
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value.kind : 'rejected')),
      ['created', 'duplicate', 'rejected', 'rejected', 'duplicate', 'created'],
    );
    const clash = settled[3];
    assert.ok(clash?.status === 'rejected' && clash.reason instanceof UniqueViolation);
    assert.deepEqual(settled[1]?.status === 'fulfilled' && settled[1].value.message, stored);
    assert.deepEqual(settled[4]?.status === 'fulfilled' && settled[4].value.message, batch[0]);
    assert.equal((await storage.endpoints.stats(ids[0]!, {})).pending, 3);
  });

  test('a trace context is stored with the message and handed to every claim of its deliveries', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const traceContext = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = message(app.id, { traceContext });
    const plain = message(app.id);
    for (const msg of [traced, plain])
      await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((e) => e.id) });
    assert.deepEqual(await storage.messages.get(app.id, traced.id), traced);
    assert.deepEqual(await storage.messages.get(app.id, plain.id), plain);
    const tasks = await storage.deliveries.claim('worker-a', 10, Date.now(), 1000);
    assert.equal(tasks.length, 4);
    for (const task of tasks)
      assert.equal(task.traceContext, task.msgId === traced.id ? traceContext : undefined, task.msgId);
    assert.ok(tasks.filter((task) => task.msgId === plain.id).every((task) => !('traceContext' in task)));
  });
});
