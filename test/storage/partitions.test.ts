import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { idBoundary, idTime, newId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createRetentionPurger } from '../../src/retention/retention-purger.ts';
import { MessageStatus, type Storage, UniqueViolation } from '../../src/storage/contract.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { openPostgresDriver } from '../../src/storage/postgres/postgres-driver.ts';
import { AHEAD_MS } from '../../src/storage/sql/partitions.ts';
import { backends, forEachBackend } from '../helpers/backends.ts';
import { migrationsUpTo } from '../helpers/migrations.ts';
import { testDatabaseUrl } from '../helpers/postgres-database.ts';
import { application, appWithEndpoints, endpoint, message, outcome } from './fixtures.ts';

/**
 * The message history's life cycle (storage/sql/partitions.ts, PostgreSQL migration 0009): on
 * PostgreSQL messages, deliveries and attempts are partitioned by message time, partitions are made
 * ahead and dropped whole once older than HOOKYARD_MESSAGE_RETENTION, and a schema-8 database is
 * converted with every row kept; on both backends messages past the retention go with their
 * deliveries and attempts, and ingest and delivery do not care where a partition begins.
 */

const DAY = 86_400_000;
const silent = createLogger('silent', false);
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A message created at `ms`, whose id says so. `newId` never goes back in time within a process (its
 * ids only grow), so a test that makes messages in the past writes the id itself: `ms` in the top 48
 * of 160 bits, random bits below, in 27 base62 digits (src/domain/ids.ts).
 */
function messageAt(appId: string, ms: number, overrides: Parameters<typeof message>[1] = {}) {
  let value = (BigInt(ms) << 112n) | BigInt(`0x${randomBytes(14).toString('hex')}`);
  let digits = '';
  for (let i = 0; i < 27; i++) {
    digits = BASE62[Number(value % 62n)] + digits;
    value /= 62n;
  }
  const id = `msg_${digits}`;
  assert.equal(idTime(id), ms);
  return message(appId, { createdAt: ms, id, ...overrides });
}

/** Runs SQL in the schema of a PostgreSQL test storage (its description names the schema). */
async function sqlIn(storage: Storage) {
  const schema = /\(schema (\w+)\)/.exec(storage.description)?.[1];
  assert.ok(schema && testDatabaseUrl, 'a PostgreSQL storage with its own schema');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: testDatabaseUrl, options: `-c search_path=${schema}` });
  await client.connect();
  return {
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    close: () => client.end(),
  };
}

type Sql = Awaited<ReturnType<typeof sqlIn>>;

async function partitionsOf(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((row) => row.name);
}

async function partitionOf(sql: Sql, table: string, id: string): Promise<string | undefined> {
  const [row] = await sql.query<{ name: string }>(
    `SELECT tableoid::regclass::text AS name FROM ${table} WHERE ${table === 'messages' ? 'id' : 'msg_id'} = $1 LIMIT 1`,
    [id],
  );
  return row?.name;
}

/** Ingests `msg` to every endpoint, claims its deliveries at `at` and completes them with a success. */
async function deliver(storage: Storage, msg: ReturnType<typeof message>, endpointIds: string[], at: number) {
  await storage.messages.ingest({ message: msg, endpointIds });
  const tasks = (await storage.deliveries.claim('w', 100, at, 60_000)).filter(
    (task) => task.msgId === msg.id,
  );
  assert.equal(tasks.length, endpointIds.length);
  await storage.deliveries.complete(tasks.map((task) => outcome(task, MessageStatus.success, { at })));
}

