import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { newId } from '../../src/domain/ids.ts';
import { MessageStatus } from '../../src/storage/contract.ts';
import { SQLITE_FILE_NAME } from '../../src/storage/create-storage.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { openPostgresDriver } from '../../src/storage/postgres/postgres-driver.ts';
import type { SqlDriver, SqlParam } from '../../src/storage/sql/driver.ts';
import { openSqliteDriver } from '../../src/storage/sqlite/sqlite-driver.ts';
import { forEachBackend, type TestStorage } from '../helpers/backends.ts';
import { schemaHolding } from '../helpers/commit-horizon.ts';
import { migrationsUpTo } from '../helpers/migrations.ts';
import { application, endpoint, message, outcome } from './fixtures.ts';

/**
 * Every table that holds an application's data carries `app_id` (docs/fleet.md, "Outgrowing one
 * PostgreSQL"): a deployment that outgrows one database distributes the hot tables by application,
 * which needs the application on every row. Checked three ways: on the schema, so that a new table
 * either carries it or is named below as global; on what the stores write into the tables that
 * migration 0016 gave it; and on that migration's backfill of a populated schema-15 database.
 */
const GLOBAL_TABLES = new Map([
  ['applications', 'is the application: its id is the key'],
  ['event_types', 'one catalogue shared by every application'],
  ['meta', 'the schema version and instance settings'],
  ['idempotency_keys', 'keyed by scope: portal:<app>, or admin, which spans applications'],
  ['background_tasks', 'bulk operations, whose scope is in their data; few rows, off the hot path'],
]);

/** The tables keyed by endpoint alone before migration 0016. */
const ENDPOINT_KEYED = ['endpoint_state', 'fifo_state', 'fifo_queue', 'polling_consumers'];

const testDatabaseUrl = process.env['HOOKYARD_TEST_DATABASE_URL'];

/** A second connection to the test storage's database, for reading its catalogue and rows in SQL. */
async function rawDriver(storage: TestStorage, backend: string, appId: string): Promise<SqlDriver> {
  if (backend === 'sqlite') return openSqliteDriver(join(storage.config.dataDir, SQLITE_FILE_NAME));
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    const schema = await schemaHolding(client, 'applications', appId);
    return await openPostgresDriver({ url: testDatabaseUrl ?? '', schema, poolSize: 1 });
  } finally {
    await client.end();
  }
}

