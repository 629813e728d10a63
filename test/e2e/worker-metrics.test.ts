/**
 * Every role serves `/metrics`: a `--role worker` process listens on HOOKYARD_PORT for `/metrics` and
 * health only, so it can be probed and scraped like any pod.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestDatabase, skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { type HookyardProcess, startHookyard, tempDir } from '../helpers/server-process.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

async function start(env: Record<string, string>): Promise<HookyardProcess> {
  const process = await startHookyard(env);
  cleanups.push(() => process.kill());
  return process;
}

async function metricsOf(process: HookyardProcess, token?: string): Promise<Map<string, number>> {
  const res = await fetch(`${process.url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  assert.equal(res.status, 200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

describe('a worker process', () => {
  it('serves /metrics and health on HOOKYARD_PORT, and nothing of the API', async () => {
    const worker = await start({ HOOKYARD_ROLE: 'worker', HOOKYARD_DATA_DIR: tempDir() });
    const health = await fetch(`${worker.url}/api/v1/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { database: { status: string } }).database.status, 'OK');
    assert.equal((await fetch(`${worker.url}/api/v1/health/ping`)).status, 204);
    assert.equal((await worker.api('GET', '/api/v1/app')).status, 404);

    const metrics = await metricsOf(worker);
    assert.ok(metrics.has('process_resident_memory_bytes'));
    assert.equal(metrics.get('hookyard_messages_ingested_total'), 0);
    assert.ok(metrics.has('hookyard_oldest_due_seconds'));
  });

  it('asks for HOOKYARD_METRICS_TOKEN when it is set', async () => {
    const token = 'worker-metrics-token-0123';
    const worker = await start({
      HOOKYARD_ROLE: 'worker',
      HOOKYARD_DATA_DIR: tempDir(),
      HOOKYARD_METRICS_TOKEN: token,
    });
    assert.equal((await fetch(`${worker.url}/metrics`)).status, 401);
    assert.ok((await metricsOf(worker, token)).has('hookyard_oldest_due_seconds'));
  });
});

describe('api and worker on PostgreSQL', { skip: skipWithoutPostgres }, () => {
  it('each reports what it did: the api the ingest, the worker the attempts', async () => {
    const db = await createTestDatabase(testDatabaseUrl!, 'metrics');
    cleanups.push(db.drop);
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const shared = { HOOKYARD_DATABASE_URL: db.url };
    const api = await start({ ...shared, HOOKYARD_ROLE: 'api' });
    const worker = await start({ ...shared, HOOKYARD_ROLE: 'worker' });

    const app = await api.api<{ id: string }>('POST', '/api/v1/app', { name: 'metrics' });
    await api.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/hook` });
    for (const index of [1, 2]) {
      const res = await api.api('POST', `/api/v1/app/${app.body.id}/msg`, {
        eventType: 'invoice.paid',
        payload: { index },
      });
      assert.equal(res.status, 202);
    }
    await receiver.waitFor(() => receiver.deliveries.length >= 2);

    const fromApi = await metricsOf(api);
    assert.equal(fromApi.get('hookyard_messages_ingested_total'), 2);
    let fromWorker = await metricsOf(worker);
    // The outcome commits just after the receiver answered: scrape until it is counted.
    while (fromWorker.get('hookyard_attempts_total{outcome="success",status_class="2xx"}') !== 2) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      fromWorker = await metricsOf(worker);
    }
    assert.equal(fromWorker.get('hookyard_messages_ingested_total'), 0);
    assert.equal(fromWorker.get('hookyard_delivery_latency_seconds_count'), 2);
    assert.ok((fromWorker.get('hookyard_db_pool_connections') ?? 0) >= 1);
  });
});
