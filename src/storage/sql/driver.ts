import type { StorageCapabilities } from '../contract.ts';

/**
 * The seam between the shared SQL stores and a database. Every backend speaks the same SQL with `?`
 * placeholders; a driver rewrites them if its database wants another style, turns its unique-violation
 * and connection errors into `UniqueViolation` / `StorageUnavailable`, and describes the few places the
 * dialects really differ through `dialect` and `capabilities` so the stores never ask which database
 * they are on.
 */
export type SqlValue = string | number | null;
/** A statement parameter: a value, or a whole column of a batch where the dialect has `arrayRows`. */
export type SqlParam = SqlValue | readonly SqlValue[];

/** The element type of one array parameter of `arrayRows`. */
export type ArrayColumnType = 'text' | 'bigint' | 'integer' | 'smallint';

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
  /** Appended to the claim sub-select: `FOR UPDATE SKIP LOCKED` where row locks exist. */
  readonly claimLockClause: string;
  /** One `?` (the table name); returns a row when that table exists. */
  readonly tableExistsSql: string;
  /**
   * Run inside each migration transaction before reading the version, so processes that start together
   * migrate once; empty when the transaction itself is exclusive.
   */
  readonly migrationLockSql: string;
  /** Appended to a SELECT that locks the rows it reads, in its ORDER BY order; empty where the transaction is exclusive. */
  readonly lockRowsClause: string;
  /**
   * Set-based batches: a row source over one array parameter per column, named `alias(name, …)` —
   * `unnest(?::text[], ?::bigint[]) AS v(id, created_at)` — so a whole batch is one statement of
   * constant text. Present where every statement costs a network round trip (PostgreSQL); undefined
   * where statements are in-process calls and cached prepared statements row by row cost less than
   * building one big statement (SQLite). The stores pick their batch strategy from this.
   */
  readonly arrayRows: ((alias: string, columns: readonly ArrayColumn[]) => string) | undefined;
}

/** One column of an `arrayRows` source: its name and its element type. */
export type ArrayColumn = readonly [name: string, type: ArrayColumnType];

export interface TransactionOptions {
  /**
   * false: the commit need not survive a power loss (no fsync wait). Only for writes whose loss
   * costs a redelivery, never an acknowledged message: leases and attempt completions. A later
   * durable commit makes them durable too (the log is written in order). Default true.
   */
  readonly durable?: boolean;
}

export interface SqlDriver extends SqlExecutor {
  readonly capabilities: StorageCapabilities;
  readonly dialect: SqlDialect;
  readonly description: string;
  /** The folder of this backend's numbered `NNNN_name.sql` migrations. */
  readonly migrationsDir: URL;
  /** Statements that can run at once: 1 for an in-process database, the pool size for a server. */
  readonly connections: number;
  /** Commits when `fn` resolves, rolls back when it throws. Use only `tx` inside `fn`. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** True while durable writes are refused because the disk is full (embedded SQLite only). */
  diskFull?(): boolean;
  /** Hears notifications sent on `channel` by any process once resolved; resolves to an unsubscribe. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => void>;
  close(): Promise<void>;
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
 * The parameters for an `arrayRows` source: one array per column, `pick` giving each row's values in
 * the columns' order.
 */
export function arrayParams<T>(
  items: readonly T[],
  width: number,
  pick: (item: T) => readonly SqlValue[],
): SqlValue[][] {
  const out: SqlValue[][] = Array.from({ length: width }, () => []);
  for (const item of items) {
    const values = pick(item);
    for (let column = 0; column < width; column++) (out[column] as SqlValue[]).push(values[column] ?? null);
  }
  return out;
}
