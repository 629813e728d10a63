import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { type Pipeline, pipeline, waitFor } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

async function setup(p: Pipeline, url: string) {
  await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'a', uid: 'a' } });
  const endpoint = (await p.call({ method: 'POST', url: '/api/v1/app/a/endpoint', payload: { url } })).json();
  const send = async (payload: object) =>
    (await p.call({ method: 'POST', url: '/api/v1/app/a/msg', payload: { eventType: 'e', payload } })).json()
      .id as string;
  const status = async (msgId: string) => (await p.storage.deliveries.get(msgId, endpoint.id))?.status;
  const final = (msgId: string, wanted: MessageStatus) =>
    waitFor(async () => (await status(msgId)) === wanted);
  return { endpointId: endpoint.id as string, send, status, final };
}

forEachBackend((backend) => {
  test('recover twice re-queues each failed delivery once', async (t) => {
    let healthy = false;
    const rx = await startReceiver({ respond: () => (healthy ? 200 : 500) });
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    const s = await setup(p, rx.url);
    await p.startDispatcher();
    const since = new Date(Date.now() - 60_000).toISOString();
    const ids = [await s.send({ n: 1 }), await s.send({ n: 2 })];
    for (const id of ids) await s.final(id, MessageStatus.fail);
    await p.stopDispatcher();
    assert.deepEqual(
      ids.map((id) => rx.counts.get(id)),
      [3, 3],
    );

    healthy = true;
    for (let i = 0; i < 2; i++) {
      const recovered = await p.call({
        method: 'POST',
        url: `/api/v1/app/a/endpoint/${s.endpointId}/recover`,
        payload: { since },
      });
      assert.equal(recovered.statusCode, 202);
    }
    await p.startDispatcher();
    for (const id of ids) await s.final(id, MessageStatus.success);
    await settle();
    assert.deepEqual(
      ids.map((id) => rx.counts.get(id)),
      [4, 4],
    );
  });

  test('resend twice sends once, and a resend while the attempt is in flight changes nothing', async (t) => {
    let release: () => void = () => {};
    let gate: Promise<void> = Promise.resolve();
    const rx = await startReceiver({
      respond: async () => {
        await gate;
        return 200;
      },
    });
    t.after(() => {
      release();
      return rx.close();
    });
    const p = await pipeline(t, backend);
    const s = await setup(p, rx.url);
    const msgId = await s.send({ n: 1 });
    const resend = () =>
      p.call({ method: 'POST', url: `/api/v1/app/a/msg/${msgId}/endpoint/${s.endpointId}/resend` });

    // Queued but not yet sent: a resend brings it forward, a second one finds it queued.
    assert.equal((await resend()).statusCode, 202);
    assert.equal((await resend()).statusCode, 202);
    await p.startDispatcher();
    await s.final(msgId, MessageStatus.success);
    await settle();
    assert.equal(rx.counts.get(msgId), 1);

    // In flight: the receiver holds the request while two more resends arrive.
    gate = new Promise((resolve) => {
      release = resolve;
    });
    assert.equal((await resend()).statusCode, 202);
    await rx.waitFor(() => rx.counts.get(msgId) === 2);
    assert.equal(await p.storage.replay.resend('x', msgId, s.endpointId, Date.now()), 'missing');
    const app = await p.storage.applications.get('a');
    assert.equal(await p.storage.replay.resend(app?.id ?? '', msgId, s.endpointId, Date.now()), 'in_flight');
    assert.equal((await resend()).statusCode, 202);
    release();
    await s.final(msgId, MessageStatus.success);
    await settle();
    assert.equal(rx.counts.get(msgId), 2);
  });

  test('replay re-queues every finished delivery of the range, success and fail, once per call', async (t) => {
    let healthy = true;
    const rx = await startReceiver({
      respond: (delivery) => (healthy || !delivery.body.includes('"flaky"') ? 200 : 500),
    });
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    const s = await setup(p, rx.url);
    await p.startDispatcher();
    const before = await s.send({ n: 'before' });
    await s.final(before, MessageStatus.success);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    healthy = false;
    const ok = await s.send({ n: 'ok' });
    const flaky = await s.send({ n: 'flaky' });
    await s.final(ok, MessageStatus.success);
    await s.final(flaky, MessageStatus.fail);
    await p.stopDispatcher();
    healthy = true;

    const replay = (body: object) =>
      p.call({ method: 'POST', url: `/api/v1/app/a/endpoint/${s.endpointId}/replay`, payload: body });
    const first = await replay({ since });
    assert.equal(first.statusCode, 202);
    assert.equal(first.json().task, 'endpoint.replay');
    assert.equal(first.json().status, 'finished');
    assert.equal(first.json().replayed, 2);
    assert.equal(await s.status(ok), MessageStatus.pending);
    // Still queued: the repeat re-queues nothing.
    assert.equal((await replay({ since })).json().replayed, 0);

    await p.startDispatcher();
    await s.final(ok, MessageStatus.success);
    await s.final(flaky, MessageStatus.success);
    await settle();
    assert.equal(rx.counts.get(before), 1);
    assert.equal(rx.counts.get(ok), 2);
    assert.equal(rx.counts.get(flaky), 4);
    const attempts = await p.call({ method: 'GET', url: `/api/v1/app/a/attempt/msg/${ok}` });
    assert.deepEqual(
      attempts.json().data.map((attempt: { triggerType: number }) => attempt.triggerType),
      [1, 0],
    );

    // Finished again: a new call is a new replay, limited by until.
    const bounded = await replay({ since, until: new Date(Date.parse(since) + 1).toISOString() });
    assert.equal(bounded.json().replayed, 0);
    const invalid = await replay({ since, until: new Date(Date.parse(since) - 1000).toISOString() });
    assert.equal(invalid.statusCode, 422);
    const missing = await p.call({
      method: 'POST',
      url: '/api/v1/app/a/endpoint/ep_missing/replay',
      payload: { since },
    });
    assert.equal(missing.statusCode, 404);
    // A large range is walked in short transactions; the batch size changes nothing in the result.
    await p.stopDispatcher();
    const all = await p.storage.replay.replayEndpoint(s.endpointId, 0, Date.now() + 1000, Date.now(), 1);
    assert.equal(all, 3);
    assert.equal(await p.storage.replay.replayEndpoint(s.endpointId, 0, Date.now() + 1000, Date.now(), 1), 0);
    const document = (await p.call({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const operation = document.paths['/api/v1/app/{app_id}/endpoint/{endpoint_id}/replay'].post;
    assert.equal(operation.operationId, 'v1.endpoint.replay');
    assert.ok(document.components.schemas.ReplayIn && document.components.schemas.ReplayOut);
  });
});
