import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, message, outcome } from './fixtures.ts';

/**
 * Per-application erasure (a data-protection request): deleting an application removes its
 * messages with their payloads, its deliveries and its attempts with their response bodies at once,
 * in the delete's own transaction; another application's data is untouched; an attempt still in
 * flight when the application went is dropped at completion, not recorded against nothing.
 */
forEachBackend((backend) => {
  test('deleting an application erases its payloads, deliveries and attempts, and only its own', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const gone = await appWithEndpoints(storage, 2);
    const kept = await appWithEndpoints(storage, 1);
    const goneMessages = [
      message(gone.app.id, { payload: '{"email":"ada@example.com"}' }),
      message(gone.app.id),
    ];
    const keptMessage = message(kept.app.id, { payload: '{"email":"bob@example.com"}' });
    for (const msg of goneMessages)
      await storage.messages.ingest({ message: msg, endpointIds: gone.endpoints.map((e) => e.id) });
    await storage.messages.ingest({ message: keptMessage, endpointIds: [kept.endpoints[0]!.id] });

    const now = Date.now();
    const tasks = await storage.deliveries.claim('w', 100, now, 60_000);
    assert.equal(tasks.length, 5);
    const goneTasks = tasks.filter((task) => task.appId === gone.app.id);
    // Two recorded attempts of the deleted application, one still in flight when it goes.
    const inFlight = goneTasks.pop()!;
    await storage.deliveries.complete(
      tasks.filter((task) => task !== inFlight).map((task) => outcome(task, MessageStatus.success)),
    );
    assert.equal(
      (await storage.attempts.listByMessage(gone.app.id, goneMessages[0]!.id, {}, { limit: 10 })).data.length,
      2,
    );

    assert.equal(await storage.applications.delete(gone.app.id), true);

    for (const msg of goneMessages) {
      assert.equal(await storage.messages.get(gone.app.id, msg.id), undefined, 'message and payload gone');
      assert.deepEqual(
        (await storage.attempts.listByMessage(gone.app.id, msg.id, {}, { limit: 10 })).data,
        [],
      );
      for (const ep of gone.endpoints) assert.equal(await storage.deliveries.get(msg.id, ep.id), undefined);
    }
    assert.deepEqual((await storage.messages.list(gone.app.id, {}, { limit: 10 })).data, []);
    for (const ep of gone.endpoints)
      assert.deepEqual(
        (await storage.attempts.listByEndpoint(gone.app.id, ep.id, {}, { limit: 10 })).data,
        [],
      );

    // The attempt that was in flight completes into nothing, without failing the batch it shares.
    const late = outcome(inFlight, MessageStatus.success);
    const [keptTask] = await storage.deliveries.claim('w', 100, now + 120_000, 60_000);
    assert.equal(keptTask, undefined, 'nothing of the deleted application is claimable');
    await storage.deliveries.complete([late]);
    assert.deepEqual(
      (await storage.attempts.listByMessage(gone.app.id, inFlight.msgId, {}, { limit: 10 })).data,
      [],
    );

    assert.deepEqual(await storage.messages.get(kept.app.id, keptMessage.id), keptMessage);
    assert.equal(
      (await storage.attempts.listByMessage(kept.app.id, keptMessage.id, {}, { limit: 10 })).data.length,
      1,
    );
  });
});
