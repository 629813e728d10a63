import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configWith } from '../../src/config/load.ts';
import { type ChangeEvent, SchemaTooNew, StorageUnavailable } from '../../src/storage/contract.ts';
import { createStorage, migrateDatabase } from '../../src/storage/create-storage.ts';
import { loadMigrations, SCHEMA_VERSION_KEY } from '../../src/storage/migrate.ts';
import { DataDirLocked } from '../../src/storage/sqlite/data-dir-lock.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { application, appWithEndpoints, message, sleep } from './fixtures.ts';

const sqliteMigrations = await loadMigrations(
  new URL('../../src/storage/sqlite/migrations/', import.meta.url),
);
const postgresMigrations = await loadMigrations(
  new URL('../../src/storage/postgres/migrations/', import.meta.url),
);
/** The newest schema version (both backends have the same numbered migrations, checked below). */
const LATEST = sqliteMigrations.length;

test('both backends have the same numbered migrations', () => {
  assert.deepEqual(
    postgresMigrations.map((migration) => migration.name),
    sqliteMigrations.map((migration) => migration.name),
  );
});

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await sleep(10);
  }
}

forEachBackend((backend) => {
  test('meta, ping and idempotency keys', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    await storage.ping();
    assert.equal(await storage.meta.get('missing'), undefined);
    await storage.meta.set('k', 'v1');
    await storage.meta.set('k', 'v2');
    assert.equal(await storage.meta.get('k'), 'v2');

    assert.equal(await storage.idempotency.begin('app_1', 'key', 'fp', 1000), undefined);
    assert.deepEqual(await storage.idempotency.begin('app_1', 'key', 'fp', 1001), {
      fingerprint: 'fp',
      statusCode: null,
      body: null,
      createdAt: 1000,
    });
    assert.equal(await storage.idempotency.begin('app_2', 'key', 'fp', 1000), undefined);
    await storage.idempotency.finish('app_1', 'key', 201, '{"id":1}');
    assert.deepEqual(await storage.idempotency.begin('app_1', 'key', 'other', 1002), {
      fingerprint: 'fp',
      statusCode: 201,
      body: '{"id":1}',
      createdAt: 1000,
    });
    // A finished key is not released by abandon; a running one is.
    await storage.idempotency.abandon('app_1', 'key');
    assert.equal((await storage.idempotency.begin('app_1', 'key', 'fp', 1003))?.statusCode, 201);
    await storage.idempotency.abandon('app_2', 'key');
    assert.equal(await storage.idempotency.begin('app_2', 'key', 'fp', 5000), undefined);
    assert.equal(await storage.idempotency.purgeOlderThan(2000), 1);
    assert.equal(await storage.idempotency.begin('app_1', 'key', 'fp', 6000), undefined);
  });

  test('migrations are idempotent and a newer schema is refused', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    assert.equal(await storage.meta.get(SCHEMA_VERSION_KEY), String(LATEST));
    // Opening again migrates again: nothing to do, nothing breaks.
    const again = await storage.openAnother();
    assert.equal(await again.meta.get(SCHEMA_VERSION_KEY), String(LATEST));
    await storage.meta.set(SCHEMA_VERSION_KEY, '99');
    await assert.rejects(storage.openAnother(), (error: unknown) => {
      assert.ok(error instanceof SchemaTooNew);
      assert.equal(
        error.message,
        `database schema version 99 is newer than this Hookyard (supports up to ${LATEST}); upgrade Hookyard`,
      );
      return true;
    });
  });

  test('NOTIFY carries changes and work to another instance', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    if (!storage.capabilities.listenNotify) return t.skip('no cross-process notifications on this backend');
    const other = await storage.openAnother();
    const heard: ChangeEvent[] = [];
    let wakes = 0;
    other.subscribe((event) => heard.push(event));
    other.subscribeWork(() => wakes++);
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    await until(() => heard.length === 2);
    assert.deepEqual(heard, [
      { kind: 'application', appId: app.id, id: app.id },
      { kind: 'endpoint', appId: app.id, id: endpoints[0]!.id },
    ]);
    await storage.messages.ingest({ message: message(app.id), endpointIds: [endpoints[0]!.id] });
    await until(() => wakes >= 1);
    // Our own notifications are not heard twice by the sender.
    const own: ChangeEvent[] = [];
    storage.subscribe((event) => own.push(event));
    await storage.applications.create(application());
    await sleep(100);
    assert.equal(own.length, 1);
  });

  test('two instances claiming at once never claim the same delivery', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    if (!storage.capabilities.multipleWriters) return t.skip('single-writer backend');
    const other = await storage.openAnother();
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const ids = endpoints.map((e) => e.id);
    await Promise.all(
      Array.from({ length: 150 }, () =>
        storage.messages.ingest({ message: message(app.id), endpointIds: ids }),
      ),
    );
    const now = Date.now();
    const claimed: string[] = [];
    async function worker(instance: typeof other, owner: string): Promise<void> {
      for (;;) {
        const tasks = await instance.deliveries.claim(owner, 7, now, 60_000);
        if (tasks.length === 0) return;
        claimed.push(...tasks.map((task) => task.deliveryId));
      }
    }
    await Promise.all([
      worker(storage, 'a1'),
      worker(other, 'b1'),
      worker(storage, 'a2'),
      worker(other, 'b2'),
    ]);
    assert.equal(claimed.length, 300);
    assert.equal(new Set(claimed).size, 300);
  });
});

test('sqlite: a second server on the same data directory is refused; migrate alone works', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = configWith({ dataDir: dir, databaseUrl: '' });
  const first = await createStorage({ config });
  await assert.rejects(createStorage({ config }), DataDirLocked);
  assert.deepEqual(await migrateDatabase({ config }), {
    from: LATEST,
    to: LATEST,
    applied: [],
    database: `sqlite:${join(dir, 'hookyard.db')}`,
  });
  await first.close();
  const reopened = await createStorage({ config });
  await reopened.close();

  // A pid file left by a crashed process (a pid that does not run) is taken over.
  await writeFile(join(dir, 'hookyard.pid'), '2147483646\n');
  const afterCrash = await createStorage({ config });
  await afterCrash.close();
});

test('sqlite: migrate on an empty directory creates the schema; migrate=false refuses an old one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-migrate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = configWith({ dataDir: join(dir, 'nested'), databaseUrl: '' });
  await assert.rejects(createStorage({ config, migrate: false }), /older than this Hookyard needs/);
  const result = await migrateDatabase({ config });
  assert.deepEqual(
    [result.from, result.to, result.applied],
    [0, LATEST, Array.from({ length: LATEST }, (_, i) => i + 1)],
  );
  const storage = await createStorage({ config, migrate: false });
  await storage.close();
});

test('postgres: an unreachable database is StorageUnavailable', async () => {
  // Port 1 refuses connections; no server is needed for this test.
  const config = configWith({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
  await assert.rejects(createStorage({ config }), StorageUnavailable);
});