/** Each table of the schema and whether it has an `app_id` column that is NOT NULL. */
async function appIdColumns(driver: SqlDriver, backend: string): Promise<Map<string, boolean | undefined>> {
  const rows =
    backend === 'sqlite'
      ? await driver.query<{ table_name: string; column_name: string; not_null: number }>(
          `SELECT m.name AS table_name, p.name AS column_name, p."notnull" AS not_null
           FROM sqlite_master m, pragma_table_info(m.name) p
           WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
        )
      : await driver.query<{ table_name: string; column_name: string; not_null: boolean }>(
          `SELECT c.table_name, c.column_name, c.is_nullable = 'NO' AS not_null
           FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`,
        );
  const tables = new Map<string, boolean | undefined>();
  for (const row of rows) {
    if (!tables.has(row.table_name)) tables.set(row.table_name, undefined);
    if (row.column_name === 'app_id') tables.set(row.table_name, Boolean(row.not_null));
  }
  return tables;
}

/** Rows of `table`, and how many of them carry their endpoint's application. */
async function rowsWithTheirApp(
  driver: SqlDriver,
  table: string,
): Promise<{ rows: number; matching: number }> {
  const [count] = await driver.query<{ rows: number | string; matching: number | string | null }>(
    `SELECT COUNT(*) AS rows, SUM(CASE WHEN t.app_id = e.app_id THEN 1 ELSE 0 END) AS matching
     FROM ${table} t LEFT JOIN endpoints e ON e.id = t.endpoint_id`,
  );
  return { rows: Number(count?.rows ?? 0), matching: Number(count?.matching ?? 0) };
}

forEachBackend((backend) => {
  test('every table of an application’s data has a NOT NULL app_id, or is named as global', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const app = await storage.applications.create(application());
    const raw = await rawDriver(storage, backend.name, app.id);
    t.after(() => raw.close());
    const tables = await appIdColumns(raw, backend.name);
    for (const name of ENDPOINT_KEYED) assert.ok(tables.has(name), `the schema has ${name}`);
    const missing = [...tables]
      .filter(([name, notNull]) => notNull !== true && !GLOBAL_TABLES.has(name))
      .map(([name, notNull]) => `${name} (${notNull === undefined ? 'no app_id' : 'app_id nullable'})`);
    assert.deepEqual(missing, [], 'add a NOT NULL app_id, or name the table in GLOBAL_TABLES with why');
    for (const name of GLOBAL_TABLES.keys()) assert.ok(tables.has(name), `${name} is still a table`);

    // A row without it is refused: NOT NULL on PostgreSQL, a trigger on SQLite (whose added column
    // needed a default).
    const ep = await storage.endpoints.create(endpoint(app.id));
    const withoutAppId: Record<string, [string, SqlParam[]]> = {
      endpoint_state: ['INSERT INTO endpoint_state (endpoint_id) VALUES (?)', [ep.id]],
      fifo_state: ['INSERT INTO fifo_state (endpoint_id) VALUES (?)', [ep.id]],
      fifo_queue: ['INSERT INTO fifo_queue (endpoint_id, seq, msg_id) VALUES (?, 1, ?)', [ep.id, 'msg_x']],
      polling_consumers: [
        `INSERT INTO polling_consumers (endpoint_id, consumer_id, position, committed_offset, handed, updated_at)
         VALUES (?, 'reader', 'msg_0', 0, '[]', 0)`,
        [ep.id],
      ],
    };
    assert.deepEqual(Object.keys(withoutAppId), ENDPOINT_KEYED);
    for (const [table, [sql, params]] of Object.entries(withoutAppId))
      await assert.rejects(raw.run(sql, params), /app_id/, `${table} refuses a row without app_id`);
  });

  test('ingest, completion and polling write each row with its endpoint’s app_id', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    // Two applications, so a row given the wrong one cannot pass.
    const appIds: string[] = [];
    for (const name of ['first', 'second']) {
      const app = await storage.applications.create(application({ name }));
      appIds.push(app.id);
      const plain = await storage.endpoints.create(endpoint(app.id));
      const fifo = await storage.endpoints.create(
        endpoint(app.id, {
          id: newId('destination'),
          destination: {
            type: 'fifoEndpoint',
            config: { url: 'https://r.example/', batchSize: 2, maxWaitSecs: 0 },
          },
        }),
      );
      // fifo_state and fifo_queue: an ordered ingest; endpoint_state: a completion.
      await storage.messages.ingest({
        message: message(app.id),
        endpointIds: [plain.id],
        ordered: [{ endpointId: fifo.id, batchSize: 2 }],
      });
      const tasks = await storage.deliveries.claim('owner', 10, Date.now(), 60_000);
      assert.equal(tasks.length, 1);
      // An outcome with the attempt's signal is what the endpoint policies record.
      await storage.deliveries.complete(
        tasks.map((task) => ({
          ...outcome(task, MessageStatus.sending, { nextAttemptAt: Date.now() + 60_000, statusCode: 500 }),
          signal: { responded: true, unreachable: false, gone: false, pauseUntil: null },
        })),
      );
      await storage.polling.saveConsumer({
        endpointId: plain.id,
        consumerId: 'reader',
        position: 'msg_0',
        committedOffset: 0,
        handed: [],
        leaseExpiresAt: null,
        updatedAt: Date.now(),
      });
    }
    const raw = await rawDriver(storage, backend.name, appIds[0] ?? '');
    t.after(() => raw.close());
    for (const table of ENDPOINT_KEYED)
      assert.deepEqual(await rowsWithTheirApp(raw, table), { rows: 2, matching: 2 }, table);
  });

  test('migration 0016 gives the rows of a populated schema-15 database their endpoint’s app_id', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hookyard-v15-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const migrationsDir = await migrationsUpTo(backend.name, 15, join(dir, 'migrations'));

    const schema = `hy_test_v15_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const open = (): Promise<SqlDriver> | SqlDriver =>
      backend.name === 'sqlite'
        ? openSqliteDriver(join(dir, SQLITE_FILE_NAME))
        : openPostgresDriver({ url: testDatabaseUrl ?? '', schema, poolSize: 2 });
    if (backend.name === 'postgres')
      t.after(async () => {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: testDatabaseUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      });

    const v15 = await open();
    try {
      assert.equal((await migrate({ ...v15, migrationsDir })).to, 15);
      // Rows as schema 15 wrote them, in SQL: today's stores write the new column.
      const now = Date.now();
      for (const name of ['first', 'second']) {
        const app = application({ name });
        await v15.run('INSERT INTO applications (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', [
          app.id,
          app.name,
          now,
          now,
        ]);
        const ep = endpoint(app.id);
        await v15.run(
          'INSERT INTO endpoints (id, app_id, url, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
          [ep.id, app.id, ep.url, JSON.stringify(ep.secrets), now, now],
        );
        await v15.run('INSERT INTO endpoint_state (endpoint_id, unreachable_count) VALUES (?, 2)', [ep.id]);
        await v15.run('INSERT INTO fifo_state (endpoint_id, last_seq, updated_at) VALUES (?, 1, ?)', [
          ep.id,
          now,
        ]);
        await v15.run('INSERT INTO fifo_queue (endpoint_id, seq, msg_id) VALUES (?, 1, ?)', [
          ep.id,
          newId('message'),
        ]);
        await v15.run(
          `INSERT INTO polling_consumers (endpoint_id, consumer_id, position, committed_offset, handed, updated_at)
           VALUES (?, 'reader', 'msg_0', 0, '[]', ?)`,
          [ep.id, now],
        );
      }
    } finally {
      await v15.close();
    }

    const latest = await open();
    t.after(() => latest.close());
    const result = await migrate(latest);
    assert.equal(result.from, 15);
    assert.ok(result.applied.includes(16));
    for (const table of ENDPOINT_KEYED)
      assert.deepEqual(await rowsWithTheirApp(latest, table), { rows: 2, matching: 2 }, table);
    const [kept] = await latest.query<{ unreachable_count: number | string }>(
      'SELECT MIN(unreachable_count) AS unreachable_count FROM endpoint_state',
    );
    assert.equal(Number(kept?.unreachable_count), 2, 'the rows’ other columns are kept');
  });
});
