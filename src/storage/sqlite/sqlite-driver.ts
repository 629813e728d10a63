import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { StorageFull, StorageUnavailable, UniqueViolation } from '../contract.ts';
import type { SqlDialect, SqlDriver, SqlExecutor, SqlParam } from '../sql/driver.ts';
import { createDiskReserve } from './disk-reserve.ts';
import { createWalSync } from './wal-sync.ts';

const SQLITE_BUSY = 5;
const SQLITE_FULL = 13;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const STATEMENT_CACHE_SIZE = 500;

const dialect: SqlDialect = {
  jsonArrayContains: (column) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = ?)`,
  anyOf: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  anyOfParam: (values) => JSON.stringify(values),
  tableExistsSql: "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
  // One file: no partitions (its 0009 is empty); retention deletes rows.
  timePartitions: false,
  // One writing process: pollers read by id and know their own ingests in flight (its 0015 is empty).
  transactionIds: false,
  // BEGIN IMMEDIATE already excludes every other writer, in this process and any other.
  migrationLockSql: '',
  lockRowsClause: '',
  // Statements are synchronous in-process calls: a cached prepared statement per batch size is
  // cheaper than assembling one statement per batch.
  batchRows: {
    kind: 'values',
    maxRows: 64,
    insertRows: (columns, rows) => values(columns.length, rows),
    source: (alias, columns, rows) =>
      `(SELECT ${columns.map(([name], index) => `column${index + 1} AS ${name}`).join(', ')}
        FROM (${values(columns.length, rows)})) AS ${alias}`,
  },
};

function values(width: number, rows: number): string {
  const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  return `VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
}

/**
 * SQLite through `node:sqlite`. Calls are synchronous, so a statement never interleaves with another;
 * what needs care is an async transaction body, during whose awaits other callers' statements would
 * otherwise run inside it. A queue serialises them: while a transaction is open, everything else waits
 * its turn; when none is, statements run at once without touching the queue.
 */
export function openSqliteDriver(path: string, options: { reserveBytes?: number } = {}): SqlDriver {
  const reserve = createDiskReserve(dirname(path), options.reserveBytes ?? 0);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  // Durable commits are made durable by an fsync of the WAL off the event loop (see wal-sync.ts),
  // which is what synchronous=FULL would do on it.
  db.exec('PRAGMA synchronous = NORMAL');
  const wal = createWalSync(`${path}-wal`);
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');

  const exhausted = () => reserve.exhausted();
  const run = <T>(fn: () => T): T => translate(fn, exhausted);
  /** The WAL fsync: a failure means the commit may not be on disk, so the caller must not say it is. */
  const sync = () =>
    wal.sync().catch((error: unknown) => {
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        exhausted();
        throw new StorageFull('the disk of the data directory is full: the commit could not be synced', {
          cause: error,
        });
      }
      throw new StorageUnavailable('the data directory could not sync the SQLite WAL', { cause: error });
    });
  /** Durable writes are refused while the disk is full, so the space left goes to accepted work. */
  const assertRoom = () => {
    if (reserve.full)
      throw new StorageFull(
        'the disk of the data directory is full: new writes are refused until space is freed',
      );
  };

  const statements = new Map<string, StatementSync>();
  // The hot statements are a few dozen fixed strings, so a hit is a plain lookup (no LRU reordering on
  // the hot path); only generated SQL (IN lists of varying length) ever fills the cache, and then the
  // oldest entry is evicted.
  function prepare(sql: string): StatementSync {
    const cached = statements.get(sql);
    if (cached) return cached;
    const statement = db.prepare(sql);
    if (statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = statements.keys().next().value;
      if (oldest !== undefined) statements.delete(oldest);
    }
    statements.set(sql, statement);
    return statement;
  }

  const direct: SqlExecutor = {
    async query<T>(sql: string, params: readonly SqlParam[] = []) {
      return run(() => prepare(sql).all(...(params as SQLInputValue[]))) as T[];
    },
    async run(sql, params = []) {
      return Number(run(() => prepare(sql).run(...(params as SQLInputValue[]))).changes);
    },
    async exec(script) {
      run(() => db.exec(script));
    },
    async notify() {
      // One process owns the file (see the data-dir lock); there is nobody else to tell.
    },
  };

  let queued = 0;
  let tail: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    queued++;
    const result = tail.then(fn);
    tail = result.then(
      () => queued--,
      () => queued--,
    );
    return result;
  }
  function outside<T>(fn: () => Promise<T>): Promise<T> {
    return queued === 0 ? fn() : exclusive(fn);
  }

  let open = true;
  return {
    capabilities: Object.freeze({ multipleWriters: false, skipLocked: false, listenNotify: false }),
    dialect,
    description: `sqlite:${path}`,
    migrationsDir: new URL('./migrations/', import.meta.url),
    connections: 1,
    query: (sql, params) => outside(() => direct.query(sql, params)),
    // A statement outside a transaction commits by itself, so it is synced like a durable transaction.
    run: async (sql, params) => {
      assertRoom();
      const changes = await outside(() => direct.run(sql, params));
      await sync();
      return changes;
    },
    exec: async (script) => {
      assertRoom();
      await outside(() => direct.exec(script));
      await sync();
    },
    diskFull: () => reserve.full,
    notify: async () => {},
    async transaction(fn, options) {
      const durable = options?.durable ?? true;
      if (durable) assertRoom();
      const result = await exclusive(async () => {
        run(() => db.exec('BEGIN IMMEDIATE'));
        try {
          const value = await fn(direct);
          run(() => db.exec('COMMIT'));
          return value;
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw error;
        }
      });
      // The next transaction may run while this one's fsync is in flight; only the caller waits.
      if (durable) await sync();
      return result;
    },
    listen: async () => () => {},
    async close() {
      if (!open) return;
      open = false;
      await exclusive(async () => {
        await wal.close();
        reserve.close();
        statements.clear();
        db.close();
      });
    },
  };
}

function translate<T>(fn: () => T, onFull: () => void): T {
  try {
    return fn();
  } catch (error) {
    const errcode = (error as { errcode?: unknown }).errcode;
    if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL) {
      onFull();
      throw new StorageFull('the disk of the data directory is full: the write was not made', {
        cause: error,
      });
    }
    if (errcode === SQLITE_CONSTRAINT_UNIQUE || errcode === SQLITE_CONSTRAINT_PRIMARYKEY)
      throw new UniqueViolation((error as Error).message, { cause: error });
    if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_BUSY)
      throw new StorageUnavailable('the SQLite database stayed locked by another process', { cause: error });
    throw error;
  }
}
