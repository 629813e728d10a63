import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/settings.ts';
import type { Logger } from '../log/logger.ts';
import type { Storage } from './contract.ts';
import { type MigrationResult, migrate, schemaStatus } from './migrate.ts';
import { createSealer } from './sealing.ts';
import type { SqlDriver } from './sql/driver.ts';
import { createSqlStorage } from './sql/sql-storage.ts';
import { lockDataDir } from './sqlite/data-dir-lock.ts';
import { openSqliteDriver } from './sqlite/sqlite-driver.ts';

/** The embedded database's file inside the data directory. */
export const SQLITE_FILE_NAME = 'hookyard.db';

export interface OpenDatabaseOptions {
  config: Config;
  logger?: Logger | undefined;
  /** PostgreSQL only: the schema to work in (created if missing); tests use one per file. */
  schema?: string | undefined;
  /** PostgreSQL only: pool size (default `config.databasePoolSize`). */
  poolSize?: number | undefined;
}

export interface CreateStorageOptions extends OpenDatabaseOptions {
  /** Apply pending migrations while opening (default true); false refuses a database that is behind. */
  migrate?: boolean | undefined;
  /**
   * SQLite only: refuse to open when another Hookyard server uses the data directory (default true).
   * Tools that run beside a server (`hookyard migrate`) pass false.
   */
  lockDataDir?: boolean | undefined;
  /**
   * Write credentials in plaintext even when HOOKYARD_ENCRYPTION_KEY is set (its keys still decrypt):
   * `hookyard reencrypt --plaintext`, to stop encrypting.
   */
  writePlaintext?: boolean | undefined;
}

/** The database holds values encrypted with a key the configuration does not list. */
export class UnknownEncryptionKey extends Error {
  override name = 'UnknownEncryptionKey';
}

/**
 * Opens the configured database: embedded SQLite at `<dataDir>/hookyard.db` when `databaseUrl` is
 * empty, PostgreSQL otherwise (its driver is imported only then). Migrates unless told not to, and
 * always refuses a schema newer than this build.
 */
export async function createStorage(options: CreateStorageOptions): Promise<Storage> {
  let release: (() => void) | undefined;
  if (options.config.databaseUrl === '' && options.lockDataDir !== false) {
    release = lockDataDir(ensureDataDir(options.config));
  }
  let driver: SqlDriver | undefined;
  try {
    driver = await openDriver(options);
    if (options.migrate === false) {
      const { current, latest } = await schemaStatus(driver);
      if (current < latest)
        throw new Error(
          `database schema version ${current} is older than this Hookyard needs (${latest}); run \`hookyard migrate\``,
        );
    } else {
      const result = await migrate(driver);
      if (result.applied.length > 0)
        options.logger?.info(
          { from: result.from, to: result.to, database: driver.description },
          'database migrated',
        );
    }
    const storage = await createSqlStorage(driver, {
      sealer: createSealer(options.config.encryptionKey, { plaintext: options.writePlaintext === true }),
      ingestBatchWindowMs: options.config.ingestBatchWindow,
      policies: {
        health: {
          disableAfterMs: options.config.disableAfter,
          circuitThreshold: options.config.circuitThreshold,
          probeIntervalMs: options.config.circuitProbeInterval,
        },
      },
      logger: options.logger,
      onClose: release,
    });
    // Checked once here rather than failing on each read later: a missing key would otherwise make
    // every fan-out to the application holding such a row fail.
    // On failure the catch below closes the driver, which is all the storage holds yet.
    const unknown = await storage.endpoints.unknownSealingKeys();
    if (unknown.length > 0) {
      throw new UnknownEncryptionKey(
        options.config.encryptionKey.length === 0
          ? `HOOKYARD_ENCRYPTION_KEY is empty but the database holds secrets encrypted with key ${unknown.join(', ')}: set that key again (decrypting them all first with \`hookyard reencrypt --plaintext\` lets you remove it)`
          : `HOOKYARD_ENCRYPTION_KEY does not hold key ${unknown.join(', ')}, which secrets in the database are encrypted with: list it after the current key (comma-separated) and run \`hookyard reencrypt\``,
      );
    }
    return storage;
  } catch (error) {
    await driver?.close().catch(() => {});
    release?.();
    throw error;
  }
}

/** `hookyard migrate`: applies pending migrations and closes again. */
export async function migrateDatabase(
  options: OpenDatabaseOptions,
): Promise<MigrationResult & { database: string }> {
  const driver = await openDriver(options);
  try {
    return { ...(await migrate(driver)), database: driver.description };
  } finally {
    await driver.close();
  }
}

async function openDriver(options: OpenDatabaseOptions): Promise<SqlDriver> {
  const { config } = options;
  if (config.databaseUrl === '')
    return openSqliteDriver(join(ensureDataDir(config), SQLITE_FILE_NAME), {
      reserveBytes: config.diskReserve,
    });
  const { openPostgresDriver } = await import('./postgres/postgres-driver.ts');
  return openPostgresDriver({
    url: config.databaseUrl,
    schema: options.schema,
    poolSize: options.poolSize ?? config.databasePoolSize,
    logger: options.logger,
  });
}

function ensureDataDir(config: Config): string {
  const dir = resolve(config.dataDir);
  mkdirSync(dir, { recursive: true });
  return dir;
}
