import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRetentionPurger } from '../../src/retention/retention-purger.ts';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { pipeline, silentLogger, waitFor } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';

forEachBackend((backend) => {
  test('attempts are rolled up per endpoint and minute in the completion, and served by the stats API', async (t) => {
    const rx = await startReceiver({ respond: (delivery) => (delivery.body.includes('"bad"') ? 500 : 200) });
    t.after(() => rx.close());
    const p = await pipeline(t, backend, { settings: { retrySchedule: '50ms' } });
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Stats', uid: 'stats' } });
    const good = (
      await p.call({ method: 'POST', url: '/api/v1/app/stats/endpoint', payload: { url: rx.url } })
    ).json().id as string;
    const send = async (payload: object) =>
      (
        await p.call({ method: 'POST', url: '/api/v1/app/stats/msg', payload: { eventType: 'e', payload } })
      ).json().id as string;
    await p.startDispatcher();
    const ok = [await send({ n: 1 }), await send({ n: 2 }), await send({ n: 3 })];
    const bad = await send({ n: 'bad' });
    for (const id of ok)
      await waitFor(async () => (await p.storage.deliveries.get(id, good))?.status === MessageStatus.success);
    await waitFor(async () => (await p.storage.deliveries.get(bad, good))?.status === MessageStatus.fail);
    await p.stopDispatcher();

    // The rollup itself: 3 successes and 2 failed attempts (first try and one retry), latencies counted
    // once per success.
    const now = Date.now();
    const minutes = await p.storage.stats.series({ endpointId: good }, now - 3_600_000, now + 60_000);
    const sum = (pick: (m: (typeof minutes)[number]) => number) => minutes.reduce((s, m) => s + pick(m), 0);
    assert.equal(
      sum((m) => m.succeeded),
      3,
    );
    assert.equal(
      sum((m) => m.failed),
      2,
    );
    assert.equal(
      sum((m) => m.latency.reduce((a, b) => a + b, 0)),
      3,
    );

    const until = new Date(now + 60_000).toISOString();
    const series = await p.call({
      method: 'GET',
      url: `/api/v1/app/stats/stats/timeseries?endpoint_id=${good}&until=${until}`,
    });
    assert.equal(series.statusCode, 200);
    const body = series.json();
    assert.equal(body.totals.succeeded, 3);
    assert.equal(body.totals.failed, 2);
    assert.equal(body.totals.successRate, 0.6);
    assert.equal(typeof body.totals.p99LatencyMs, 'number');
    assert.equal(body.series.length, 61);
    assert.equal(body.interval, '1m');

    const perEndpoint = (await p.call({ method: 'GET', url: '/api/v1/app/stats/stats/endpoints' })).json();
    assert.equal(perEndpoint.data.length, 1);
    assert.equal(perEndpoint.data[0].endpointId, good);
    assert.equal(perEndpoint.data[0].succeeded, 3);
    assert.ok(Date.parse(perEndpoint.data[0].lastAttemptAt) > now - 3_600_000);

    const overview = (await p.call({ method: 'GET', url: '/api/v1/stats/overview' })).json();
    assert.equal(overview.lastDay.succeeded, 3);
    assert.equal(overview.lastDay.failed, 2);
    assert.deepEqual(overview.backlog, { due: 0, scheduledRetries: 0, countLimit: 10_000 });
    assert.deepEqual(
      overview.failingEndpoints.map((alert: { endpointId: string }) => alert.endpointId),
      [good],
    );

    const health = (await p.call({ method: 'GET', url: `/api/v1/app/stats/endpoint/${good}/health` })).json();
    assert.equal(health.circuit, 'closed');
    assert.ok(health.failingSince);

    // Retention: minutes before the cutoff go, others stay; the purger runs it with HOOKYARD_STATS_RETENTION.
    assert.equal(await p.storage.stats.purgeBefore(now - 3_600_000, 100), 0);
    const purger = createRetentionPurger({
      storage: p.storage,
      config: { responseRetention: 30 * 86_400_000, statsRetention: 3_600_000 },
      logger: silentLogger,
      clock: () => now + 2 * 3_600_000,
      batchSize: 1,
      pauseMs: 0,
    });
    t.after(() => purger.close());
    const purged = await purger.runOnce();
    assert.ok((purged.stats ?? 0) >= 1);
    assert.deepEqual(await p.storage.stats.series({}, 0, now + 120_000), []);
  });

  test('stats ranges are validated and the server-wide views are admin only', async (t) => {
    const p = await pipeline(t, backend);
    const inverted = await p.call({
      method: 'GET',
      url: '/api/v1/stats/timeseries?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
    });
    assert.equal(inverted.statusCode, 422);
    const tooMany = await p.call({
      method: 'GET',
      url: '/api/v1/stats/timeseries?since=2026-01-01T00:00:00Z&until=2026-01-03T00:00:00Z&interval=1m',
    });
    assert.equal(tooMany.statusCode, 422);
    assert.match(tooMany.json().detail[0].msg, /longer interval/);
    const anonymous = await p.app.inject({ method: 'GET', url: '/api/v1/stats/overview' });
    assert.equal(anonymous.statusCode, 401);
    const listed = (await p.call({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    assert.ok(listed.paths['/api/v1/stats/overview']);
    assert.ok(listed.paths['/api/v1/app/{app_id}/stats/timeseries']);
  });
  test('endpoint stats: success once per successful attempt, in the range it finished; failed tries are not', async (t) => {
    const tries = new Map<string, number>();
    const rx = await startReceiver({
      respond: (delivery) => {
        const n = (tries.get(delivery.body) ?? 0) + 1;
        tries.set(delivery.body, n);
        if (delivery.body.includes('"bad"')) return 500;
        return delivery.body.includes('"flaky"') && n === 1 ? 500 : 200;
      },
    });
    t.after(() => rx.close());
    const p = await pipeline(t, backend, { settings: { retrySchedule: '50ms' } });
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Stats', uid: 'stats' } });
    const endpoint = (
      await p.call({ method: 'POST', url: '/api/v1/app/stats/endpoint', payload: { url: rx.url } })
    ).json().id as string;
    const send = async (payload: object) =>
      (
        await p.call({ method: 'POST', url: '/api/v1/app/stats/msg', payload: { eventType: 'e', payload } })
      ).json().id as string;
    const stats = async (query = '') => {
      const reply = await p.call({
        method: 'GET',
        url: `/api/v1/app/stats/endpoint/${endpoint}/stats${query}`,
      });
      assert.equal(reply.statusCode, 200);
      return reply.json();
    };
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    const before = Date.now();
    await p.startDispatcher();
    const sent = [
      await send({ n: 1 }),
      await send({ n: 2 }),
      await send({ n: 'flaky' }),
      await send({ n: 'bad' }),
    ];
    for (const id of sent.slice(0, 3))
      await waitFor(
        async () => (await p.storage.deliveries.get(id, endpoint))?.status === MessageStatus.success,
      );
    await waitFor(
      async () => (await p.storage.deliveries.get(sent[3]!, endpoint))?.status === MessageStatus.fail,
    );
    await p.stopDispatcher();
    const after = Date.now();

    const counts = { success: 3, pending: 0, sending: 0, fail: 1, canceled: 0 };
    assert.deepEqual(await stats(), counts);
    // Ranges cut inside a minute on both sides: the attempts themselves are counted there.
    assert.deepEqual(await stats(`?since=${iso(before)}&until=${iso(after)}`), counts);
    assert.deepEqual(await stats(`?until=${iso(before - 1)}`), {
      success: 0,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
    });
    assert.deepEqual(await stats(`?since=${iso(after + 1)}`), {
      success: 0,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
    });

    // Resent (dispatcher stopped): queued again, its earlier success still counted.
    const resend = await p.call({
      method: 'POST',
      url: `/api/v1/app/stats/msg/${sent[0]}/endpoint/${endpoint}/resend`,
    });
    assert.equal(resend.statusCode, 202);
    assert.deepEqual(await stats(), { ...counts, pending: 1 });
  });
});
