import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DestinationStatusIn, Svix } from 'svix2';
import { newId } from '../../src/domain/ids.ts';
import type { MessageRecord } from '../../src/storage/contract.ts';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { commitHorizonPassed, type SqlClient, schemaHolding } from '../helpers/commit-horizon.ts';
import { endpoint } from '../storage/fixtures.ts';
import { ADMIN_TOKEN, type Harness, harness } from './harness.ts';

/**
 * Polling endpoints (docs/destinations.md, `pollingEndpoint`): made and read with the official SDK 2.x
 * (`svix.destination`, `svix.message.poller`), the poller v2 routes (not in the SDK's public surface)
 * over HTTP. On PostgreSQL a committed message is readable once every older transaction in the cluster
 * has ended (other test processes' too): `settle()` waits for that.
 */
const V1 = '/api/v1';

interface Setup {
  h: Harness;
  svix: Svix;
  appId: string;
  settle(): Promise<void>;
  advance(ms: number): void;
  send(eventType: string, payload: Record<string, unknown>, extra?: Record<string, unknown>): Promise<string>;
}

/**
 * Shared by every test of the file, so time never goes back: ids take the greatest time a process has
 * seen (domain/ids.ts), and a test whose clock lagged the previous one's would make ids ahead of it.
 */
let skew = 0;

async function setup(t: { after(fn: () => Promise<void>): void }, backend: TestBackend): Promise<Setup> {
  const h = await harness({}, backend, { clock: () => Date.now() + skew });
  t.after(() => h.close());
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as AddressInfo;
  const svix = new Svix(ADMIN_TOKEN, { serverUrl: `http://127.0.0.1:${port}` });
  const app = await svix.application.create({ name: 'Shop' });
  return {
    h,
    svix,
    appId: app.id,
    settle: () => commitHorizonPassed(h.storage),
    advance: (ms) => {
      skew += ms;
    },
    async send(eventType, payload, extra = {}) {
      const sent = await h.call({
        method: 'POST',
        url: `${V1}/app/${app.id}/msg`,
        payload: { eventType, payload, ...extra },
      });
      assert.equal(sent.statusCode, 202, sent.body);
      return String(sent.json().id);
    },
  };
}

const ids = (items: { id: string }[]) => items.map((item) => item.id);

