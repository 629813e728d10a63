import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/domain/ids.ts';
import { createRetentionPurger } from '../../src/retention/retention-purger.ts';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend, type TestStorage } from '../helpers/backends.ts';
import { pipeline, silentLogger, waitFor } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';

const DAY = 86_400_000;

async function seedApp(storage: TestStorage): Promise<string> {
  const now = Date.now();
  const app = await storage.applications.create({
    id: newId('application'),
    uid: null,
    name: 'retention',
    throttleRate: null,
    metadata: {},
    createdAt: now,
    updatedAt: now,
  });
  return app.id;
}

async function seedMessages(storage: TestStorage, appId: string, count: number, expiresAt: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = newId('message');
    ids.push(id);
    await storage.messages.ingest({
      message: {
        id,
        appId,
        uid: null,
        eventType: 'e',
        channels: null,
        payload: '{"n":1}',
        payloadExpiresAt: expiresAt,
        createdAt: Date.now(),
      },
      endpointIds: [],
    });
  }
  return ids;
}

forEachBackend((backend) => {
  test('expired payloads are purged in small batches, unexpired ones kept', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const appId = await seedApp(storage);
    const now = Date.now();
    const expired = await seedMessages(storage, appId, 7, now + 10 * DAY);
    const kept = await seedMessages(storage, appId, 2, now + 90 * DAY);

    const batches: number[] = [];
    const purger = createRetentionPurger({
      storage: {
        ...storage,
        retention: {
          ...storage.retention,
          purgeExpiredPayloads: async (at, limit) => {
            const count = await storage.retention.purgeExpiredPayloads(at, limit);
            batches.push(count);
            return count;
          },
        },
      },
      config: { responseRetention: 30 * DAY },
      logger: silentLogger,
      clock: () => now + 11 * DAY,
      batchSize: 3,
      pauseMs: 0,
    });
    t.after(() => purger.close());
    const first = await purger.runOnce();
    assert.deepEqual([first.messages, first.payloads, first.responses], [0, 7, 0]);
    assert.deepEqual(batches, [3, 3, 1]);
    for (const id of expired) assert.equal((await storage.messages.get(appId, id))?.payload, null);
    for (const id of kept) assert.equal((await storage.messages.get(appId, id))?.payload, '{"n":1}');
    // A second pass finds nothing: purged rows have left the index.
    const second = await purger.runOnce();
    assert.deepEqual([second.messages, second.payloads, second.responses], [0, 0, 0]);
  });

  test('response bodies older than HOOKYARD_RESPONSE_RETENTION are emptied; concurrent purgers share the work', async (t) => {
    const rx = await startReceiver();
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    await p.startDispatcher();
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'a', uid: 'a' } });
    await p.call({ method: 'POST', url: '/api/v1/app/a/endpoint', payload: { url: rx.url } });
    for (let i = 0; i < 5; i++)
      await p.call({ method: 'POST', url: '/api/v1/app/a/msg', payload: { eventType: 'e', payload: { i } } });
    await rx.waitFor(() => rx.deliveries.length === 5);
    const app = await p.storage.applications.get('a');
    assert.ok(app);
    const endpoints = await p.storage.endpoints.listAll(app.id);
    const endpointId = endpoints[0]?.id ?? '';
    const attempts = await waitFor(async () => {
      const page = await p.storage.attempts.listByEndpoint(app.id, endpointId, {}, { limit: 10 });
      return page.data.length === 5 ? page.data : undefined;
    });
    assert.ok(attempts.every((attempt) => attempt.response === 'ok'));
    await p.stopDispatcher();

    // Not yet 30 days old: kept.
    const soon = createRetentionPurger({
      storage: p.storage,
      config: { responseRetention: 30 * DAY },
      logger: silentLogger,
      clock: () => Date.now() + 29 * DAY,
    });
    assert.equal((await soon.runOnce()).responses, 0);

    // Past it, from two processes at once (PostgreSQL fleet) or one (SQLite): each row counted once.
    const processes = p.storage.capabilities.multipleWriters
      ? [p.storage, await p.storage.openAnother()]
      : [p.storage];
    const purgers = processes.map((storage) =>
      createRetentionPurger({
        storage,
        config: { responseRetention: 30 * DAY },
        logger: silentLogger,
        clock: () => Date.now() + 31 * DAY,
        batchSize: 2,
        pauseMs: 0,
      }),
    );
    const counts = await Promise.all(purgers.map((purger) => purger.runOnce()));
    assert.equal(
      counts.reduce((sum, count) => sum + count.responses, 0),
      5,
    );
    const after = await p.storage.attempts.listByEndpoint(app.id, endpointId, {}, { limit: 10 });
    assert.ok(after.data.every((attempt) => attempt.response === ''));
    // The attempts themselves stay: only their content goes.
    assert.equal(after.data.length, 5);
  });

  test('expunge endpoints work, and a pending delivery of an expunged or expired payload fails saying why', async (t) => {
    const rx = await startReceiver();
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'a', uid: 'a' } });
    const endpoint = (
      await p.call({ method: 'POST', url: '/api/v1/app/a/endpoint', payload: { url: rx.url } })
    ).json();
    const send = async (extra: object = {}) =>
      (
        await p.call({
          method: 'POST',
          url: '/api/v1/app/a/msg',
          payload: { eventType: 'e', payload: { secret: 'x' }, ...extra },
        })
      ).json().id as string;
    const expunged = await send();
    const expiring = await send({ payloadRetentionHours: 1 });
    const delivered = await send();

    // Dispatcher not running yet: both deliveries are still pending.
    const gone = await p.call({ method: 'DELETE', url: `/api/v1/app/a/msg/${expunged}/content` });
    assert.equal(gone.statusCode, 204);
    const purger = createRetentionPurger({
      storage: p.storage,
      config: { responseRetention: 30 * DAY },
      logger: silentLogger,
      clock: () => Date.now() + 2 * 3_600_000,
    });
    assert.equal((await purger.runOnce()).payloads, 1);
    const shown = await p.call({ method: 'GET', url: `/api/v1/app/a/msg/${expiring}` });
    assert.deepEqual(shown.json().payload, { expired: true });

    await p.startDispatcher();
    for (const msgId of [expunged, expiring]) {
      const row = await waitFor(async () => {
        const delivery = await p.storage.deliveries.get(msgId, endpoint.id);
        return delivery?.status === MessageStatus.fail ? delivery : undefined;
      });
      assert.equal(row.status, MessageStatus.fail);
      const attempts = await p.call({ method: 'GET', url: `/api/v1/app/a/attempt/msg/${msgId}` });
      const [attempt] = attempts.json().data;
      assert.equal(attempt.response, 'the message payload was expunged');
      assert.equal(attempt.responseStatusCode, 0);
    }
    await rx.waitFor(() => rx.deliveries.length === 1);
    assert.equal(rx.deliveries[0]?.headers['webhook-id'], delivered);

    const attempt = await waitFor(async () => {
      const list = await p.call({ method: 'GET', url: `/api/v1/app/a/attempt/msg/${delivered}` });
      return list.json().data[0] as { id: string; response: string } | undefined;
    });
    assert.equal(attempt.response, 'ok');
    const wiped = await p.call({
      method: 'DELETE',
      url: `/api/v1/app/a/msg/${delivered}/attempt/${attempt.id}/content`,
    });
    assert.equal(wiped.statusCode, 204);
    const again = await p.call({
      method: 'GET',
      url: `/api/v1/app/a/msg/${delivered}/attempt/${attempt.id}`,
    });
    assert.equal(again.json().response, '');
  });
});
