/**
 * The dashboard bench writes its data straight into Hookyard's SQLite tables (bench/ui/seed.ts); this
 * checks that Hookyard's own storage reads back what the seeder says it wrote, on the schema the
 * migrations make: every message, ids that carry their time, each endpoint's delivery counts by
 * status, the stats rollup adding up to the attempts written, and the sample the bench opens.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { seedSqlite } from '../../bench/ui/seed.ts';
import { configWith } from '../../src/config/load.ts';
import { idTime } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import { MessageStatus } from '../../src/storage/contract.ts';
import { createStorage, SQLITE_FILE_NAME } from '../../src/storage/create-storage.ts';

const silent = createLogger('silent', false);
const size = 3_000;

test('Hookyard reads back the dashboard bench data as the seeder reports it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-ui-seed-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const made = await createStorage({ config: configWith({ dataDir: dir, databaseUrl: '' }), logger: silent });
  await made.close();
  const now = Date.now();
  const summary = seedSqlite(join(dir, SQLITE_FILE_NAME), size, now);
  const storage = await createStorage({
    config: configWith({ dataDir: dir, databaseUrl: '' }),
    logger: silent,
  });
  t.after(() => storage.close());

  let messages = 0;
  let iterator: string | undefined;
  let previous = Number.POSITIVE_INFINITY;
  for (;;) {
    const page = await storage.explore.listMessages({}, { limit: 250, iterator });
    for (const message of page.data) {
      const at = idTime(message.id) as number;
      assert.ok(at <= previous && at === message.createdAt, 'ids carry their time, newest first');
      previous = at;
    }
    messages += page.data.length;
    if (page.done) break;
    iterator = page.data.at(-1)?.id;
  }
  assert.equal(messages, size);
  assert.ok(previous >= now - 31 * 86_400_000);

  const endpoints = summary.applications.flatMap((app) => app.endpoints);
  assert.equal(summary.applications.length, 8);
  const counted = { success: 0, pending: 0, sending: 0, fail: 0, canceled: 0 };
  for (const endpoint of endpoints) {
    const stats = await storage.endpoints.stats(endpoint.id, {});
    for (const key of Object.keys(counted) as Array<keyof typeof counted>) counted[key] += stats[key];
  }
  assert.deepEqual(counted, {
    success: summary.byStatus[MessageStatus.success],
    pending: summary.byStatus[MessageStatus.pending],
    sending: summary.byStatus[MessageStatus.sending],
    fail: summary.byStatus[MessageStatus.fail],
    canceled: 0,
  });
  assert.equal(
    Object.values(counted).reduce((sum, n) => sum + n, 0),
    summary.deliveries,
  );
  assert.ok(summary.byStatus[MessageStatus.fail]! > 0, 'some deliveries failed for good');

  const totals = await storage.stats.totals(now - 32 * 86_400_000, now + 86_400_000);
  assert.equal(totals.succeeded + totals.failed, summary.attempts);
  assert.equal(totals.succeeded, summary.byStatus[MessageStatus.success]);

  const { sample } = summary;
  const attempt = await storage.attempts.get(sample.appId, sample.msgId, sample.attemptId);
  assert.equal(attempt?.status, MessageStatus.success);
  const tries = await storage.attempts.listByMessage(sample.appId, sample.msgId, {}, { limit: 10 });
  assert.ok(
    tries.data.some((a) => a.status === MessageStatus.fail),
    'the sample was retried before it succeeded',
  );
  const flaky = endpoints.find((endpoint) => endpoint.health === 'flaky');
  assert.ok(flaky);
  assert.ok((await storage.endpoints.health(flaky.id))?.failSince);

  // The seeder's rows carry their application, as Hookyard's own do (schema 16).
  const db = new DatabaseSync(join(dir, SQLITE_FILE_NAME), { readOnly: true });
  t.after(() => db.close());
  const wrong = db
    .prepare(
      `SELECT COUNT(*) AS n FROM endpoint_state s JOIN endpoints e ON e.id = s.endpoint_id
       WHERE s.app_id <> e.app_id`,
    )
    .get() as { n: number };
  assert.equal(wrong.n, 0, 'every endpoint_state row has its endpoint’s app_id');
});
