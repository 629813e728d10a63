import type { PoolStats, StorageCapabilities } from '../contract.ts';

/**
 * The seam between the shared SQL stores and a database. Every backend speaks the same SQL with `?`
 * placeholders; a driver rewrites them if its database wants another style, turns its unique-violation
 * and connection errors into `UniqueViolation` / `StorageUnavailable`, and describes the few places the
 * dialects really differ through `dialect` and `capabilities` so the stores never ask which database
 * they are on.
 */
export type SqlValue = string | number | null;
/** A statement parameter: a value, or a whole column of a batch (`BatchRows` in mode `set`). */
export type SqlParam = SqlValue | readonly SqlValue[];

/** The SQL type of one column of a batch row source. */
export type BatchColumnType = 'text' | 'bigint' | 'integer' | 'smallint';

export interface SqlExecutor {
  query<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Queues a cross-process notification that is delivered when the surrounding transaction commits
   * (immediately outside one). A no-op on backends without `listenNotify`.
   */
  notify(channel: string, payload: string): Promise<void>;
}

export interface SqlDialect {
  /** A boolean SQL expression true when the JSON array in `column` holds the string bound to its one `?`. */
  jsonArrayContains(column: string): string;
  /** One `?` (the table name); returns a row when that table exists. */
  readonly tableExistsSql: string;
  /**
   * Run inside each migration transaction before reading the version, so processes that start together
   * migrate once; empty when the transaction itself is exclusive.
   */
  readonly migrationLockSql: string;
  /**
   * Appended to a SELECT that locks the rows it reads, in its ORDER BY order; empty where the transaction
   * is exclusive. With the `skipLocked` capability, `SKIP LOCKED` may follow it (`skipLockedClause`).
   */
  readonly lockRowsClause: string;
  /**
   * A boolean SQL expression true when `column` equals one of the values bound to its one `?`, which
   * takes `anyOfParam(values)`: one statement text whatever the number of values. On PostgreSQL an
   * array, which the planner reads like a list of constants (it prunes partitions by it).
   */
  anyOf(column: string): string;
  anyOfParam(values: readonly string[]): SqlParam;
  /** How a batch of rows reaches one statement (sql/batch.ts). */
  readonly batchRows: BatchRows;
  /**
   * messages, deliveries and attempts are RANGE partitions by message id, with eventIds held unique by
   * message_uids (PostgreSQL's migration 0009; sql/partitions.ts maintains them).
   */
  readonly timePartitions: boolean;
  /**
   * Each message row records the id of the transaction that inserted it (`messages.tx`, PostgreSQL's
   * migration 0015) and a statement can learn the oldest transaction still running, so polling reads
   * in commit-safe order (sql/polling.ts).
   */
  readonly transactionIds: boolean;
}

/**
 * How a batch of rows reaches one statement, so a batch statement's text is written once for every
 * backend (sql/batch.ts runs it). `arrays`: one execution for the whole batch, one array parameter per
 * column (`unnest(?::text[], ?::bigint[]) AS v(id, created_at)`), where every statement costs a network
 * round trip (PostgreSQL). `values`: executions of up to `maxRows` rows written out as parameters
 * (`VALUES (?, ?), (?, ?)`), in a few fixed sizes so each statement text is prepared once and then
 * cached, where statements are in-process calls and a big text costs more than it saves (SQLite).
 */
export interface BatchRows {
  readonly kind: 'arrays' | 'values';
  /** `values` only: most rows in one execution. */
  readonly maxRows: number;
  /** Rows to INSERT, in the columns' order: `SELECT … FROM unnest(…) AS v(…)`, or `VALUES (…), (…)`. */
  insertRows(columns: readonly BatchColumn[], rows: number): string;
  /** A row source to read in FROM or IN, named `alias`, its columns named as `columns`. */
  source(alias: string, columns: readonly BatchColumn[], rows: number): string;
}

/** One column of a batch row source: its name and its type. */
export type BatchColumn = readonly [name: string, type: BatchColumnType];

export interface TransactionOptions {
  /**
   * false: the commit need not survive a power loss (no fsync wait). Only for writes whose loss
   * costs a redelivery, never an acknowledged message: leases and attempt completions. A later
   * durable commit makes them durable too (the log is written in order). Default true.
   */
  readonly durable?: boolean;
  /**
   * true: the transaction reads or rewrites whole tables (a migration), so the planner may scan them.
   * Otherwise PostgreSQL's planner is kept off sequential scans wherever an index serves: every other
   * transaction works on rows by key, and the generic plans PostgreSQL caches for its prepared
   * statements must not turn into scans of a partition that was small when they were made
   * (postgres-driver.ts). SQLite has nothing to do for it. Default false.
   */
  readonly bulk?: boolean;
}

export interface SqlDriver extends SqlExecutor {
  readonly capabilities: StorageCapabilities;
  readonly dialect: SqlDialect;
  readonly description: string;
  /** The folder of this backend's numbered `NNNN_name.sql` migrations. */
  readonly migrationsDir: URL;
  /** Statements that can run at once: 1 for an in-process database, the pool size for a server. */
  readonly connections: number;
  /** The connection pool's state, where there is one. */
  poolStats?(): PoolStats;
  /** Commits when `fn` resolves, rolls back when it throws. Use only `tx` inside `fn`. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** True while durable writes are refused because the disk is full (embedded SQLite only). */
  diskFull?(): boolean;
  /** Hears notifications sent on `channel` by any process once resolved; resolves to an unsubscribe. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => void>;
  close(): Promise<void>;
}

const preparedTexts = new Set<string>();

/**
 * Marks a statement text to be run as a prepared statement where the database plans statements
 * (PostgreSQL: a named statement per connection, whose plan PostgreSQL caches once it sees that a
 * generic plan serves). For the hot statements that cannot name a partition (the claim's pick, the
 * earliest due time, completions): planning them over every partition costs far more than running
 * them, and a cached plan still prunes partitions when it runs. Only for constant texts, so the set
 * stays small. Returns the text.
 */
export function prepared(sql: string): string {
  preparedTexts.add(sql);
  return sql;
}

export function isPrepared(sql: string): boolean {
  return preparedTexts.has(sql);
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

export async function first<T>(
  executor: SqlExecutor,
  sql: string,
  params?: readonly SqlParam[],
): Promise<T | undefined> {
  const rows = await executor.query<T>(sql, params);
  return rows[0];
}

/**
 * Appended to a sub-select that takes rows for an update (claims, bulk moves, purges): locks them,
 * skipping rows another transaction holds, where the backend can (`capabilities.skipLocked`); the
 * plain row lock where it cannot skip; nothing where transactions are exclusive.
 */
export function skipLockedClause(driver: Pick<SqlDriver, 'capabilities' | 'dialect'>): string {
  const lock = driver.dialect.lockRowsClause;
  return driver.capabilities.skipLocked && lock !== '' ? `${lock} SKIP LOCKED` : lock;
}
