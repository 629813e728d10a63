import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from '../../src/storage/contract.ts';

/**
 * Where polling reads in commit order (PostgreSQL), a committed message is readable once every
 * transaction older than its own has ended, in the whole cluster: other test processes (and anything
 * else on the test server) may hold one open for a moment. `commitHorizonPassed` waits until every
 * transaction begun before the call has ended, so a test can then expect what it committed to be
 * readable. Nothing to wait for in `id` order (SQLite).
 */
export async function commitHorizonPassed(storage: Storage, timeoutMs = 60_000): Promise<void> {
  if (storage.polling.order !== 'commit') return;
  const url = process.env['HOOKYARD_TEST_DATABASE_URL'];
  if (!url) throw new Error('commit order without HOOKYARD_TEST_DATABASE_URL');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const next = await client.query<{ xmax: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
    );
    const target = next.rows[0]?.xmax ?? '0';
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const passed = await client.query<{ passed: boolean }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS passed',
        [target],
      );
      if (passed.rows[0]?.passed) return;
      if (Date.now() > deadline)
        throw new Error(`a transaction below ${target} is still open after ${timeoutMs} ms`);
      await sleep(10);
    }
  } finally {
    await client.end();
  }
}

export interface SqlClient {
  query<R extends object>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** The test database's schema (helpers/backends.ts makes one per storage) whose `table` holds `id`. */
export async function schemaHolding(client: SqlClient, table: string, id: string): Promise<string> {
  const schemas = await client.query<{ name: string }>(
    `SELECT table_schema AS name FROM information_schema.tables WHERE table_name = $1 AND table_schema LIKE $2`,
    [table, `hy_test_${process.pid}_%`],
  );
  for (const { name } of schemas.rows) {
    const found = await client.query(`SELECT 1 FROM ${name}.${table} WHERE id = $1`, [id]);
    if (found.rows.length > 0) return name;
  }
  throw new Error(`no test schema holds ${table} ${id}`);
}
