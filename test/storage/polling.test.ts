import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idBoundary } from '../../src/domain/ids.ts';
import type { PollingConsumerRecord } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { appWithEndpoints, endpoint, message } from './fixtures.ts';

/** The polling store (contract.ts `PollingStore`) on every backend. */
forEachBackend((backend) => {
  test('messagesAfter reads an id range of one application in id order, by event type and channel', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app } = await appWithEndpoints(storage, 0);
    const { app: other } = await appWithEndpoints(storage, 0);
    const base = Date.now();
    const made = [
      message(app.id, { createdAt: base, eventType: 'a', channels: ['eu'] }),
      message(app.id, { createdAt: base + 1, eventType: 'b' }),
      message(other.id, { createdAt: base + 2, eventType: 'a' }),
      message(app.id, { createdAt: base + 3, eventType: 'a', channels: ['us', 'eu'] }),
      message(app.id, { createdAt: base + 4, eventType: 'c' }),
    ];
    for (const msg of made) await storage.messages.ingest({ message: msg, endpointIds: [] });
    const [m0, m1, , m3, m4] = made.map((msg) => msg.id);
    const read = (overrides: Partial<Parameters<typeof storage.polling.messagesAfter>[1]> = {}) =>
      storage.polling
        .messagesAfter(app.id, {
          after: idBoundary('message', 0),
          before: null,
          eventTypes: null,
          limit: 10,
          ...overrides,
        })
        .then((rows) => rows.map((row) => row.id));
    assert.deepEqual(await read(), [m0, m1, m3, m4], 'another application is not read');
    assert.deepEqual(await read({ after: m0 ?? '' }), [m1, m3, m4], 'after is exclusive');
    assert.deepEqual(await read({ before: m3 ?? null }), [m0, m1], 'before is exclusive');
    assert.deepEqual(await read({ eventTypes: ['a', 'c'] }), [m0, m3, m4]);
    assert.deepEqual(await read({ eventTypes: [] }), [], 'no event type: nothing');
    assert.deepEqual(await read({ channel: 'eu' }), [m0, m3]);
    assert.deepEqual(await read({ limit: 2 }), [m0, m1]);
    const [first] = await storage.polling.messagesAfter(app.id, {
      after: idBoundary('message', 0),
      before: null,
      eventTypes: null,
      limit: 1,
    });
    assert.deepEqual(first, made[0], 'the whole record');
  });

  test('a consumer is saved, replaced, kept apart per endpoint, and deleted with its endpoint', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const ep = endpoints[0];
    assert.ok(ep);
    const second = await storage.endpoints.create(endpoint(app.id));
    assert.equal(await storage.polling.getConsumer(ep.id, 'w'), undefined);
    const record: PollingConsumerRecord = {
      endpointId: ep.id,
      consumerId: 'w',
      position: idBoundary('message', 1_000),
      committedOffset: 0,
      handed: ['msg_a', 'msg_b'],
      leaseExpiresAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
    };
    await storage.polling.saveConsumer(record);
    assert.deepEqual(await storage.polling.getConsumer(ep.id, 'w'), record);
    const moved = { ...record, position: 'msg_b', committedOffset: 2, handed: [], leaseExpiresAt: null };
    await storage.polling.saveConsumer(moved);
    assert.deepEqual(await storage.polling.getConsumer(ep.id, 'w'), moved);
    assert.equal(await storage.polling.getConsumer(second.id, 'w'), undefined);
    await storage.polling.saveConsumer({ ...record, endpointId: second.id });
    await storage.endpoints.delete(app.id, ep.id);
    assert.equal(await storage.polling.getConsumer(ep.id, 'w'), undefined);
    assert.ok(await storage.polling.getConsumer(second.id, 'w'));
  });
});
