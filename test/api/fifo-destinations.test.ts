import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { DestinationStatus, Svix } from 'svix2';
import { forEachBackend } from '../helpers/backends.ts';
import { ADMIN_TOKEN, pipeline, waitFor as waitForBriefly } from '../helpers/pipeline.ts';
import { type ReceivedDelivery, startReceiver } from '../helpers/receiver.ts';

/**
 * fifoEndpoint destinations: created and read through the SDK 2.x, delivered in order in batches by a
 * real dispatcher to a real receiver, and steered with next-event, last-acked-event, skip and
 * force-retry (which the SDK 2.x does not wrap: plain HTTP, as the reference documents them).
 */
interface BatchBody {
  events: Array<{ id: string; eventType: string; timestamp: string; payload: { n: number } }>;
}
const numbers = (delivery: ReceivedDelivery) =>
  (JSON.parse(delivery.body) as BatchBody).events.map((event) => event.payload.n);

/** Generous bounds: the machine may be busy; these are hang guards, not speed targets. */
const waitFor = <T>(probe: () => Promise<T | undefined | false>) => waitForBriefly(probe, 60_000);

forEachBackend((backend) => {
  test('a fifoEndpoint gets every message in order, in signed batches of batchSize', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const p = await pipeline(t, backend, { metrics: {} });
    await p.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = p.app.server.address() as AddressInfo;
    const svix = new Svix(ADMIN_TOKEN, { serverUrl: `http://127.0.0.1:${port}` });
    const app = await svix.application.create({ name: 'Ledger' });

    const created = await svix.destination.create(app.id, {
      type: 'fifoEndpoint',
      uid: 'ledger-feed',
      batchSize: 5,
      eventTypes: ['entry.posted'],
      config: { url: `${receiver.url}/fifo`, headers: { 'x-team': 'ledger' } },
    });
    assert.equal(created.type, 'fifoEndpoint');
    assert.equal(created.batchSize, 5);
    assert.equal(created.maxWaitSecs, 0);
    assert.equal(created.status, DestinationStatus.Enabled);
    if (created.type === 'fifoEndpoint') {
      assert.equal(created.config.url, `${receiver.url}/fifo`);
      assert.deepEqual(created.config.headers, { headers: { 'x-team': 'ledger' }, sensitive: [] });
    }
    const read = await svix.destination.get(app.id, 'ledger-feed');
    assert.equal(read.id, created.id);
    assert.deepEqual(
      (await svix.destination.list(app.id)).data.map((item) => item.id),
      [created.id],
      'the SDK 2.x parses fifoEndpoint in a list',
    );
    const secret = (
      await p.call({ method: 'GET', url: `/api/v1/app/${app.id}/destination/${created.id}/secret` })
    ).json().key as string;

    // Queued before any worker runs, so the batches are exactly 5, 5 and 2.
    const ids: string[] = [];
    for (let n = 1; n <= 12; n++)
      ids.push((await svix.message.create(app.id, { eventType: 'entry.posted', payload: { n } })).id);
    await svix.message.create(app.id, { eventType: 'other.thing', payload: { n: 99 } });
    const base = `/api/v1/app/${app.id}/destination/${created.id}`;
    const next = await p.call({ method: 'GET', url: `${base}/next-event` });
    assert.equal(next.statusCode, 200, next.body);
    assert.deepEqual(JSON.parse(next.json().payload), { n: 1 });
    assert.equal(next.json().eventType, 'entry.posted');
    assert.equal((await p.call({ method: 'GET', url: `${base}/last-acked-event` })).statusCode, 404);

    await p.startDispatcher();
    await receiver.waitFor(() => receiver.deliveries.flatMap(numbers).length >= 12, 60_000);
    assert.deepEqual(receiver.deliveries.map(numbers), [
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
      [11, 12],
    ]);
    for (const delivery of receiver.deliveries) {
      const headers = delivery.headers as Record<string, string>;
      assert.equal(headers['x-team'], 'ledger');
      assert.equal(headers['content-type'], 'application/json');
      // Standard Webhooks over the exact body sent.
      assert.doesNotThrow(() => new StandardWebhook(secret).verify(delivery.body, headers));
      const body = JSON.parse(delivery.body) as BatchBody;
      assert.equal(headers['webhook-id'], `${body.events[0]?.id}..${body.events.at(-1)?.id}`);
    }
    assert.deepEqual(
      receiver.deliveries.flatMap((delivery) =>
        (JSON.parse(delivery.body) as BatchBody).events.map((e) => e.id),
      ),
      ids,
    );

    // The receiver answered before the ack was committed: wait for the commit.
    const lastAcked = async () => {
      const response = await p.call({ method: 'GET', url: `${base}/last-acked-event` });
      return response.statusCode === 200
        ? (response.json() as { payload: string; eventType: string })
        : undefined;
    };
    const acked = await waitFor(async () => {
      const event = await lastAcked();
      return event && JSON.parse(event.payload).n === 12 && event;
    });
    assert.equal(acked.eventType, 'entry.posted');
    assert.equal((await p.call({ method: 'GET', url: `${base}/next-event` })).statusCode, 404);
    const out = (await p.call({ method: 'GET', url: base })).json();
    assert.equal(out.currentIterator, ids.at(-1));

    // One attempt per batch in the metrics too.
    await waitFor(async () =>
      /hookyard_attempts_total\{outcome="success",status_class="2xx"\} 3\b/.test(
        (await p.app.inject({ url: '/metrics' })).body,
      ),
    );
    const attempts = (await p.call({ method: 'GET', url: `${base}/attempt` })).json().data;
    assert.deepEqual(
      attempts.map((a: { firstMsgId: string; lastMsgId: string; numEvents: number }) => [
        a.firstMsgId,
        a.lastMsgId,
        a.numEvents,
      ]),
      [
        [ids[10], ids[11], 2],
        [ids[5], ids[9], 5],
        [ids[0], ids[4], 5],
      ],
    );
  });

  test('a failing batch blocks the ones behind it until force-retry or skip', async (t) => {
    let failing = true;
    const receiver = await startReceiver({ respond: () => (failing ? 500 : 200) });
    t.after(() => receiver.close());
    // Three attempts (the first and two retries), then the destination stops.
    const p = await pipeline(t, backend, { settings: { retrySchedule: '50ms,50ms' } });
    const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'A' } })).json();
    const made = await p.call({
      method: 'POST',
      url: `/api/v1/app/${app.id}/destination`,
      payload: { type: 'fifoEndpoint', batchSize: 2, config: { url: `${receiver.url}/fifo` } },
    });
    assert.equal(made.statusCode, 201, made.body);
    const base = `/api/v1/app/${app.id}/destination/${made.json().id}`;
    const send = async (n: number) => {
      const response = await p.call({
        method: 'POST',
        url: `/api/v1/app/${app.id}/msg`,
        payload: { eventType: 'e', payload: { n } },
      });
      assert.equal(response.statusCode, 202, response.body);
      return response.json().id as string;
    };
    for (const n of [1, 2, 3]) await send(n);
    await p.startDispatcher();

    const stopped = await waitFor(async () => {
      const out = (await p.call({ method: 'GET', url: base })).json();
      return out.status === 'paused' ? out : undefined;
    });
    assert.match(stopped.failureReason, /nope|500/);
    assert.deepEqual(
      receiver.deliveries.map(numbers),
      [
        [1, 2],
        [1, 2],
        [1, 2],
      ],
      'the head batch is retried on the schedule and nothing overtakes it',
    );

    // force-retry: the head batch again, at once, with a fresh schedule.
    failing = false;
    assert.equal((await p.call({ method: 'POST', url: `${base}/force-retry` })).statusCode, 204);
    await receiver.waitFor(() => receiver.deliveries.length >= 5, 60_000);
    assert.deepEqual(receiver.deliveries.slice(3).map(numbers), [[1, 2], [3]]);

    // skip, without an iterator: past the failing head batch (batchSize messages).
    failing = true;
    await p.stopDispatcher();
    const four = await send(4);
    await send(5);
    await send(6);
    await p.startDispatcher();
    await waitFor(async () => (await p.call({ method: 'GET', url: base })).json().status === 'paused');
    const next = (await p.call({ method: 'GET', url: `${base}/next-event` })).json();
    assert.deepEqual(JSON.parse(next.payload), { n: 4 });
    failing = false;
    const skipped = await p.call({ method: 'POST', url: `${base}/skip`, payload: {} });
    assert.equal(skipped.statusCode, 204, skipped.body);
    await receiver.waitFor(() => receiver.deliveries.some((d) => numbers(d).includes(6)), 60_000);
    assert.deepEqual(receiver.deliveries.at(-1) && numbers(receiver.deliveries.at(-1)!), [6]);
    assert.equal(
      receiver.deliveries.flatMap(numbers).filter((n) => n === 5).length,
      3,
      'only tried, then skipped',
    );

    // skip with an iterator: past that message; one no longer queued is a 422 naming the field.
    await p.stopDispatcher();
    const seven = await send(7);
    await send(8);
    const badSkip = await p.call({ method: 'POST', url: `${base}/skip`, payload: { iterator: four } });
    assert.equal(badSkip.statusCode, 422, badSkip.body);
    assert.deepEqual(badSkip.json().detail[0].loc, ['body', 'iterator']);
    assert.equal(
      (await p.call({ method: 'POST', url: `${base}/skip`, payload: { iterator: seven } })).statusCode,
      204,
    );
    assert.deepEqual(
      JSON.parse((await p.call({ method: 'GET', url: `${base}/next-event` })).json().payload),
      {
        n: 8,
      },
    );
    await p.startDispatcher();
    await receiver.waitFor(() => receiver.deliveries.some((d) => numbers(d).includes(8)), 60_000);
    assert.deepEqual(numbers(receiver.deliveries.at(-1)!), [8]);
    assert.equal(receiver.deliveries.flatMap(numbers).includes(7), false);
    await waitFor(
      async () =>
        (await p.call({ method: 'GET', url: `${base}/last-acked-event` })).json().payload === '{"n":8}',
    );
  });

  test('a batch short of batchSize waits up to maxWaitSecs, and goes at once when it fills', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const p = await pipeline(t, backend);
    const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'A' } })).json();
    const create = async (payload: object) => {
      const response = await p.call({ method: 'POST', url: `/api/v1/app/${app.id}/destination`, payload });
      assert.equal(response.statusCode, 201, response.body);
      return response.json();
    };
    // Fills up: 300 s of wait would outlast the test's deadline, so the batch must go when full.
    const full = await create({
      type: 'fifoEndpoint',
      batchSize: 3,
      maxWaitSecs: 300,
      eventTypes: ['full'],
      config: { url: `${receiver.url}/full` },
    });
    assert.equal(full.maxWaitSecs, 300);
    // Waits: three messages sent together arrive as one batch, not one by one.
    await create({
      type: 'fifoEndpoint',
      batchSize: 100,
      maxWaitSecs: 3,
      eventTypes: ['wait'],
      config: { url: `${receiver.url}/wait` },
    });
    await p.startDispatcher();
    for (const n of [1, 2, 3])
      await p.call({
        method: 'POST',
        url: `/api/v1/app/${app.id}/msg`,
        payload: { eventType: 'wait', payload: { n } },
      });
    for (const n of [1, 2, 3])
      await p.call({
        method: 'POST',
        url: `/api/v1/app/${app.id}/msg`,
        payload: { eventType: 'full', payload: { n } },
      });
    await receiver.waitFor(() => receiver.deliveries.length >= 2, 60_000);
    const byPath = (path: string) =>
      receiver.deliveries.filter((d) => (JSON.parse(d.body) as BatchBody).events[0]?.eventType === path);
    assert.deepEqual(byPath('full').map(numbers), [[1, 2, 3]]);
    assert.deepEqual(byPath('wait').map(numbers), [[1, 2, 3]]);
  });
});

