import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { type Pipeline, pipeline, waitFor } from '../helpers/pipeline.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const V1 = '/api/v1';
/** How long to wait for deliveries and a census to show (never an assertion on speed). */
const PATIENCE = 60_000;

/** Every sample of the exposition text: `name{labels} value` → value, keyed by `name{labels}`. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

async function scrape(p: Pipeline, headers: Record<string, string> = {}) {
  // No admin token: the metrics are not behind the API's auth.
  const res = await p.app.inject({ url: '/metrics', headers });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return samples(res.body);
}

async function receiverAnswering(t: TestContext, status: number): Promise<Receiver> {
  const receiver = await startReceiver({ respond: () => status });
  t.after(() => receiver.close());
  return receiver;
}

async function setUp(t: TestContext, backend: TestBackend, settings: Record<string, string> = {}) {
  const p = await pipeline(t, backend, { settings: { retrySchedule: '50ms', ...settings }, metrics: {} });
  const app = (await p.call({ method: 'POST', url: `${V1}/app`, payload: { name: 'metrics' } })).json<{
    id: string;
  }>();
  const endpoint = async (url: string) => {
    const res = await p.call({ method: 'POST', url: `${V1}/app/${app.id}/endpoint`, payload: { url } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<{ id: string }>();
  };
  const send = async (count: number) => {
    for (let index = 0; index < count; index++) {
      const res = await p.call({
        method: 'POST',
        url: `${V1}/app/${app.id}/msg`,
        payload: { eventType: 'invoice.paid', payload: { index } },
      });
      assert.equal(res.statusCode, 202, res.body);
    }
  };
  return { p, appId: app.id, endpoint, send };
}

forEachBackend((backend) => {
  test('GET /metrics counts real deliveries: ingest, attempts by outcome, latency, batches, census', async (t) => {
    const s = await setUp(t, backend);
    const ok = await receiverAnswering(t, 200);
    const failing = await receiverAnswering(t, 500);
    await s.endpoint(`${ok.url}/hook`);
    await s.endpoint(`${failing.url}/hook`);
    await s.send(3);

    // Nothing delivers yet: the census sees six pending deliveries, overdue.
    const queued = await waitFor(async () => {
      const m = await scrape(s.p);
      return m.get('hookyard_deliveries{state="pending"}') === 6 &&
        (m.get('hookyard_oldest_due_seconds') ?? 0) > 0
        ? m
        : undefined;
    }, PATIENCE);
    assert.equal(queued.get('hookyard_messages_ingested_total'), 3);
    assert.equal(queued.get('hookyard_deliveries_created_total'), 6);
    assert.equal(queued.get('hookyard_commit_batch_size_sum{kind="ingest"}'), 3);

    await s.p.startDispatcher();
    const done = await waitFor(async () => {
      const m = await scrape(s.p);
      const settled = m.get('hookyard_attempts_total{outcome="fail",status_class="5xx"}') === 3;
      const empty = ['pending', 'sending', 'leased', 'parked', 'held'].every(
        (state) => m.get(`hookyard_deliveries{state="${state}"}`) === 0,
      );
      // The oldest-due probe runs on its own period, apart from the counts: wait for it as well.
      const caughtUp = m.get('hookyard_oldest_due_seconds') === 0;
      return settled && empty && caughtUp ? m : undefined;
    }, PATIENCE);
    assert.equal(ok.deliveries.length, 3);
    assert.equal(failing.deliveries.length, 6);
    assert.equal(done.get('hookyard_attempts_total{outcome="success",status_class="2xx"}'), 3);
    assert.equal(done.get('hookyard_attempts_total{outcome="retry",status_class="5xx"}'), 3);
    assert.equal(done.get('hookyard_attempt_duration_seconds_count'), 9);
    assert.equal(done.get('hookyard_delivery_latency_seconds_count'), 3);
    assert.ok((done.get('hookyard_delivery_latency_seconds_sum') ?? 0) > 0);
    assert.equal(done.get('hookyard_commit_batch_size_sum{kind="completion"}'), 9);
    assert.equal(done.get('hookyard_tasks_claimed_total'), 9);
    assert.equal(done.get('hookyard_oldest_due_seconds'), 0);
    assert.equal(done.get('hookyard_endpoints_circuit_open'), 0);
    assert.ok((done.get('process_cpu_user_seconds_total') ?? 0) > 0, 'default process metrics');
    if (backend.name === 'sqlite') {
      assert.ok((done.get('hookyard_fsync_seconds_count') ?? 0) >= 1, 'durable ingest fsynced the WAL');
      assert.equal(done.get('hookyard_db_pool_connections'), undefined, 'no pool on SQLite');
    } else {
      assert.ok((done.get('hookyard_db_pool_connections') ?? 0) >= 1);
      assert.ok(done.has('hookyard_db_pool_idle_connections'));
      assert.equal(done.get('hookyard_db_pool_waiting_requests'), 0);
    }
    // Bounded labels only: no application or endpoint id appears anywhere.
    const text = (await s.p.app.inject({ url: '/metrics' })).body;
    assert.doesNotMatch(text, /app_|ep_|msg_/);
  });

  test('GET /metrics reports circuits opened and endpoints disabled, and the census sees them', async (t) => {
    const s = await setUp(t, backend, { circuitThreshold: '1' });
    const gone = await receiverAnswering(t, 410);
    const dead = await startReceiver();
    const deadUrl = dead.url;
    await dead.close();
    await s.endpoint(`${gone.url}/hook`);
    await s.endpoint(`${deadUrl}/hook`);
    await s.send(1);
    await s.p.startDispatcher();

    const m = await waitFor(async () => {
      const m = await scrape(s.p);
      return m.get('hookyard_endpoints_circuit_open') === 1 &&
        m.get('hookyard_deliveries{state="held"}') === 1 &&
        m.get('hookyard_deliveries{state="sending"}') === 1
        ? m
        : undefined;
    }, PATIENCE);
    assert.equal(m.get('hookyard_endpoints_disabled_total'), 1);
    assert.equal(m.get('hookyard_circuit_changes_total{circuit="open"}'), 1);
    assert.equal(m.get('hookyard_attempts_total{outcome="retry",status_class="4xx"}'), 1);
    assert.equal(m.get('hookyard_attempts_total{outcome="retry",status_class="none"}'), 1);
  });

  test('HOOKYARD_METRICS_TOKEN: /metrics then wants that bearer token, and only that one', async (t) => {
    const token = 'metrics-token-0123456789';
    const p = await pipeline(t, backend, { settings: { metricsToken: token }, metrics: {} });
    const without = await p.app.inject({ url: '/metrics' });
    assert.equal(without.statusCode, 401);
    assert.equal(without.json<{ code: string }>().code, 'authentication_failed');
    assert.equal(without.headers['www-authenticate'], 'Bearer');
    // The admin token is not the metrics token.
    assert.equal((await p.call({ url: '/metrics' })).statusCode, 401);
    assert.equal(
      (await p.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}x` } })).statusCode,
      401,
    );
    const m = await scrape(p, { authorization: `Bearer ${token}` });
    assert.ok(m.has('hookyard_messages_ingested_total'));
  });
});
