import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { configWith } from '../../src/config/load.ts';
import type { Config, SettingName } from '../../src/config/settings.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { Storage } from '../../src/storage/contract.ts';
import { createStorage } from '../../src/storage/create-storage.ts';

/**
 * Real databases for tests, one fresh database per `create()`: SQLite in a new temp directory,
 * PostgreSQL in a new schema of HOOKYARD_TEST_DATABASE_URL (dropped again by `cleanup`). Postgres
 * joins only when that variable is set; otherwise each file using `forEachBackend` shows one skipped
 * test saying how to enable it.
 *
 *     forEachBackend((backend) => {
 *       test('stores an application', async (t) => {
 *         const storage = await backend.create();
 *         t.after(() => storage.cleanup());
 *         …
 *       });
 *     });
 *
 * `storage.config` is a config pointing at the same database (dataDir or databaseUrl), for code that
 * wants a Config; `storage.openAnother()` opens a second Storage on it (PostgreSQL only makes sense for
 * multi-process behaviour; on SQLite it opens without the data-dir lock, as `hookyard migrate` would).
 */
export interface TestStorage extends Storage {
  readonly config: Config;
  /**
   * Another Storage on the same database; closed by `cleanup` too. PostgreSQL: `databaseUrl` reaches
   * the same server another way (through a proxy, say).
   */
  openAnother(options?: { databaseUrl?: string }): Promise<Storage>;
  /** Closes every Storage opened here and deletes the database. */
  cleanup(): Promise<void>;
}

export interface TestBackend {
  readonly name: 'sqlite' | 'postgres';
  /** `overrides` are settings (e.g. `{ ingestBatchWindow: '5ms' }`); the database ones are set for you. */
  create(overrides?: Partial<Record<SettingName, string>>): Promise<TestStorage>;
}

export const POSTGRES_SKIP_MESSAGE =
  'PostgreSQL tests skipped: set HOOKYARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them';

const silent = createLogger('silent', false);
let schemaCounter = 0;

export function backends(): TestBackend[] {
  const list: TestBackend[] = [sqliteBackend];
  const url = process.env['HOOKYARD_TEST_DATABASE_URL'];
  if (url) list.push(postgresBackend(url));
  return list;
}

/** Declares the body once per backend inside a `describe(name)`, plus the Postgres skip line when absent. */
export function forEachBackend(body: (backend: TestBackend) => void): void {
  for (const backend of backends()) describe(backend.name, () => body(backend));
  if (!process.env['HOOKYARD_TEST_DATABASE_URL']) test('postgres', { skip: POSTGRES_SKIP_MESSAGE }, () => {});
}

const sqliteBackend: TestBackend = {
  name: 'sqlite',
  async create(overrides = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'hookyard-test-'));
    // No disk reserve unless a test asks: it would write megabytes per test database.
    const config = configWith({ diskReserve: '0', ...overrides, dataDir: dir, databaseUrl: '' });
    return wrap(
      config,
      await createStorage({ config, logger: silent }),
      () => createStorage({ config, logger: silent, lockDataDir: false }),
      () => rm(dir, { recursive: true, force: true }),
    );
  },
};

function postgresBackend(url: string): TestBackend {
  return {
    name: 'postgres',
    async create(overrides = {}) {
      // pid + counter + random: unique across the parallel test processes sharing the database.
      const schema = `hy_test_${process.pid}_${++schemaCounter}_${Math.random().toString(36).slice(2, 8)}`;
      const config = configWith({ ...overrides, databaseUrl: url });
      const open = (options: { databaseUrl?: string } = {}) =>
        createStorage({
          config: options.databaseUrl
            ? configWith({ ...overrides, databaseUrl: options.databaseUrl })
            : config,
          logger: silent,
          schema,
          poolSize: 4,
        });
      return wrap(config, await open(), open, async () => {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await client.end();
        }
      });
    },
  };
}

function wrap(
  config: Config,
  storage: Storage,
  open: (options?: { databaseUrl?: string }) => Promise<Storage>,
  destroy: () => Promise<void>,
): TestStorage {
  const others: Storage[] = [];
  let cleaned: Promise<void> | undefined;
  return Object.assign(Object.create(storage) as Storage, {
    config,
    async openAnother(options?: { databaseUrl?: string }) {
      const other = await open(options);
      others.push(other);
      return other;
    },
    cleanup() {
      cleaned ??= (async () => {
        await Promise.all([storage.close(), ...others.map((other) => other.close())]);
        await destroy();
      })();
      return cleaned;
    },
  });
}
