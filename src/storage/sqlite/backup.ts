import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { loadMigrations, SCHEMA_VERSION_KEY } from '../migrate.ts';
import { lockDataDir } from './data-dir-lock.ts';

/**
 * Online backup and restore of the embedded database, through SQLite's backup API (`node:sqlite`'s
 * `backup()`), never a file copy: a copy of `hookyard.db` taken while a server writes can miss what
 * sits in the WAL or tear a page. The whole database is copied in one step inside one read
 * transaction, so the copy is the database as of one commit; in WAL mode the server keeps writing
 * meanwhile (a multi-step copy would restart after every write of the server and might never finish
 * under load). Both write a temporary file next to the target and rename it, so a target is either the
 * old file or a complete new one. A backup is a single file in rollback-journal mode.
 */
const ALL_PAGES = 2 ** 31 - 1;
const MIGRATIONS = new URL('./migrations/', import.meta.url);

export interface BackupSummary {
  readonly schemaVersion: number;
  readonly messages: number;
  readonly bytes: number;
}

export class BackupRefused extends Error {
  override name = 'BackupRefused';
}

/** Copies the live database at `databasePath` to `file`, then checks the copy. */
export async function backupSqlite(databasePath: string, file: string): Promise<BackupSummary> {
  if (!existsSync(databasePath))
    throw new BackupRefused(`there is no Hookyard database at ${databasePath}; check HOOKYARD_DATA_DIR`);
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  const partial = join(dirname(target), `.${basename(target)}.partial`);
  rmSync(partial, { force: true });
  const source = new DatabaseSync(databasePath);
  try {
    source.exec('PRAGMA busy_timeout = 5000');
    await backup(source, partial, { rate: ALL_PAGES });
  } finally {
    source.close();
  }
  try {
    // One self-contained file: the copy keeps the source's WAL mode, which would make every reader
    // create -wal and -shm files beside it. The server switches back to WAL when it opens a restore.
    const copy = new DatabaseSync(partial);
    try {
      copy.exec('PRAGMA journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const summary = inspect(partial);
    renameSync(partial, target);
    return { ...summary, bytes: statSync(target).size };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

/**
 * Replaces the database of `dataDir` with the backup `file`. Holds the data-directory lock throughout,
 * so it refuses while a Hookyard server uses the directory and no server can start meanwhile. The
 * database it replaces is kept beside it as `hookyard.db.before-restore-<time>` (with its WAL), never
 * deleted. A backup with an older schema is migrated by the next start; a newer one is refused.
 */
export async function restoreSqlite(
  file: string,
  dataDir: string,
  databaseFileName: string,
): Promise<BackupSummary & { keptAs: string | undefined }> {
  const backupPath = resolve(file);
  if (!existsSync(backupPath)) throw new BackupRefused(`backup file ${backupPath} does not exist`);
  const summary = inspect(backupPath);
  const latest = (await loadMigrations(MIGRATIONS)).length;
  if (summary.schemaVersion > latest)
    throw new BackupRefused(
      `the backup has schema version ${summary.schemaVersion}, newer than this Hookyard (up to ${latest}); restore it with a newer Hookyard`,
    );
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  try {
    const target = join(dataDir, databaseFileName);
    const partial = join(dataDir, `.${databaseFileName}.restoring`);
    rmSync(partial, { force: true });
    const source = new DatabaseSync(backupPath, { readOnly: true });
    try {
      await backup(source, partial, { rate: ALL_PAGES });
    } finally {
      source.close();
    }
    let keptAs: string | undefined;
    if (existsSync(target)) {
      keptAs = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      // The WAL holds committed transactions not yet in the main file: it moves with it.
      for (const suffix of ['', '-wal', '-shm'])
        if (existsSync(target + suffix)) renameSync(target + suffix, keptAs + suffix);
    }
    renameSync(partial, target);
    return { ...summary, bytes: statSync(target).size, keptAs };
  } finally {
    release();
  }
}

/** Checks that `path` is a sound Hookyard database and says what it holds. */
function inspect(path: string): Omit<BackupSummary, 'bytes'> {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw new BackupRefused(`${path} is not a SQLite database (${(error as Error).message})`);
  }
  try {
    const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== 'ok')
      throw new BackupRefused(`${path} fails SQLite's integrity check: ${check?.quick_check ?? 'no answer'}`);
    const hasMeta = db
      .prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
      .get();
    const version = hasMeta
      ? (db.prepare('SELECT value FROM meta WHERE key = ?').get(SCHEMA_VERSION_KEY) as
          | { value: string }
          | undefined)
      : undefined;
    if (!version) throw new BackupRefused(`${path} is not a Hookyard database (no schema version)`);
    const messages = db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number };
    return { schemaVersion: Number(version.value), messages: Number(messages.n) };
  } catch (error) {
    if (error instanceof BackupRefused) throw error;
    throw new BackupRefused(`${path} is not a Hookyard database (${(error as Error).message})`);
  } finally {
    db.close();
  }
}
