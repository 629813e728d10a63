import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { StorageUnavailable, UniqueViolation } from '../contract.ts';
import type { SqlDialect, SqlDriver, SqlExecutor, SqlParam } from '../sql/driver.ts';

const SQLITE_BUSY = 5;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const STATEMENT_CACHE_SIZE = 500;

const dialect: SqlDialect = {
  jsonArrayContains: (column) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = ?)`,
  claimLockClause: '',
  tableExistsSql: "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
  // BEGIN IMMEDIATE already excludes every other writer, in this process and any other.
  migrationLockSql: '',
  lockRowsClause: '',
  // Statements are synchronous in-process calls: row by row through cached prepared statements is
  // cheaper than assembling a statement per batch.
  arrayRows: undefined,
};

/**
 * SQLite through `node:sqlite`. Calls are synchronous, so a statement never interleaves with another;
 * what needs care is an async transaction body, during whose awaits other callers' statements would
 * otherwise run inside it. A queue serialises them: while a transaction is open, everything else waits
 * its turn; when none is, statements run at once without touching the queue.
 */
export function openSqliteDriver(path: string): SqlDriver {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');

  const statements = new Map<string, StatementSync>();
  function prepare(sql: string): StatementSync {
    let statement = statements.get(sql);
    if (statement) {
      // Re-inserting keeps the Map in least-recently-used order for eviction.
      statements.delete(sql);
    } else {
      statement = db.prepare(sql);
      if (statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = statements.keys().next().value;
        if (oldest !== undefined) statements.delete(oldest);
      }
    }
    statements.set(sql, statement);
    return statement;
  }

  const direct: SqlExecutor = {
    async query<T>(sql: string, params: readonly SqlParam[] = []) {
      return translate(() => prepare(sql).all(...(params as SQLInputValue[]))) as T[];
    },
    async run(sql, params = []) {
      return Number(translate(() => prepare(sql).run(...(params as SQLInputValue[]))).changes);
    },
    async exec(script) {
      translate(() => db.exec(script));
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
    run: (sql, params) => outside(() => direct.run(sql, params)),
    exec: (script) => outside(() => direct.exec(script)),
    notify: async () => {},
    transaction(fn, options) {
      const durable = options?.durable ?? true;
      return exclusive(async () => {
        // WAL with synchronous=NORMAL commits without an fsync; the next FULL commit syncs the log,
        // and these frames with it. The pragma cannot change inside a transaction, hence out here.
        if (!durable) db.exec('PRAGMA synchronous = NORMAL');
        try {
          translate(() => db.exec('BEGIN IMMEDIATE'));
          try {
            const result = await fn(direct);
            translate(() => db.exec('COMMIT'));
            return result;
          } catch (error) {
            if (db.isTransaction) db.exec('ROLLBACK');
            throw error;
          }
        } finally {
          if (!durable) db.exec('PRAGMA synchronous = FULL');
        }
      });
    },
    listen: async () => () => {},
    async close() {
      if (!open) return;
      open = false;
      await exclusive(async () => {
        statements.clear();
        db.close();
      });
    },
  };
}

function translate<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const errcode = (error as { errcode?: unknown }).errcode;
    if (errcode === SQLITE_CONSTRAINT_UNIQUE || errcode === SQLITE_CONSTRAINT_PRIMARYKEY)
      throw new UniqueViolation((error as Error).message, { cause: error });
    if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_BUSY)
      throw new StorageUnavailable('the SQLite database stayed locked by another process', { cause: error });
    throw error;
  }
}
