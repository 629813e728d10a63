import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SchemaTooNew } from './contract.ts';
import { first, type SqlDriver, type SqlExecutor } from './sql/driver.ts';

/**
 * Schema migrations: each backend keeps numbered scripts (`0001_initial.sql`, `0002_….sql`) in its
 * `migrations/` folder; the version applied last is `schema_version` in `meta`. Each script runs in its
 * own transaction together with the version bump, so a failed script leaves the previous version intact.
 * Postgres takes an advisory lock inside that transaction and re-reads the version after it, so
 * processes that start together apply each script once. A database ahead of this build is refused:
 * an older Hookyard must not write rows a newer schema may interpret differently.
 */
export const SCHEMA_VERSION_KEY = 'schema_version';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: number[];
}

export async function loadMigrations(dir: URL): Promise<Migration[]> {
  const names = await readdir(fileURLToPath(dir));
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = /^(\d+)_[\w-]+\.sql$/.exec(name);
    if (!match) continue;
    migrations.push({ version: Number(match[1]), name, sql: await readFile(new URL(name, dir), 'utf8') });
  }
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(
        `migrations in ${fileURLToPath(dir)} must be numbered 1, 2, 3…; found ${migration.name}`,
      );
  });
  return migrations;
}

async function readVersion(driver: SqlDriver, executor: SqlExecutor): Promise<number> {
  const table = await first(executor, driver.dialect.tableExistsSql, ['meta']);
  if (!table) return 0;
  const row = await first<{ value: string }>(executor, 'SELECT value FROM meta WHERE key = ?', [
    SCHEMA_VERSION_KEY,
  ]);
  return row ? Number(row.value) : 0;
}

function tooNew(current: number, latest: number): SchemaTooNew {
  return new SchemaTooNew(
    `database schema version ${current} is newer than this Hookyard (supports up to ${latest}); upgrade Hookyard`,
  );
}

/** The applied and the newest known version; throws `SchemaTooNew` when the database is ahead. */
export async function schemaStatus(driver: SqlDriver): Promise<{ current: number; latest: number }> {
  const latest = (await loadMigrations(driver.migrationsDir)).length;
  const current = await readVersion(driver, driver);
  if (current > latest) throw tooNew(current, latest);
  return { current, latest };
}

/** Applies every pending migration in order. Safe to call repeatedly and from several processes at once. */
export async function migrate(driver: SqlDriver): Promise<MigrationResult> {
  const migrations = await loadMigrations(driver.migrationsDir);
  const latest = migrations.length;
  const applied: number[] = [];
  let from: number | undefined;
  for (;;) {
    // A bulk transaction: a migration may copy or check whole tables, so the planner may scan them.
    const step = await driver.transaction(
      async (tx) => {
        if (driver.dialect.migrationLockSql) await tx.query(driver.dialect.migrationLockSql);
        const current = await readVersion(driver, tx);
        from ??= current;
        if (current > latest) throw tooNew(current, latest);
        const next = migrations[current];
        if (!next) return undefined;
        await tx.exec(next.sql);
        await tx.run(
          'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [SCHEMA_VERSION_KEY, String(next.version)],
        );
        return next.version;
      },
      { bulk: true },
    );
    if (step === undefined) break;
    applied.push(step);
  }
  const start = from ?? 0;
  return { from: start, to: applied.at(-1) ?? start, applied };
}
