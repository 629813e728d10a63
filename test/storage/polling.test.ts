import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idBoundary } from '../../src/domain/ids.ts';
import type { PollingConsumerRecord, PollingRead } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { commitHorizonPassed, schemaHolding } from '../helpers/commit-horizon.ts';
import { appWithEndpoints, endpoint, message } from './fixtures.ts';

/** The polling store (contract.ts `PollingStore`) on every backend. */
forEachBackend((backend) => {
  test('messagesAfter reads one application above a floor, in its order, by event type and channel', async (t) => {
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
    // One transaction each, in id order: commit order and id order agree.
    for (const msg of made) await storage.messages.ingest({ message: msg, endpointIds: [] });
    await commitHorizonPassed(storage);
    const [m0, m1, , m3, m4] = made.map((msg) => msg.id);
    const page = (overrides: Partial<PollingRead> = {}) =>
      storage.polling.messagesAfter(app.id, {
        floor: idBoundary('message', 0),
        after: null,
        before: null,
        eventTypes: null,
        limit: 10,
        ...overrides,
      });
    const read = async (overrides: Partial<PollingRead> = {}) =>
      (await page(overrides)).rows.map((row) => row.message.id);
    const placeOf = async (id: string | undefined) =>
      (await page()).rows.find((row) => row.message.id === id)?.place ?? null;
    assert.deepEqual(await read(), [m0, m1, m3, m4], 'another application is not read');
    assert.deepEqual(await read({ floor: m0 ?? '' }), [m1, m3, m4], 'the floor is exclusive');
    assert.deepEqual(await read({ after: await placeOf(m1) }), [m3, m4], 'after a place: exclusive');
    assert.deepEqual(await read({ eventTypes: ['a', 'c'] }), [m0, m3, m4]);
    assert.deepEqual(await read({ eventTypes: [] }), [], 'no event type: nothing');
    assert.deepEqual(await read({ channel: 'eu' }), [m0, m3]);
    assert.deepEqual(await read({ limit: 2 }), [m0, m1]);
    if (storage.polling.order === 'id')
      assert.deepEqual(await read({ before: m3 ?? null }), [m0, m1], 'before is exclusive');
    const [first] = (await page({ limit: 1 })).rows;
    assert.deepEqual(first?.message, made[0], 'the whole record');
  });

  test('a place is never passed by a message committed after it, whatever its id', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app } = await appWithEndpoints(storage, 0);
    const read = (after: string | null) =>
      storage.polling.messagesAfter(app.id, {
        floor: idBoundary('message', 0),
        after,
        before: null,
        eventTypes: null,
        limit: 10,
      });
    // Its id is made first, its transaction commits last (another process paused after making it).
    const late = message(app.id);
    const early = [message(app.id), message(app.id)];
    for (const msg of early) await storage.messages.ingest({ message: msg, endpointIds: [] });
    await commitHorizonPassed(storage);
    const seen = await read(null);
    assert.deepEqual(
      seen.rows.map((row) => row.message.id),
      early.map((msg) => msg.id),
    );
    const last = seen.rows.at(-1)?.place ?? null;
    await storage.messages.ingest({ message: late, endpointIds: [] });
    await commitHorizonPassed(storage);
    const next = await read(last);
    if (storage.polling.order === 'commit') {
      assert.deepEqual(
        next.rows.map((row) => row.message.id),
        [late.id],
        'commit order: the late commit comes after the place, though its id is smaller',
      );
      assert.ok(seen.end !== null, 'a read that found less than its limit says where everything read ends');
      assert.deepEqual(
        (await read(seen.end)).rows.map((row) => row.message.id),
        [late.id],
        'the end is before every later commit',
      );
      const after = await read(next.end);
      assert.deepEqual(after.rows, [], 'nothing is read twice');
      const ahead = await read(`${2n ** 62n}/`);
      assert.equal(ahead.unknownPlace, true, 'a place beyond every transaction is refused');
      assert.deepEqual(ahead.rows, []);
    } else {
      // By id the late message is behind the place: why an id-order reader stops below the ids still
      // being committed (`before`), which only the one writing process knows.
      assert.deepEqual(next.rows, []);
      assert.equal(seen.end, null);
    }
  });

  test('rows stored before schema 15 (transaction 0) read first, in id order, then what came since', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    if (storage.polling.order !== 'commit') {
      t.skip('schema 15 changes nothing for id order');
      return;
    }
    const { app } = await appWithEndpoints(storage, 0);
    const old = [message(app.id), message(app.id), message(app.id)];
    // Committed newest first: by transaction they would read backwards.
    for (const msg of [...old].reverse()) await storage.messages.ingest({ message: msg, endpointIds: [] });
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: process.env['HOOKYARD_TEST_DATABASE_URL'] });
    await client.connect();
    t.after(() => client.end());
    const schema = await schemaHolding(client, 'applications', app.id);
    // What migration 0015's constant default gives the rows already there.
    await client.query(`UPDATE ${schema}.messages SET tx = '0' WHERE app_id = $1`, [app.id]);
    const since = message(app.id);
    await storage.messages.ingest({ message: since, endpointIds: [] });
    await commitHorizonPassed(storage);
    const read = async (floor: string) =>
      (
        await storage.polling.messagesAfter(app.id, {
          floor,
          after: null,
          before: null,
          eventTypes: null,
          limit: 10,
        })
      ).rows.map((row) => row.message.id);
    assert.deepEqual(
      await read(idBoundary('message', 0)),
      [...old, since].map((msg) => msg.id),
    );
    assert.deepEqual(
      await read(old[0]?.id ?? ''),
      [old[1], old[2], since].map((msg) => msg?.id),
      'a position kept as a message id: everything above it',
    );
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