forEachBackend((backend) => {
  test('ingest, claim, completion and the lists work across a partition boundary', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const now = Date.now();
    const boundary = (Math.floor(now / DAY) + 1) * DAY; // tomorrow, UTC: where a partition starts
    await storage.retention.maintainPartitions(now, 30 * DAY);
    const { app, endpoints } = await appWithEndpoints(storage, 2);
    const ids = endpoints.map((ep) => ep.id);
    const before = messageAt(app.id, boundary - 1, { uid: 'before' });
    const after = messageAt(app.id, boundary, { uid: 'after' });
    await deliver(storage, before, ids, boundary + 1_000);
    await deliver(storage, after, ids, boundary + 1_000);

    if (backend.name === 'postgres') {
      const sql = await sqlIn(storage);
      t.after(() => sql.close());
      for (const table of ['messages', 'deliveries', 'attempts']) {
        const [a, b] = [await partitionOf(sql, table, before.id), await partitionOf(sql, table, after.id)];
        assert.ok(a && b && a !== b, `${table}: ${a} and ${b} are two partitions`);
        assert.ok(!a.endsWith('_default') && !b.endsWith('_default'), `${table}: not the default partition`);
      }
    }

    for (const msg of [before, after]) {
      assert.equal((await storage.messages.get(app.id, msg.id))?.id, msg.id);
      assert.equal((await storage.messages.get(app.id, msg.uid ?? ''))?.id, msg.id, 'found by eventId');
      for (const ep of endpoints)
        assert.equal((await storage.deliveries.get(msg.id, ep.id))?.status, MessageStatus.success);
      assert.equal((await storage.attempts.listByMessage(app.id, msg.id, {}, { limit: 10 })).data.length, 2);
    }
    const listed = await storage.messages.list(app.id, {}, { limit: 10 });
    assert.deepEqual(
      listed.data.map((m) => m.id),
      [after.id, before.id],
    );
    const byEndpoint = await storage.attempts.listByEndpoint(app.id, ids[0]!, {}, { limit: 10 });
    assert.equal(byEndpoint.data.length, 2);
    const deliveries = await storage.deliveries.listByEndpoint(app.id, ids[0]!, {}, { limit: 10 });
    assert.equal(deliveries.data.length, 2);
    // A repeated eventId still answers the first message, on either side of the boundary.
    const again = await storage.messages.ingest({
      message: messageAt(app.id, boundary + 5, { uid: 'before' }),
      endpointIds: ids,
    });
    assert.equal(again.kind, 'duplicate');
    assert.equal(again.message.id, before.id);
  });

  test('a message whose id is taken is refused, and its eventId stays free', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const { app } = await appWithEndpoints(storage, 1);
    const first = message(app.id, { uid: 'first' });
    await storage.messages.ingest({ message: first, endpointIds: [] });
    await assert.rejects(
      storage.messages.ingest({ message: { ...first, uid: 'second' }, endpointIds: [] }),
      UniqueViolation,
    );
    assert.equal(await storage.messages.get(app.id, 'second'), undefined);
    const second = await storage.messages.ingest({
      message: message(app.id, { uid: 'second' }),
      endpointIds: [],
    });
    assert.equal(second.kind, 'created');
    assert.equal((await storage.messages.get(app.id, 'second'))?.id, second.message.id);
  });

  test('messages older than the message retention go with their deliveries and attempts', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const now = Date.now();
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const ids = endpoints.map((ep) => ep.id);
    const old = messageAt(app.id, now - 40 * DAY, { uid: 'old' });
    const recent = messageAt(app.id, now, { uid: 'recent' });
    await deliver(storage, old, ids, now);
    await deliver(storage, recent, ids, now);

    const purger = createRetentionPurger({
      storage,
      config: { responseRetention: 365 * DAY, messageRetention: 30 * DAY },
      logger: silent,
      clock: () => now,
      pauseMs: 0,
    });
    t.after(() => purger.close());
    // SQLite deletes the row; PostgreSQL too, since the history partition also holds newer rows.
    assert.equal((await purger.runOnce()).messages, 1);
    assert.equal(await storage.messages.get(app.id, old.id), undefined);
    assert.equal(await storage.deliveries.get(old.id, ids[0]!), undefined);
    assert.deepEqual((await storage.attempts.listByMessage(app.id, old.id, {}, { limit: 10 })).data, []);
    assert.equal((await storage.messages.get(app.id, recent.id))?.payload, recent.payload);
    assert.equal((await storage.attempts.listByMessage(app.id, recent.id, {}, { limit: 10 })).data.length, 1);
    // The eventId of a message that is gone may be used again.
    const reused = await storage.messages.ingest({
      message: message(app.id, { uid: 'old' }),
      endpointIds: [],
    });
    assert.equal(reused.kind, 'created');
    assert.equal((await purger.runOnce()).messages, 0);
  });
});