/** Resolves once some session waits on a lock `holder` holds. */
async function blockedBy(holder: SqlClient): Promise<void> {
  const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  for (let tries = 0; tries < 3_000; tries++) {
    const waiting = await holder.query(
      'SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))',
      [pid],
    );
    if (waiting.rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the other ingest never reached the lock');
}

forEachBackend((backend) => {
  test('a polling endpoint gets no deliveries; the SDK poller reads its stream in order, filtered', async (t) => {
    const s = await setup(t, backend);
    const before = await s.send('order.created', { n: 0 });
    const sink = await s.svix.destination.create(s.appId, {
      type: 'pollingEndpoint',
      uid: 'orders-poller',
      eventTypes: ['order.created', 'order.paid'],
    });
    assert.match(sink.id, /^sink_/);
    assert.equal(sink.type, 'pollingEndpoint');
    assert.deepEqual((await s.svix.destination.get(s.appId, 'orders-poller')).config, {});
    assert.deepEqual(ids((await s.svix.destination.list(s.appId)).data), [sink.id], 'the SDK lists it');

    const one = await s.send('order.created', { n: 1 }, { channels: ['eu'] });
    await s.send('user.signup', { n: 2 });
    const three = await s.send('order.paid', { n: 3 });
    const deliveries = await s.h.call({ url: `${V1}/app/${s.appId}/msg/${one}/endpoint` });
    assert.deepEqual(deliveries.json().data, [], 'no delivery row: nothing is pushed to a polling endpoint');
    await s.settle();

    const first = await s.svix.message.poller.poll(s.appId, sink.id);
    assert.deepEqual(ids(first.data), [one, three], 'messages since its creation, of its event types');
    assert.ok(!ids(first.data).includes(before));
    assert.equal(first.done, true);
    const item = first.data[0];
    assert.ok(item);
    assert.deepEqual(item.payload, { n: 1 });
    assert.equal(item.eventType, 'order.created');
    assert.deepEqual(item.channels, ['eu']);
    assert.ok(item.timestamp instanceof Date);

    const empty = await s.svix.message.poller.poll(s.appId, sink.id, { iterator: first.iterator });
    assert.deepEqual(empty.data, []);
    const four = await s.send('order.created', { n: 4 });
    await s.settle();
    const next = await s.svix.message.poller.poll(s.appId, sink.id, { iterator: empty.iterator });
    assert.deepEqual(ids(next.data), [four], 'the iterator continues where the last poll ended');

    const paged = await s.svix.message.poller.poll(s.appId, sink.id, { limit: 1 });
    assert.deepEqual(ids(paged.data), [one]);
    assert.equal(paged.done, false);
    const rest = await s.svix.message.poller.poll(s.appId, sink.id, { iterator: paged.iterator, limit: 5 });
    assert.deepEqual(ids(rest.data), [three, four]);
    const paid = await s.svix.message.poller.poll(s.appId, sink.id, { eventType: 'order.paid' });
    assert.deepEqual(ids(paid.data), [three], 'event_type narrows the read');
    const eu = await s.svix.message.poller.poll(s.appId, sink.id, { channel: 'eu' });
    assert.deepEqual(ids(eu.data), [one], 'channel narrows the read');

    const bad = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}?iterator=bm9wZQ` });
    assert.equal(bad.statusCode, 422, bad.body);
    assert.deepEqual(bad.json().detail[0].loc, ['query', 'iterator']);
    const other = await s.svix.destination.create(s.appId, {
      type: 'rabbitMq',
      config: { uri: 'amqp://127.0.0.1:5672/', routingKey: 'x' },
    });
    const notPolling = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${other.id}` });
    assert.equal(notPolling.statusCode, 404, 'only polling endpoints can be polled');
  });

  test('a message committed late by another process is read, in commit order, never passed over', async (t) => {
    const s = await setup(t, backend);
    if (s.h.storage.polling.order !== 'commit') {
      t.skip('one writing process (SQLite) knows its ingests in flight: nothing commits behind a reader');
      return;
    }
    const sink = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    // Another api process on the same database, and a delivery target whose row a third connection
    // locks: that process's ingest inserts its message, then waits on the lock (a lock wait, as a slow
    // fsync or a paused process would hold it) before it commits.
    const elsewhere = await s.h.storage.openAnother();
    const target = await s.h.storage.endpoints.create(endpoint(s.appId, { disabled: true }));
    const { default: pg } = await import('pg');
    const locker = new pg.Client({ connectionString: process.env['HOOKYARD_TEST_DATABASE_URL'] });
    await locker.connect();
    t.after(() => locker.end());
    const schema = await schemaHolding(locker, 'endpoints', target.id);
    const poller = s.svix.message.poller;
    const v2 = async (query: string) => {
      const response = await s.h.call({
        url: `${V1}/app/${s.appId}/polling-endpoint/${sink.id}/consumer/v${query}`,
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as { data: { id: string; offset: number }[]; done: boolean };
    };
    const now = Date.now() + skew;
    const held: MessageRecord = {
      id: newId('message', now),
      appId: s.appId,
      uid: null,
      eventType: 'tick',
      channels: null,
      payload: '{"n":0}',
      payloadExpiresAt: now + 86_400_000,
      createdAt: now,
    };

    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM ${schema}.endpoints WHERE id = $1 FOR UPDATE`, [target.id]);
    const heldIngest = elsewhere.messages.ingest({ message: held, endpointIds: [target.id] });
    // The lock ends before the storages close, whatever happens here, or closing them would wait for
    // the ingest it holds.
    const whileHeld = async () => {
      let locked = true;
      try {
        await blockedBy(locker);
        s.advance(10);
        const later = [await s.send('tick', { n: 1 }), await s.send('tick', { n: 2 })];
        assert.ok(
          later.every((id) => id > held.id),
          'the held message has the smallest id',
        );
        // Past the old margin (2 s after acceptance, by this process's clock): by id a reader would now
        // pass the held message for good.
        s.advance(5_000);
        const waiting = await poller.poll(s.appId, sink.id);
        assert.deepEqual(ids(waiting.data), [], 'nothing after a transaction still open is readable');
        assert.equal(waiting.done, true);
        const consumerWaiting = await poller.consumerPoll(s.appId, sink.id, 'c');
        assert.deepEqual(ids(consumerWaiting.data), []);
        assert.deepEqual((await v2('')).data, []);
        await locker.query('COMMIT');
        locked = false;
        return { later, waiting, consumerWaiting };
      } finally {
        if (locked) await locker.query('ROLLBACK');
      }
    };
    const { later, waiting, consumerWaiting } = await whileHeld();
    await heldIngest;
    await s.settle();

    const expected = [held.id, ...later];
    const read = await poller.poll(s.appId, sink.id, { iterator: waiting.iterator });
    assert.deepEqual(ids(read.data), expected, 'from the iterator of the empty poll: the late commit first');
    const consumerRead = await poller.consumerPoll(s.appId, sink.id, 'c', {
      iterator: consumerWaiting.iterator,
    });
    assert.deepEqual(ids(consumerRead.data), expected);
    const leased = await v2('?lease_duration_ms=60000');
    assert.deepEqual(
      leased.data.map((item) => [item.id, item.offset]),
      expected.map((id, index) => [id, index + 1]),
    );

    const again = await poller.poll(s.appId, sink.id, { iterator: read.iterator });
    assert.deepEqual(ids(again.data), [], 'nothing is read twice');
    const consumerAgain = await poller.consumerPoll(s.appId, sink.id, 'c', {
      iterator: consumerRead.iterator,
    });
    assert.deepEqual(ids(consumerAgain.data), []);
    assert.deepEqual((await v2('?lease_duration_ms=60000')).data, [], 'the lease covers all three');
    const committed = await s.h.call({
      method: 'POST',
      url: `${V1}/app/${s.appId}/polling-endpoint/${sink.id}/consumer/v/commit`,
      payload: { offset: 3 },
    });
    assert.equal(committed.statusCode, 204, committed.body);
    assert.deepEqual((await v2('')).data, [], 'committed: nothing again');
    const fromStart = await poller.poll(s.appId, sink.id);
    assert.deepEqual(ids(fromStart.data), expected, 'the stream from its start holds each message once');
  });

  test('positions kept as message ids (before schema 15) read on; a made-up iterator is refused', async (t) => {
    const s = await setup(t, backend);
    const sink = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    const sent: string[] = [];
    for (let n = 0; n < 4; n++) sent.push(await s.send('tick', { n }));
    await s.settle();
    const poller = s.svix.message.poller;
    const legacy = (id: string | undefined) => Buffer.from(id ?? '').toString('base64url');

    const read = await poller.poll(s.appId, sink.id, { iterator: legacy(sent[0]) });
    assert.deepEqual(ids(read.data), sent.slice(1), 'an old iterator: the messages after that id');
    const next = await poller.poll(s.appId, sink.id, { iterator: read.iterator });
    assert.deepEqual(next.data, []);

    // A v2 consumer saved as schema 14 left it: a message id as its position and as what it was handed.
    await s.h.storage.polling.saveConsumer({
      endpointId: sink.id,
      consumerId: 'old',
      position: sent[0] ?? '',
      committedOffset: 5,
      handed: [sent[1] ?? ''],
      leaseExpiresAt: Date.now() + skew + 60_000,
      updatedAt: Date.now() + skew,
    });
    const url = `${V1}/app/${s.appId}/polling-endpoint/${sink.id}/consumer/old`;
    const leased = await s.h.call({ url: `${url}?lease_duration_ms=60000` });
    assert.deepEqual(
      (leased.json().data as { id: string; offset: number }[]).map((item) => [item.id, item.offset]),
      [
        [sent[2], 7],
        [sent[3], 8],
      ],
      'the lease still runs: after what it was handed',
    );
    const commit = await s.h.call({ method: 'POST', url: `${url}/commit`, payload: { offset: 6 } });
    assert.equal(commit.statusCode, 204, commit.body);
    s.advance(61_000);
    const after = await s.h.call({ url });
    assert.deepEqual(ids(after.json().data), sent.slice(2), 'committed up to the old handed id');

    const commitShaped = Buffer.from(`${sent[0]}/1/${sent[1]}`).toString('base64url');
    const shaped = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}?iterator=${commitShaped}` });
    if (s.h.storage.polling.order === 'commit') {
      assert.equal(shaped.statusCode, 200, shaped.body);
      const ahead = Buffer.from(`${sent[0]}/${2n ** 62n}/`).toString('base64url');
      const refused = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}?iterator=${ahead}` });
      assert.equal(refused.statusCode, 409, refused.body);
      assert.match(refused.json().detail, /transaction the database has not reached/);
    } else {
      assert.equal(shaped.statusCode, 422, 'SQLite makes no commit-order positions');
      assert.deepEqual(shaped.json().detail[0].loc, ['query', 'iterator']);
    }
  });

  test('consumers read independently; an uncommitted batch is read again; seek moves a consumer', async (t) => {
    const s = await setup(t, backend);
    const sink = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    const sent: string[] = [];
    for (let n = 0; n < 5; n++) {
      sent.push(await s.send('tick', { n }));
      s.advance(10); // one message per millisecond at least, so a seek by time is exact
    }
    await s.settle();
    const poller = s.svix.message.poller;

    const a1 = await poller.consumerPoll(s.appId, sink.id, 'a', { limit: 2 });
    assert.deepEqual(ids(a1.data), sent.slice(0, 2));
    const again = await poller.consumerPoll(s.appId, sink.id, 'a', { limit: 2 });
    assert.deepEqual(ids(again.data), sent.slice(0, 2), 'not committed: the same batch again');
    const a2 = await poller.consumerPoll(s.appId, sink.id, 'a', { limit: 2, iterator: a1.iterator });
    assert.deepEqual(ids(a2.data), sent.slice(2, 4), 'passing the iterator commits the batch before it');
    const b1 = await poller.consumerPoll(s.appId, sink.id, 'b', { limit: 10 });
    assert.deepEqual(ids(b1.data), sent, 'another consumer starts at the beginning');
    const a3 = await poller.consumerPoll(s.appId, sink.id, 'a', { limit: 2 });
    assert.deepEqual(ids(a3.data), sent.slice(2, 4), 'a kept its committed place');

    const third = await s.svix.message.get(s.appId, sent[2] ?? '');
    const seek = await poller.consumerSeek(s.appId, sink.id, 'a', { after: third.timestamp });
    assert.equal(typeof seek.iterator, 'string');
    const afterSeek = await poller.consumerPoll(s.appId, sink.id, 'a', { limit: 10 });
    assert.deepEqual(ids(afterSeek.data), sent.slice(3), 'a seek reads what was accepted after the time');
    await poller.consumerSeek(s.appId, sink.id, 'a', { after: new Date(0) });
    const restarted = await poller.consumerPoll(s.appId, sink.id, 'a', { limit: 10 });
    assert.deepEqual(ids(restarted.data), sent, 'a seek before the endpoint existed starts at its creation');
  });

  test('poller v2: offsets, commit, leases that hand a batch out again when they end', async (t) => {
    const s = await setup(t, backend);
    const sink = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    const sent: string[] = [];
    for (let n = 0; n < 6; n++) sent.push(await s.send('tick', { n }));
    await s.settle();
    const url = (consumer: string, query = '') =>
      `${V1}/app/${s.appId}/polling-endpoint/${sink.id}/consumer/${consumer}${query}`;
    const poll = async (consumer: string, query: string) => {
      const response = await s.h.call({ url: url(consumer, query) });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as { data: { id: string; offset: number }[]; done: boolean };
    };
    const commit = (consumer: string, offset: number) =>
      s.h.call({ method: 'POST', url: url(consumer, '/commit'), payload: { offset } });

    const first = await poll('w', '?limit=2');
    assert.deepEqual(ids(first.data), sent.slice(0, 2));
    assert.deepEqual(
      first.data.map((item) => item.offset),
      [1, 2],
    );
    assert.equal(first.done, false);
    const again = await poll('w', '?limit=2');
    assert.deepEqual(again.data, first.data, 'uncommitted and unleased: read again, same offsets');
    assert.equal((await commit('w', 2)).statusCode, 204);
    const second = await poll('w', '?limit=2&lease_duration_ms=60000');
    assert.deepEqual(
      second.data.map((item) => [item.id, item.offset]),
      [
        [sent[2], 3],
        [sent[3], 4],
      ],
    );
    const during = await poll('w', '?limit=2&lease_duration_ms=60000');
    assert.deepEqual(ids(during.data), sent.slice(4, 6), 'while the lease runs, a poll gets what follows it');
    s.advance(61_000);
    const expired = await poll('w', '?limit=2');
    assert.deepEqual(
      expired.data.map((item) => [item.id, item.offset]),
      [
        [sent[2], 3],
        [sent[3], 4],
      ],
      'the lease ended uncommitted: the batch is handed out again',
    );
    const wrong = await commit('w', 9);
    assert.equal(wrong.statusCode, 422, wrong.body);
    assert.deepEqual(wrong.json().detail[0].loc, ['body', 'offset']);
    assert.equal((await commit('w', 4)).statusCode, 204);
    assert.equal((await commit('w', 1)).statusCode, 204, 'an offset already committed changes nothing');
    const last = await poll('w', '?limit=10');
    assert.deepEqual(ids(last.data), sent.slice(4, 6));
    assert.equal(last.done, true);

    const latest = await poll('late', '?starting_position=latest');
    assert.deepEqual(latest.data, [], 'latest: only what is accepted from now on');
    const fresh = await s.send('tick', { n: 6 });
    await s.settle();
    assert.deepEqual(ids((await poll('late', '')).data), [fresh]);
    assert.deepEqual(
      ids((await poll('early', '?limit=1')).data),
      sent.slice(0, 1),
      'consumers are independent',
    );
    const stranger = await commit('never-polled', 1);
    assert.equal(stranger.statusCode, 422);
  });

  test('a disabled polling endpoint reads empty and keeps its place; expired payloads are passed over', async (t) => {
    const s = await setup(t, backend);
    const sink = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    const kept = await s.send('tick', { n: 0 });
    const expunged = await s.send('tick', { n: 1 });
    const gone = await s.h.call({ method: 'DELETE', url: `${V1}/app/${s.appId}/msg/${expunged}/content` });
    assert.equal(gone.statusCode, 204, gone.body);
    await s.settle();
    await s.svix.destination.patch(s.appId, sink.id, {
      type: 'pollingEndpoint',
      status: DestinationStatusIn.Disabled,
    });
    const paused = await s.svix.message.poller.consumerPoll(s.appId, sink.id, 'c');
    assert.deepEqual(paused.data, []);
    assert.equal(paused.done, true);
    await s.svix.destination.patch(s.appId, sink.id, {
      type: 'pollingEndpoint',
      status: DestinationStatusIn.Enabled,
    });
    const read = await s.svix.message.poller.consumerPoll(s.appId, sink.id, 'c');
    assert.deepEqual(ids(read.data), [kept], 'the message whose payload was expunged is not in the stream');
  });

  test('payload filters on destinations: saved, shown, checked (422 at the path), applied at fan-out and to pollers', async (t) => {
    const s = await setup(t, backend);
    const base = `${V1}/app/${s.appId}/destination`;
    const filter = { 'data.amount': { $gte: 100 } };
    const pushed = await s.h.call({
      method: 'POST',
      url: base,
      payload: { type: 'redisStream', config: { url: 'redis://127.0.0.1:6379', stream: 'big' }, filter },
    });
    assert.equal(pushed.statusCode, 201, pushed.body);
    assert.deepEqual(pushed.json().filter, filter);
    const redisId = String(pushed.json().id);
    const polled = await s.h.call({
      method: 'POST',
      url: base,
      payload: { type: 'pollingEndpoint', filter },
    });
    assert.equal(polled.statusCode, 201, polled.body);
    const pollerId = String(polled.json().id);
    const plain = await s.svix.destination.create(s.appId, {
      type: 'rabbitMq',
      config: { uri: 'amqp://127.0.0.1:5672/', routingKey: 'all' },
    });
    assert.equal((await s.h.call({ url: `${base}/${plain.id}` })).json().filter, null);

    const invalid = await s.h.call({
      method: 'POST',
      url: base,
      payload: { type: 'pollingEndpoint', filter: { $or: [{ a: { $between: [1, 2] } }] } },
    });
    assert.equal(invalid.statusCode, 422, invalid.body);
    assert.deepEqual(invalid.json().detail[0].loc, ['body', 'filter', '$or', 0, 'a', '$between']);
    const badPatch = await s.h.call({
      method: 'PATCH',
      url: `${base}/${redisId}`,
      payload: { filter: { a: { $gt: [] } } },
    });
    assert.equal(badPatch.statusCode, 422, badPatch.body);
    assert.deepEqual(badPatch.json().detail[0].loc, ['body', 'filter', 'a', '$gt']);
    const noConfig = await s.h.call({ method: 'POST', url: base, payload: { type: 'mqtt' } });
    assert.equal(noConfig.statusCode, 422, noConfig.body);
    assert.deepEqual(noConfig.json().detail[0].loc, ['body', 'config']);

    const big = await s.send('invoice.paid', { data: { amount: 250 } });
    const small = await s.send('invoice.paid', { data: { amount: 5 } });
    const fanned = async (msg: string) =>
      ((await s.h.call({ url: `${V1}/app/${s.appId}/msg/${msg}/endpoint` })).json().data as { id: string }[])
        .map((entry) => entry.id)
        .sort();
    assert.deepEqual(await fanned(big), [redisId, plain.id].sort());
    assert.deepEqual(await fanned(small), [plain.id], 'the filtered destination does not hear the small one');
    await s.settle();
    assert.deepEqual(ids((await s.svix.message.poller.poll(s.appId, pollerId)).data), [big]);

    const patched = await s.h.call({
      method: 'PATCH',
      url: `${base}/${redisId}`,
      payload: { metadata: { a: 'b' } },
    });
    assert.deepEqual(patched.json().filter, filter, 'a patch without filter keeps it');
    const cleared = await s.h.call({ method: 'PATCH', url: `${base}/${redisId}`, payload: { filter: {} } });
    assert.equal(cleared.json().filter, null, '{} clears it');
    const put = await s.h.call({
      method: 'PUT',
      url: `${base}/${pollerId}`,
      payload: { type: 'pollingEndpoint', filter: { kind: 'x' } },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual(put.json().filter, { kind: 'x' });
    const reset = await s.h.call({
      method: 'PUT',
      url: `${base}/${pollerId}`,
      payload: { type: 'pollingEndpoint' },
    });
    assert.equal(reset.json().filter, null, 'a full update without filter resets it');

    const openapi = (await s.h.call({ url: `${V1}/openapi.json` })).json();
    assert.ok(openapi.components.schemas.DestinationOut.properties.filter, 'DestinationOut documents filter');
    assert.ok(openapi.paths['/api/v1/app/{app_id}/poller/{sink_id}']);
    assert.ok(openapi.paths['/api/v1/app/{app_id}/polling-endpoint/{sink_id}/consumer/{consumer_id}/commit']);
  });

  test('a poller token reads its polling endpoint and nothing else; rotation retires the old one', async (t) => {
    const s = await setup(t, backend);
    const sink = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    const other = await s.svix.destination.create(s.appId, { type: 'pollingEndpoint' });
    const sent = await s.send('tick', { n: 1 });
    await s.settle();
    const tokenUrl = `${V1}/auth/app/${s.appId}/poller/${sink.id}/token`;
    const got = await s.h.call({ url: tokenUrl });
    assert.equal(got.statusCode, 200, got.body);
    const first = got.json() as { token: string; id: string; expiresAt: string | null };
    assert.match(first.token, /^sk_poll_/);
    assert.equal(first.expiresAt, null);
    assert.equal(
      (await s.h.call({ url: tokenUrl })).json().token,
      first.token,
      'GET shows the current token',
    );

    const { port } = s.h.app.server.address() as AddressInfo;
    const asPoller = (token: string) => new Svix(token, { serverUrl: `http://127.0.0.1:${port}` });
    const polled = await asPoller(first.token).message.poller.poll(s.appId, sink.id);
    assert.deepEqual(ids(polled.data), [sent]);
    const consumer = await s.h.call({
      url: `${V1}/app/${s.appId}/polling-endpoint/${sink.id}/consumer/c`,
      token: first.token,
    });
    assert.equal(consumer.statusCode, 200, consumer.body);
    const elsewhere = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${other.id}`, token: first.token });
    assert.equal(elsewhere.statusCode, 404, 'another polling endpoint does not exist to it');
    for (const url of [`${V1}/app/${s.appId}/msg`, `${V1}/app/${s.appId}/destination`, tokenUrl]) {
      const refused = await s.h.call({ url, token: first.token });
      assert.equal(refused.statusCode, 403, `${url}: ${refused.body}`);
    }

    const rotated = await s.h.call({
      method: 'POST',
      url: `${tokenUrl}/rotate`,
      payload: { oldTokenExpiry: 0, expiry: 3600 },
    });
    assert.equal(rotated.statusCode, 201, rotated.body);
    const second = rotated.json() as { token: string; expiresAt: string | null };
    assert.notEqual(second.token, first.token);
    assert.ok(second.expiresAt !== null);
    assert.equal((await s.h.call({ url: tokenUrl })).json().token, second.token);
    const old = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}`, token: first.token });
    assert.equal(old.statusCode, 401, 'oldTokenExpiry 0 revokes the old token at once');
    const fresh = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}`, token: second.token });
    assert.equal(fresh.statusCode, 200, fresh.body);
    const graced = await s.h.call({ method: 'POST', url: `${tokenUrl}/rotate`, payload: {} });
    assert.equal(graced.statusCode, 201);
    const stillGood = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}`, token: second.token });
    assert.equal(stillGood.statusCode, 200, 'the default oldTokenExpiry keeps the old token 5 minutes');
    s.advance(301_000);
    const expired = await s.h.call({ url: `${V1}/app/${s.appId}/poller/${sink.id}`, token: second.token });
    assert.equal(expired.statusCode, 401);
  });
});
