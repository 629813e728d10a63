/**
 * The data-scale bench writes its history straight into Hookyard's tables; this checks that what it
 * writes is what Hookyard's own storage reads back (on the schema Hookyard's migrations make), so a
 * schema change that the filler does not follow fails here rather than in a long bench run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fillPostgres, fillSqlite, planHistory, rareEventType } from '../../bench/history-fill.ts';
import { configWith } from '../../src/config/load.ts';
import { idTime } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { Storage } from '../../src/storage/contract.ts';
import { createStorage } from '../../src/storage/create-storage.ts';
import { createTestDatabase, skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';
import { appWithEndpoints } from '../storage/fixtures.ts';

const silent = createLogger('silent', false);
const size = 250;

async function checkHistory(
  storage: Storage,
  appId: string,
  endpointId: string,
  { sampled, start, stepMs }: ReturnType<typeof planHistory>,
) {
  const all = await storage.messages.list(appId, {}, { limit: size + 10 });
  assert.equal(all.data.length, size);
  assert.ok(all.done);
  // Newest first, as Hookyard lists them: the ids' time order is the insertion order.
  assert.equal(all.data[0]?.uid, `evt-${size - 1}`);
  assert.equal(all.data.at(-1)?.uid, 'evt-0');
  // Each id carries its own time, 30 days back, though this process made ids of now before (the
  // application and endpoint): a second history in one bench run is spread as the first.
  assert.equal(idTime(all.data.at(-1)!.id), Math.floor(start));
  assert.equal(idTime(all.data[0]!.id), Math.floor(start + (size - 1) * stepMs));
  // The stats read the rollup written with the history: every success, and none 29 days back.
  const monthAgo = Date.now() - 29 * 86_400_000;
  const early = (await storage.endpoints.stats(endpointId, { before: monthAgo })).success;
  assert.ok(early > 0 && early < size / 10, `${early} successes in the history's first day`);
  const rare = await storage.messages.list(appId, { eventTypes: [rareEventType] }, { limit: size });
  assert.equal(rare.data.length, Math.ceil(size / 100));

  assert.ok(sampled.size > 0);
  for (const [index, id] of sampled) {
    const byId = await storage.messages.get(appId, id);
    assert.equal(byId?.uid, `evt-${index}`);
    const byEventId = await storage.messages.get(appId, `evt-${index}`);
    assert.equal(byEventId?.id, id);
    assert.equal(JSON.parse(byId?.payload ?? 'null').benchId, 'history');
    const attempts = await storage.attempts.listByMessage(appId, id, {}, { limit: 10 });
    assert.equal(attempts.data.length, 1);
    assert.equal(attempts.data[0]?.responseStatusCode, 200);
  }
  const stats = await storage.endpoints.stats(endpointId, {});
  assert.deepEqual(stats, { success: size, pending: 0, sending: 0, fail: 0, canceled: 0 });
}

describe('history fill (bench --data-scale)', () => {
  test('sqlite: Hookyard reads back every message, delivery and attempt', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hookyard-fill-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const storage = await createStorage({
      config: configWith({ dataDir: dir, databaseUrl: '' }),
      logger: silent,
    });
    t.after(() => storage.close());
    const { app, endpoints } = await appWithEndpoints(storage);
    const endpoint = endpoints[0]!;
    const plan = planHistory(size, 5);
    fillSqlite(join(dir, 'hookyard.db'), { appId: app.id, endpointId: endpoint.id, url: endpoint.url }, plan);
    await checkHistory(storage, app.id, endpoint.id, plan);
  });

  test('postgres: Hookyard reads back every message, delivery and attempt', {
    skip: skipWithoutPostgres,
  }, async (t) => {
    const database = await createTestDatabase(testDatabaseUrl!, 'fill');
    t.after(() => database.drop());
    const storage = await createStorage({
      config: configWith({ databaseUrl: database.url }),
      logger: silent,
    });
    t.after(() => storage.close());
    const { app, endpoints } = await appWithEndpoints(storage);
    const endpoint = endpoints[0]!;
    const plan = planHistory(size, 5);
    await fillPostgres(database.url, { appId: app.id, endpointId: endpoint.id, url: endpoint.url }, plan);
    await checkHistory(storage, app.id, endpoint.id, plan);
  });
});
