import type { StorageCapabilities } from '../contract.ts';

/**
 * The seam between the shared SQL stores and a database. Every backend speaks the same SQL with `?`
 * placeholders; a driver rewrites them if its database wants another style, turns its unique-violation
 * and connection errors into `UniqueViolation` / `StorageUnavailable`, and describes the few places the
 * dialects really differ through `dialect` and `capabilities` so the stores never ask which database
 * they are on.
 */
export type SqlValue = string | number | null;

export interface SqlExecutor {
  query<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
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
}

export interface SqlDriver extends SqlExecutor {
  readonly capabilities: StorageCapabilities;
  readonly dialect: SqlDialect;
  readonly description: string;
  /** The folder of this backend's numbered `NNNN_name.sql` migrations. */
  readonly migrationsDir: URL;
  /** Commits when `fn` resolves, rolls back when it throws. Use only `tx` inside `fn`. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
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
  params?: readonly SqlValue[],
): Promise<T | undefined> {
  const rows = await executor.query<T>(sql, params);
  return rows[0];
}