test('batching is refused for a polling endpoint, and a fifoEndpoint keeps its type', async (t) => {
  const p = await pipeline(t, (await import('../helpers/backends.ts')).backends()[0]!);
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'A' } })).json();
  const base = `/api/v1/app/${app.id}/destination`;
  // A broker type takes batching (an ordered stream: test/e2e/broker-batching.test.ts); a polling
  // endpoint has no batches to make.
  const refused = await p.call({
    method: 'POST',
    url: base,
    payload: { type: 'pollingEndpoint', batchSize: 10 },
  });
  assert.equal(refused.statusCode, 422);
  assert.deepEqual(refused.json().detail[0].loc, ['body', 'batchSize']);
  const badUrl = await p.call({
    method: 'POST',
    url: base,
    payload: { type: 'fifoEndpoint', config: { url: 'ftp://x' } },
  });
  assert.equal(badUrl.statusCode, 422);
  assert.deepEqual(badUrl.json().detail[0].loc, ['body', 'config', 'url']);
  const made = await p.call({
    method: 'POST',
    url: base,
    payload: { type: 'fifoEndpoint', config: { url: 'http://127.0.0.1:9/fifo' } },
  });
  assert.equal(made.statusCode, 201, made.body);
  assert.equal(made.json().batchSize, 100, "the reference's default");
  const id = made.json().id;
  const patched = await p.call({ method: 'PATCH', url: `${base}/${id}`, payload: { maxWaitSecs: 10 } });
  assert.equal(patched.json().maxWaitSecs, 10);
  assert.equal(patched.json().batchSize, 100, 'a patch keeps what it leaves out');
  const moved = await p.call({
    method: 'PATCH',
    url: `${base}/${id}`,
    payload: { type: 'fifoEndpoint', config: { url: 'http://127.0.0.1:10/fifo' } },
  });
  assert.equal(moved.json().config.url, 'http://127.0.0.1:10/fifo');
  assert.equal(moved.json().maxWaitSecs, 10);
  const retyped = await p.call({
    method: 'PATCH',
    url: `${base}/${id}`,
    payload: { type: 'rabbitMq', config: { uri: 'amqp://127.0.0.1', routingKey: 'k' } },
  });
  assert.equal(retyped.statusCode, 422);
  assert.deepEqual(retyped.json().detail[0].loc, ['body', 'type']);
  // A broker destination has no position.
  const rabbit = await p.call({
    method: 'POST',
    url: base,
    payload: { type: 'rabbitMq', config: { uri: 'amqp://127.0.0.1', routingKey: 'k' } },
  });
  assert.equal(
    (await p.call({ method: 'GET', url: `${base}/${rabbit.json().id}/next-event` })).statusCode,
    404,
  );
  const document = (await p.call({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  for (const op of ['next-event', 'last-acked-event', 'skip', 'force-retry'])
    assert.ok(document.paths[`/api/v1/app/{app_id}/destination/{destination_id}/${op}`], op);
});

// SQLite: there `purgeMessagesBefore` deletes any old message (on PostgreSQL, partition drops do; the
// ordered loop's handling is the same for both).
test('messages deleted by retention before their batch went are passed, not waited for', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const p = await pipeline(t, (await import('../helpers/backends.ts')).backends()[0]!);
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'A' } })).json();
  const made = await p.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/destination`,
    payload: { type: 'fifoEndpoint', config: { url: `${receiver.url}/fifo` } },
  });
  assert.equal(made.statusCode, 201, made.body);
  const send = (n: number) =>
    p.call({
      method: 'POST',
      url: `/api/v1/app/${app.id}/msg`,
      payload: { eventType: 'e', payload: { n } },
    });
  await send(1);
  await send(2);
  // Past message retention before any worker ran: the queue still counts them, but they are gone.
  assert.equal(await p.storage.retention.purgeMessagesBefore(Date.now() + 1, 100), 2);
  await p.startDispatcher();
  await send(3);
  await receiver.waitFor(() => receiver.deliveries.length >= 1, 60_000);
  assert.deepEqual(receiver.deliveries.map(numbers), [[3]]);
  const position = await waitFor(async () => {
    const state = await p.storage.ordered.position(made.json().id);
    return state.queued === 0 && state;
  });
  assert.equal(position.next, undefined);
});
