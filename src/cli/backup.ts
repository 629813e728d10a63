/**
 * `hookyard backup <file>` and `hookyard restore <file>`: the embedded database of the configured
 * data directory (`HOOKYARD_DATA_DIR` / `--data-dir`). PostgreSQL has its own tools for this; the
 * commands say so rather than pretending.
 */
import { join, resolve } from 'node:path';
import type { Config } from '../config/settings.ts';
import { SQLITE_FILE_NAME } from '../storage/create-storage.ts';
import { BackupRefused, backupSqlite, restoreSqlite } from '../storage/sqlite/backup.ts';

const POSTGRES_HINT =
  "HOOKYARD_DATABASE_URL points at PostgreSQL: back it up with pg_dump (or your provider's snapshots) and restore with pg_restore; see docs/operations.md#backup-and-restore";

function embeddedOnly(config: Config): string {
  if (config.databaseUrl !== '') throw new BackupRefused(POSTGRES_HINT);
  return resolve(config.dataDir);
}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

export async function runBackup(config: Config, file: string): Promise<string> {
  const dataDir = embeddedOnly(config);
  const summary = await backupSqlite(join(dataDir, SQLITE_FILE_NAME), file);
  return `backed up ${join(dataDir, SQLITE_FILE_NAME)} to ${resolve(file)} (schema ${summary.schemaVersion}, ${summary.messages} messages, ${size(summary.bytes)})`;
}

export async function runRestore(config: Config, file: string): Promise<string> {
  const dataDir = embeddedOnly(config);
  const result = await restoreSqlite(file, dataDir, SQLITE_FILE_NAME);
  const kept = result.keptAs ? `; the database it replaced is kept as ${result.keptAs}` : '';
  return `restored ${resolve(file)} into ${dataDir} (schema ${result.schemaVersion}, ${result.messages} messages)${kept}`;
}