describe('postgres partitions', { skip: testDatabaseUrl ? false : 'set HOOKYARD_TEST_DATABASE_URL' }, () => {
  const postgres = () => {
    const found = backends().find((backend) => backend.name === 'postgres');
    assert.ok(found);
    return found;
  };

  test('claims and completions keep probing the key index as a fresh partition fills', async (t) => {
    // The trap: the hot statements are prepared, and PostgreSQL caches a generic plan for them per
    // connection. Made while today's partition was nearly empty, that plan scanned it whole, and kept
    // doing so as it filled, until an autoanalyze of the partition replanned: every lease read the
    // whole partition (a fresh database, and each day's first minutes).
    const storage = await postgres().create();
    t.after(() => storage.cleanup());
    const sql = await sqlIn(storage);
    t.after(() => sql.close());
    await storage.retention.maintainPartitions(Date.now(), 30 * DAY);
    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const endpointIds = endpoints.map((ep) => ep.id);
    const deliverAll = async (batch: number) => {
      for (;;) {
        const tasks = await storage.deliveries.claim('w', batch, Date.now(), 60_000);
        if (tasks.length === 0) return;
        await storage.deliveries.complete(tasks.map((task) => outcome(task, MessageStatus.success)));
      }
    };
    const ingest = (count: number) =>
      Promise.all(
        Array.from({ length: count }, () =>
          storage.messages.ingest({ message: message(app.id), endpointIds }),
        ),
      );
    /** The deliveries' table statistics once every insert and update so far is counted in them. */
    const deliveryStats = async (delivered: number) => {
      // Each backend flushes its statistics within a second or so of going idle.
      let stats = { inserted: 0, updated: 0, scanned: 0 };
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const [row] = await sql.query<{ inserted: string; updated: string; scanned: string }>(
          `SELECT SUM(n_tup_ins) AS inserted, SUM(n_tup_upd) AS updated, SUM(seq_tup_read) AS scanned
           FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname LIKE 'deliveries\\_%'`,
        );
        stats = {
          inserted: Number(row?.inserted),
          updated: Number(row?.updated),
          scanned: Number(row?.scanned),
        };
        // Each delivery is inserted, leased and completed.
        if (stats.inserted >= delivered && stats.updated >= 2 * delivered) return stats;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.fail(`statistics not flushed within 20 s: ${JSON.stringify(stats)}`);
    };
    // Autovacuum analyzes a fresh partition once it holds a few dozen rows; here while it holds 120.
    await ingest(120);
    await deliverAll(30);
    await sql.query('ANALYZE deliveries');
    // Then batches of 30, enough rounds for PostgreSQL to settle on a generic plan (after five custom
    // ones) while the statistics say the partition is two pages, where 30 probes look dearer than a scan.
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      await ingest(30);
      await deliverAll(30);
    }
    const warm = await deliveryStats(120 + rounds * 30);
    const filled = 2_000;
    for (let start = 0; start < filled; start += 100) await ingest(100);
    await deliverAll(50);
    const after = await deliveryStats(120 + rounds * 30 + filled);
    // 2,000 deliveries claimed and completed 50 at a time: one scan through the partition per statement
    // would read more than 100,000 rows.
    const scanned = after.scanned - warm.scanned;
    assert.ok(scanned < filled, `rows read by sequential scans of the deliveries: ${scanned}`);
  });

  test('transactions keep the planner off sequential scans, except bulk ones (migrations)', async (t) => {
    const driver = await openPostgresDriver({ url: testDatabaseUrl ?? '', poolSize: 1 });
    t.after(() => driver.close());
    const show = async (options?: { durable?: boolean; bulk?: boolean }) =>
      driver.transaction(
        async (tx) => (await tx.query<{ enable_seqscan: string }>('SHOW enable_seqscan'))[0]?.enable_seqscan,
        options,
      );
    assert.equal(await show(), 'off');
    assert.equal(await show({ durable: false }), 'off');
    assert.equal(await show({ bulk: true }), 'on');
    // SET LOCAL: the connection goes back to the pool as it came.
    assert.equal(
      (await driver.query<{ enable_seqscan: string }>('SHOW enable_seqscan'))[0]?.enable_seqscan,
      'on',
    );
  });

  test('partitions are made ahead, and whole partitions older than the retention are dropped', async (t) => {
    const storage = await postgres().create();
    t.after(() => storage.cleanup());
    const sql = await sqlIn(storage);
    t.after(() => sql.close());
    const now = Date.now();
    const keep = 30 * DAY;

    // Migration 0009 made the history, today's and the default partitions of each table.
    for (const table of ['messages', 'deliveries', 'attempts'])
      assert.equal((await partitionsOf(sql, table)).length, 3, table);
    const made = await storage.retention.maintainPartitions(now, keep);
    assert.ok(made.created >= 1);
    assert.equal(made.dropped, 0);
    // A second maintainer finds nothing to do.
    assert.deepEqual(await storage.retention.maintainPartitions(now, keep), { created: 0, dropped: 0 });
    const ahead = await partitionsOf(sql, 'messages');
    for (const table of ['deliveries', 'attempts'])
      assert.deepEqual(
        (await partitionsOf(sql, table)).map((name) => name.slice(table.length)),
        ahead.map((name) => name.slice('messages'.length)),
        `${table} has the partitions of messages`,
      );
    const [cover] = await sql.query<{ bound: string }>(
      `SELECT MAX(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([^'']+)''\\)')) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'messages'::regclass`,
    );
    assert.ok(
      (cover?.bound ?? '') >= idBoundary('message', now + AHEAD_MS),
      `partitions until ${cover?.bound}`,
    );

    const { app, endpoints } = await appWithEndpoints(storage, 1);
    const ids = endpoints.map((ep) => ep.id);
    const history = messageAt(app.id, now - 40 * DAY, { uid: 'history' });
    const current = messageAt(app.id, now, { uid: 'current' });
    // Beyond the partitions made ahead: the default partition takes it.
    const future = messageAt(app.id, now + 20 * DAY, { uid: 'future' });
    await deliver(storage, history, ids, now);
    await deliver(storage, current, ids, now);
    await deliver(storage, future, ids, now + 20 * DAY);
    assert.equal(await partitionOf(sql, 'messages', history.id), 'messages_history');
    assert.equal(await partitionOf(sql, 'attempts', future.id), 'attempts_default');
    const uids = async () =>
      (await sql.query<{ uid: string }>('SELECT uid FROM message_uids ORDER BY uid')).map((row) => row.uid);
    assert.deepEqual(await uids(), ['current', 'future', 'history']);

    // 45 days on: history, today and the days ahead of then are wholly past 30 days and dropped; the
    // new ranges start after the default partition's newest row, so it keeps that row.
    const later = now + 45 * DAY;
    const report = await storage.retention.maintainPartitions(later, keep);
    const remaining = await partitionsOf(sql, 'messages');
    assert.equal(report.dropped, ahead.length - 1, `dropped all of ${ahead.join(' ')} but default`);
    assert.ok(!remaining.includes('messages_history'));
    for (const table of ['deliveries', 'attempts'])
      assert.equal((await partitionsOf(sql, table)).length, remaining.length, table);
    assert.ok(report.created >= 1);
    for (const msg of [history, current]) {
      assert.equal(await storage.messages.get(app.id, msg.id), undefined);
      assert.equal(await storage.deliveries.get(msg.id, ids[0]!), undefined);
      assert.deepEqual((await storage.attempts.listByMessage(app.id, msg.id, {}, { limit: 10 })).data, []);
    }
    assert.deepEqual(await uids(), ['future']);
    assert.equal((await storage.messages.get(app.id, 'future'))?.id, future.id);
    assert.equal(await partitionOf(sql, 'messages', future.id), 'messages_default');

    // The default partition's rows past the retention are deleted row by row.
    assert.equal(await storage.retention.purgeMessagesBefore(now + 25 * DAY, 100), 1);
    assert.equal(await storage.messages.get(app.id, future.id), undefined);
    assert.deepEqual(await uids(), []);
    // Ingest and delivery carry on in the partitions made for "later".
    const next = messageAt(app.id, later, { uid: 'history' });
    await deliver(storage, next, ids, later);
    assert.match((await partitionOf(sql, 'attempts', next.id)) ?? '', /^attempts_p\d{8}$/);
  });

  test('only one process maintains partitions at a time; the others return at once', async (t) => {
    const storage = await postgres().create();
    t.after(() => storage.cleanup());
    const other = await storage.openAnother();
    const now = Date.now();
    const reports = await Promise.all(
      [storage, other].map((s) => s.retention.maintainPartitions(now + 100 * DAY, undefined)),
    );
    const sql = await sqlIn(storage);
    t.after(() => sql.close());
    const names = await partitionsOf(sql, 'messages');
    // Every partition was made once (CREATE TABLE would fail on a second try), whoever made it.
    assert.equal(
      reports.reduce((sum, report) => sum + report.created, 0),
      names.filter((name) => /_p\d{8}$/.test(name)).length - 1,
    );
    assert.deepEqual(
      await Promise.all(
        [storage, other].map((s) => s.retention.maintainPartitions(now + 100 * DAY, undefined)),
      ),
      [
        { created: 0, dropped: 0 },
        { created: 0, dropped: 0 },
      ],
    );
  });

  test('migration 0009 converts a populated schema-8 database, every row kept', async (t) => {
    const url = testDatabaseUrl ?? '';
    const schema = `hy_test_v8_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const dir = await mkdtemp(join(tmpdir(), 'hookyard-v8-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const migrationsDir = await migrationsUpTo('postgres', 8, dir);

    // Rows written as schema 8 had them, in SQL: today's stores write columns of later migrations.
    const v8 = await openPostgresDriver({ url, schema, poolSize: 2 });
    let v9: Storage | undefined;
    t.after(async () => {
      await v8.close().catch(() => {});
      await v9?.close();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });
    assert.equal((await migrate({ ...v8, migrationsDir })).to, 8);

    const now = Date.now();
    const app = application();
    const endpoints = [endpoint(app.id), endpoint(app.id)];
    const ids = endpoints.map((ep) => ep.id);
    await v8.run('INSERT INTO applications (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', [
      app.id,
      app.name,
      now,
      now,
    ]);
    for (const ep of endpoints)
      await v8.run(
        'INSERT INTO endpoints (id, app_id, url, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [ep.id, app.id, ep.url, JSON.stringify(ep.secrets), now, now],
      );
    const msgs = [
      messageAt(app.id, now - 100 * DAY, { uid: 'a' }),
      message(app.id, { createdAt: now - DAY }),
      messageAt(app.id, now, { uid: 'c', payload: '{"c":1}' }),
    ];
    for (const [index, msg] of msgs.entries()) {
      await v8.run(
        `INSERT INTO messages (id, app_id, uid, event_type, payload, payload_expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [msg.id, app.id, msg.uid, msg.eventType, msg.payload, msg.payloadExpiresAt, msg.createdAt],
      );
      const done = index < 2; // the last one is left pending
      for (const ep of endpoints) {
        const deliveryId = newId('delivery');
        await v8.run(
          `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, attempts, next_attempt_at,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [deliveryId, app.id, msg.id, ep.id, done ? 0 : 1, done ? 1 : 0, done ? null : now, now, now],
        );
        if (done)
          await v8.run(
            `INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, status,
               response_status_code, response, response_duration_ms, trigger_type, created_at)
             VALUES (?, ?, ?, ?, ?, ?, 0, 200, 'ok', 5, 0, ?)`,
            [newId('attempt'), app.id, msg.id, ep.id, deliveryId, ep.url, now],
          );
      }
    }
    await v8.close();

    const { configWith } = await import('../../src/config/load.ts');
    const { createStorage } = await import('../../src/storage/create-storage.ts');
    v9 = await createStorage({
      config: configWith({ databaseUrl: url }),
      schema,
      poolSize: 2,
      logger: silent,
    });
    for (const msg of msgs) {
      const got = await v9.messages.get(app.id, msg.id);
      assert.deepEqual(
        got && [got.id, got.uid, got.payload, got.createdAt, got.payloadExpiresAt],
        [msg.id, msg.uid, msg.payload, msg.createdAt, msg.payloadExpiresAt],
        'the message as it was',
      );
      if (msg.uid) assert.equal((await v9.messages.get(app.id, msg.uid))?.id, msg.id);
    }
    for (const msg of msgs.slice(0, 2)) {
      for (const ep of endpoints)
        assert.equal((await v9.deliveries.get(msg.id, ep.id))?.status, MessageStatus.success);
      assert.equal((await v9.attempts.listByMessage(app.id, msg.id, {}, { limit: 10 })).data.length, 2);
    }
    assert.equal((await v9.messages.list(app.id, {}, { limit: 10 })).data.length, 3);
    // The eventIds stay taken, and the pending deliveries are claimed and completed as before.
    const dup = await v9.messages.ingest({ message: message(app.id, { uid: 'a' }), endpointIds: ids });
    assert.equal(dup.kind, 'duplicate');
    assert.equal(dup.message.id, msgs[0]!.id);
    const tasks = await v9.deliveries.claim('w', 10, now + 1_000, 60_000);
    assert.deepEqual(
      tasks.map((task) => task.msgId),
      [msgs[2]!.id, msgs[2]!.id],
    );
    await v9.deliveries.complete(tasks.map((task) => outcome(task, MessageStatus.success)));
    assert.equal((await v9.deliveries.get(msgs[2]!.id, ids[0]!))?.status, MessageStatus.success);
    const sql = await sqlIn(v9);
    t.after(() => sql.close());
    assert.deepEqual(await partitionsOf(sql, 'messages'), [
      'messages_default',
      'messages_history',
      `messages_p${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}`,
    ]);
    // Erasure of the application reaches every partition and the eventIds.
    assert.equal(await v9.applications.delete(app.id), true);
    for (const table of ['messages', 'deliveries', 'attempts', 'message_uids'])
      assert.deepEqual(await sql.query(`SELECT 1 FROM ${table}`), [], table);
  });
});
