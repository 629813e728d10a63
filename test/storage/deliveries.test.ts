import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idTime } from '../../src/domain/ids.ts';
import { MessageStatus, TriggerType } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, message, outcome, sleep } from './fixtures.ts';

forEachBackend((backend) => {
  test('claim leases due rows oldest first; an expired lease is claimed again', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const now = Date.now();
    const msgs = [
      message(app.id, { createdAt: now - 30 }),
      message(app.id, { createdAt: now - 20 }),
      message(app.id, { createdAt: now - 10 }),
    ];
    for (const m of msgs) await storage.messages.ingest({ message: m, endpointIds: [endpoints[0]!.id] });

    const first = await storage.deliveries.claim('worker-a', 2, now, 1000);
    assert.deepEqual(first.map((task) => task.msgId).sort(), [msgs[0]!.id, msgs[1]!.id].sort());
    assert.deepEqual(
      { ...first[0], deliveryId: '', msgId: '' },
      {
        deliveryId: '',
        msgId: '',
        appId: app.id,
        endpointId: endpoints[0]!.id,
        attempts: 0,
        eventType: 'user.created',
        payload: '{"hello":"world"}',
        triggerType: TriggerType.scheduled,
        failStreak: 0,
      },
    );
    const second = await storage.deliveries.claim('worker-b', 10, now, 1000);
    assert.deepEqual(
      second.map((task) => task.msgId),
      [msgs[2]!.id],
    );
    assert.deepEqual(await storage.deliveries.claim('worker-b', 10, now, 1000), []);
    assert.equal(await storage.deliveries.nextDueAt(), now + 1000);
    // worker-a died: once its lease ends the rows are due again.
    const again = await storage.deliveries.claim('worker-c', 10, now + 1000, 1000);
    assert.equal(again.length, 3);
    assert.deepEqual(await storage.deliveries.claim('worker-c', 0, now + 5000, 1000), []);
  });

  test('complete records attempts and moves deliveries; a success is never demoted', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const msg = message(app.id);
    await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((e) => e.id) });
    const now = Date.now();
    const tasks = await storage.deliveries.claim('w', 10, now, 60_000);
    assert.equal(tasks.length, 2);
    const [okTask, retryTask] = tasks as [(typeof tasks)[0], (typeof tasks)[0]];
    await storage.deliveries.complete([
      outcome(okTask, MessageStatus.success),
      outcome(retryTask, MessageStatus.sending, { nextAttemptAt: now + 5000, statusCode: 503 }),
    ]);
    const ok = await storage.deliveries.get(msg.id, okTask.endpointId);
    assert.equal(ok?.status, MessageStatus.success);
    assert.equal(ok?.attempts, 1);
    assert.equal(ok?.nextAttemptAt, null);
    const retry = await storage.deliveries.get(msg.id, retryTask.endpointId);
    assert.equal(retry?.status, MessageStatus.sending);
    assert.equal(retry?.nextAttemptAt, now + 5000);
    assert.equal(await storage.deliveries.nextDueAt(), now + 5000);

    const [next] = await storage.deliveries.claim('w', 10, now + 5000, 60_000);
    assert.equal(next?.attempts, 1);
    await storage.deliveries.complete([outcome(next!, MessageStatus.fail, { statusCode: 0 })]);
    assert.equal((await storage.deliveries.get(msg.id, retryTask.endpointId))?.status, MessageStatus.fail);
    assert.equal(await storage.deliveries.nextDueAt(), null);

    // A late duplicate failure for the succeeded row: the attempt is kept, the status is not.
    await storage.deliveries.complete([outcome(okTask, MessageStatus.fail)]);
    assert.equal((await storage.deliveries.get(msg.id, okTask.endpointId))?.status, MessageStatus.success);

    const attempts = await storage.attempts.listByMessage(app.id, msg.id, {}, { limit: 10 });
    assert.equal(attempts.data.length, 4);
    assert.equal(
      (await storage.attempts.listByMessage(app.id, msg.id, { status: MessageStatus.success }, { limit: 10 }))
        .data.length,
      1,
    );
    assert.equal(
      (await storage.attempts.listByMessage(app.id, msg.id, { statusCodeClass: 500 }, { limit: 10 })).data
        .length,
      2,
    );
    assert.equal(
      (await storage.attempts.listByMessage(app.id, msg.id, { statusCodeClass: 0 }, { limit: 10 })).data
        .length,
      1,
    );
    assert.equal(
      (
        await storage.attempts.listByMessage(
          app.id,
          msg.id,
          { endpointId: retryTask.endpointId, eventTypes: ['user.created'] },
          { limit: 10 },
        )
      ).data.length,
      2,
    );
    assert.equal(
      (
        await storage.attempts.listByEndpoint(
          app.id,
          okTask.endpointId,
          { eventTypes: ['other'] },
          { limit: 10 },
        )
      ).data.length,
      0,
    );
    const byEndpoint = await storage.attempts.listByEndpoint(app.id, okTask.endpointId, {}, { limit: 1 });
    assert.equal(byEndpoint.done, false);
    const attempt = byEndpoint.data[0]!;
    assert.deepEqual(await storage.attempts.get(app.id, msg.id, attempt.id), attempt);
    assert.equal(await storage.attempts.expungeResponse(app.id, msg.id, attempt.id), true);
    assert.equal((await storage.attempts.get(app.id, msg.id, attempt.id))?.response, '');

    const stats = await storage.endpoints.stats(okTask.endpointId, {});
    assert.deepEqual(stats, { success: 1, pending: 0, sending: 0, fail: 0, canceled: 0 });
  });

  test('concurrent completions share a commit and each resolves', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    await Promise.all(
      Array.from({ length: 50 }, () =>
        storage.messages.ingest({ message: message(app.id), endpointIds: [endpoints[0]!.id] }),
      ),
    );
    const tasks = await storage.deliveries.claim('w', 100, Date.now(), 60_000);
    assert.equal(tasks.length, 50);
    await Promise.all(
      tasks.map((task) => storage.deliveries.complete([outcome(task, MessageStatus.success)])),
    );
    assert.equal((await storage.endpoints.stats(endpoints[0]!.id, {})).success, 50);
  });

  test('parked deliveries leave the due range until their owner unparks them', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const [busy, other] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const msg = message(app.id);
      ids.push(msg.id);
      await storage.messages.ingest({ message: msg, endpointIds: [busy.id] });
    }
    await storage.messages.ingest({ message: message(app.id), endpointIds: [other.id] });
    const now = Date.now() + 10;

    // The busy endpoint's tasks are parked; the other endpoint's task is handed over.
    const claimed = await storage.deliveries.claim('w1', 10, now, 60_000, ({ endpointId }) =>
      endpointId === busy.id ? 'park' : undefined,
    );
    assert.deepEqual(
      claimed.map((task) => task.endpointId),
      [other.id],
    );
    assert.deepEqual(
      await storage.deliveries.claim('w1', 10, now + 1, 60_000),
      [],
      'parked tasks are not due',
    );
    assert.equal(
      (await storage.deliveries.unpark('w2', busy.id, now, 60_000, 10)).taken,
      0,
      'only the owner unparks',
    );

    // Taken back leased to the owner, as tasks for its queue: not due for anyone meanwhile.
    const back = await storage.deliveries.unpark('w1', busy.id, now + 2, 60_000, 2);
    assert.equal(back.taken, 2);
    // Parked by one claim, they share a due time: which two come back first is not defined.
    assert.equal(back.tasks.length, 2);
    for (const task of back.tasks) {
      assert.ok(ids.includes(task.msgId));
      assert.equal(task.endpointId, busy.id);
      assert.equal((await storage.deliveries.get(task.msgId, busy.id))?.nextAttemptAt, now + 2 + 60_000);
    }
    assert.deepEqual(await storage.deliveries.claim('w2', 10, now + 3, 60_000), [], 'leased, not due');
    const rest = await storage.deliveries.unpark('w1', busy.id, now + 4, 60_000, 10);
    assert.equal(rest.taken, 3, 'fewer than asked: none left');
    assert.deepEqual(
      new Set([...back.tasks, ...rest.tasks].map((task) => task.msgId)),
      new Set(ids),
      'every parked delivery came back once',
    );
    // Should the owner die instead, a parked task is due again when its lease runs out.
    await storage.deliveries.releaseLeases(now + 5); // hand them back, then park them as a dying owner
    await storage.deliveries.claim('w1', 10, now + 6, 60_000, () => 'park');
    const afterLease = await storage.deliveries.claim('w3', 10, now + 6 + 60_000, 60_000);
    const reparked = ids;
    for (const id of reparked)
      assert.ok(
        afterLease.some((task) => task.msgId === id),
        `${id} is due again`,
      );
  });

  test('resend sends a parked or held delivery now and answers in_flight only for a leased one', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 3);
    const [parkedAt, leasedAt, heldAt] = endpoints as [
      (typeof endpoints)[0],
      (typeof endpoints)[0],
      (typeof endpoints)[0],
    ];
    const msg = message(app.id);
    await storage.messages.ingest({ message: msg, endpointIds: [parkedAt.id, leasedAt.id, heldAt.id] });
    const now = Date.now() + 10;
    await storage.endpoints.update({ ...heldAt, disabled: true, updatedAt: now });
    const claimed = await storage.deliveries.claim('w1', 10, now, 60_000, ({ endpointId }) =>
      endpointId === parkedAt.id ? 'park' : undefined,
    );
    assert.deepEqual(
      claimed.map((task) => task.endpointId),
      [leasedAt.id],
    );
    assert.equal((await storage.deliveries.get(msg.id, heldAt.id))?.nextAttemptAt, null, 'held');

    assert.equal(await storage.replay.resend(app.id, msg.id, leasedAt.id, now + 1), 'in_flight');
    assert.equal(await storage.replay.resend(app.id, msg.id, parkedAt.id, now + 1), 'queued');
    assert.equal(await storage.replay.resend(app.id, msg.id, heldAt.id, now + 1), 'queued');
    // The parked one is due for any worker now, not only when its owner unparks it.
    const again = await storage.deliveries.claim('w2', 10, now + 1, 60_000);
    assert.deepEqual(
      again.map((task) => task.endpointId),
      [parkedAt.id],
      'the held one is held again by the claim while its endpoint stays disabled',
    );
    assert.equal(
      (await storage.deliveries.unpark('w1', parkedAt.id, now + 2, 60_000, 10)).taken,
      0,
      'nothing left parked',
    );
  });

  test('a fan-out and a completion batch larger than any one statement land whole', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 100);
    const msg = message(app.id);
    await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((endpoint) => endpoint.id) });
    const now = Date.now() + 10;
    const tasks = await storage.deliveries.claim('w', 200, now, 60_000);
    assert.equal(tasks.length, 100);
    const fails = new Set(tasks.slice(0, 37).map((task) => task.deliveryId));
    await storage.deliveries.complete(
      tasks.map((task) =>
        fails.has(task.deliveryId)
          ? outcome(task, MessageStatus.sending, { nextAttemptAt: now + 5000, at: now })
          : outcome(task, MessageStatus.success, { at: now }),
      ),
    );
    const attempts = await storage.attempts.listByMessage(app.id, msg.id, {}, { limit: 250 });
    assert.equal(attempts.data.length, 100);
    for (const task of tasks) {
      const delivery = await storage.deliveries.get(msg.id, task.endpointId);
      assert.equal(delivery?.attempts, 1);
      assert.equal(
        delivery?.status,
        fails.has(task.deliveryId) ? MessageStatus.sending : MessageStatus.success,
      );
    }
  });

  test('resend, recover and releaseLeases make work due now and wake dispatchers', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const [ep1, ep2] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
    const msg = message(app.id);
    await storage.messages.ingest({ message: msg, endpointIds: [ep1.id] });
    let wakes = 0;
    storage.subscribeWork(() => wakes++);
    const now = Date.now();

    const [task] = await storage.deliveries.claim('w', 1, now, 60_000);
    await storage.deliveries.complete([outcome(task!, MessageStatus.fail)]);

    // Resend to an endpoint the message never went to creates the row.
    assert.equal(await storage.replay.resend(app.id, msg.id, ep2.id, now + 1), 'queued');
    const created = await storage.deliveries.get(msg.id, ep2.id);
    assert.equal(created?.status, MessageStatus.pending);
    assert.equal(created?.nextAttemptAt, now + 1);
    assert.equal(wakes, 1);
    assert.equal(await storage.replay.resend(app.id, 'msg_missing', ep2.id, now), 'missing');
    assert.equal(await storage.replay.resend(app.id, msg.id, 'ep_missing', now), 'missing');
    const [manual] = await storage.deliveries.claim('w', 10, now + 1, 60_000);
    assert.equal(manual?.triggerType, TriggerType.manual);

    // Recover: the failed delivery of ep1 (attempted once) becomes sending and due now.
    const created1 = idTime((await storage.deliveries.get(msg.id, ep1.id))!.id)!;
    assert.equal(await storage.deliveries.recover(ep1.id, created1 + 1, created1 + 10_000, now + 2), 0);
    assert.equal(await storage.deliveries.recover(ep1.id, created1, created1 + 1, now + 2), 1);
    const recovered = await storage.deliveries.get(msg.id, ep1.id);
    assert.equal(recovered?.status, MessageStatus.sending);
    assert.equal(recovered?.nextAttemptAt, now + 2);
    assert.equal(wakes, 2);

    // ep2's row is leased by 'w'; ep1's is due. releaseLeases frees the leased one only.
    assert.equal(await storage.deliveries.releaseLeases(now + 3), 1);
    assert.equal((await storage.deliveries.get(msg.id, ep2.id))?.nextAttemptAt, now + 3);
    assert.equal(wakes, 3);
    assert.equal(await storage.deliveries.releaseLeases(now + 3), 0);
    assert.equal(wakes, 3);
  });

  test('deliveries list by message and by endpoint with filters; stats by time range', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const ids = endpoints.map((e) => e.id);
    const m1 = message(app.id, { eventType: 'a', channels: ['eu'] });
    await storage.messages.ingest({ message: m1, endpointIds: ids });
    await sleep(3);
    const m2 = message(app.id, { eventType: 'b' });
    await storage.messages.ingest({ message: m2, endpointIds: [ids[0]!] });

    const byMessage = await storage.deliveries.listByMessage(app.id, m1.id, { limit: 10 });
    assert.deepEqual(byMessage.data.map((row) => row.endpoint.id).sort(), [...ids].sort());
    assert.equal(byMessage.data[0]?.delivery.msgId, m1.id);
    assert.deepEqual(byMessage.data.find((row) => row.endpoint.id === ids[0])?.endpoint, endpoints[0]);

    const byEndpoint = await storage.deliveries.listByEndpoint(app.id, ids[0]!, {}, { limit: 10 });
    assert.deepEqual(
      byEndpoint.data.map((row) => row.message.id),
      [m2.id, m1.id],
    );
    assert.deepEqual(byEndpoint.data[1]?.message, m1);
    const filtered = async (filter: Parameters<typeof storage.deliveries.listByEndpoint>[2]) =>
      (await storage.deliveries.listByEndpoint(app.id, ids[0]!, filter, { limit: 10 })).data.map(
        (r) => r.message.id,
      );
    assert.deepEqual(await filtered({ eventTypes: ['a'] }), [m1.id]);
    assert.deepEqual(await filtered({ channel: 'eu' }), [m1.id]);
    assert.deepEqual(await filtered({ status: MessageStatus.success }), []);
    const secondRow = byEndpoint.data[0]!.delivery;
    assert.deepEqual(await filtered({ after: idTime(secondRow.id)! - 1 }), [m2.id]);
    const page = await storage.deliveries.listByEndpoint(app.id, ids[0]!, {}, { limit: 1 });
    assert.equal(page.done, false);

    assert.equal((await storage.endpoints.stats(ids[0]!, {})).pending, 2);
    assert.equal((await storage.endpoints.stats(ids[0]!, { before: idTime(secondRow.id)! })).pending, 1);
  });

  test("endpoint stats count each endpoint's deliveries by status, succeeded ones included", async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const [mine, other] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
    const messages = [0, 1, 2, 3, 4].map(() => message(app.id));
    for (const msg of messages)
      await storage.messages.ingest({ message: msg, endpointIds: [mine.id, other.id] });
    const now = Date.now();
    const tasks = await storage.deliveries.claim('w', 20, now, 60_000);
    assert.equal(tasks.length, 10);
    const nextOf = (index: number): MessageStatus | undefined =>
      [MessageStatus.success, MessageStatus.fail, MessageStatus.sending, undefined, MessageStatus.success][
        index
      ];
    await storage.deliveries.complete(
      tasks.flatMap((task) => {
        const index = messages.findIndex((msg) => msg.id === task.msgId);
        const next = task.endpointId === other.id ? MessageStatus.success : nextOf(index);
        if (next === undefined) return []; // still leased: pending
        return [outcome(task, next, next === MessageStatus.sending ? { nextAttemptAt: now + 60_000 } : {})];
      }),
    );
    assert.deepEqual(await storage.endpoints.stats(mine.id, {}), {
      success: 2,
      pending: 1,
      sending: 1,
      fail: 1,
      canceled: 0,
    });
    assert.deepEqual(await storage.endpoints.stats(other.id, {}), {
      success: 5,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
    });
    // A range before the first delivery holds none.
    const firstDelivery = await storage.deliveries.get(messages[0]!.id, mine.id);
    assert.deepEqual(await storage.endpoints.stats(mine.id, { before: idTime(firstDelivery!.id)! }), {
      success: 0,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
    });
  });

  test('the backlog counts due deliveries and scheduled retries, each up to a limit', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage);
    const endpoint = endpoints[0]!;
    for (let i = 0; i < 4; i++)
      await storage.messages.ingest({ message: message(app.id), endpointIds: [endpoint.id] });
    const now = Date.now() + 1;
    assert.deepEqual(await storage.stats.backlog(now, 10), { due: 4, scheduledRetries: 0 });
    assert.deepEqual(await storage.stats.backlog(now, 3), { due: 3, scheduledRetries: 0 });
    const tasks = await storage.deliveries.claim('w', 2, now, 60_000);
    await storage.deliveries.complete(
      tasks.map((task) => outcome(task, MessageStatus.sending, { nextAttemptAt: now + 60_000 })),
    );
    assert.deepEqual(await storage.stats.backlog(now, 10), { due: 2, scheduledRetries: 2 });
    assert.deepEqual(await storage.stats.backlog(now, 1), { due: 1, scheduledRetries: 1 });
  });

  test('one completion batch with a delivery twice and a vanished one applies outcomes in order', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const msg = message(app.id);
    await storage.messages.ingest({ message: msg, endpointIds: endpoints.map((e) => e.id) });
    const now = Date.now();
    const tasks = await storage.deliveries.claim('w', 10, now, 60_000);
    assert.equal(tasks.length, 2);
    const retried = tasks[0]!;
    const succeeded = tasks[1]!;
    const gone = { ...retried, deliveryId: 'msgep_gone' };
    await storage.deliveries.complete([
      outcome(retried, MessageStatus.sending, { nextAttemptAt: now + 5000, statusCode: 503 }),
      outcome(succeeded, MessageStatus.success),
      outcome(gone, MessageStatus.success),
      outcome(retried, MessageStatus.success),
      outcome(succeeded, MessageStatus.fail, { statusCode: 500 }),
    ]);
    const first = await storage.deliveries.get(msg.id, retried.endpointId);
    assert.equal(first?.status, MessageStatus.success);
    assert.equal(first?.attempts, 2);
    assert.equal(first?.nextAttemptAt, null);
    const second = await storage.deliveries.get(msg.id, succeeded.endpointId);
    assert.equal(second?.status, MessageStatus.success);
    assert.equal(second?.attempts, 1);
    const attempts = await storage.attempts.listByMessage(app.id, msg.id, {}, { limit: 10 });
    assert.equal(attempts.data.length, 4);
    assert.ok(attempts.data.every((a) => a.deliveryId !== 'msgep_gone'));
    assert.equal(await storage.deliveries.nextDueAt(), null);
  });
});
