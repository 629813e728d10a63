import { createHash } from 'node:crypto';
import type { Client, CustomTypesConfig, Pool, PoolClient, PoolConfig, QueryConfig } from 'pg';
import { errorCodeOf } from '../../errors/coerce.ts';
import type { Logger } from '../../log/logger.ts';
import { StorageUnavailable, UniqueViolation } from '../contract.ts';
import {
  type BatchColumn,
  isPrepared,
  type SqlDialect,
  type SqlDriver,
  type SqlExecutor,
  type SqlParam,
  type TransactionOptions,
} from '../sql/driver.ts';

export interface PostgresDriverOptions {
  url: string;
  /** Every connection's search_path; created if missing. */
  schema?: string | undefined;
  poolSize: number;
  logger?: Logger | undefined;
}

const INT8_OID = 20;
const UNIQUE_VIOLATION = '23505';
const LISTEN_RETRY_MAX_MS = 30_000;
/**
 * How long the server lets one of our sessions sit inside a transaction without sending its next
 * statement before it ends the session. Our transactions send statement after statement with
 * nothing else awaited in between, so a gap this long means the process has stopped (frozen,
 * SIGSTOPped, partitioned away), and it would otherwise hold its row locks for as long as it stays
 * so: every completion locks its endpoint's `endpoint_state` and `endpoint_stats` rows, so one frozen
 * worker would stall the whole fleet's completions, and with them its delivery slots. The same bound
 * after which `/livez` calls a process stuck (lifecycle/event-loop-monitor.ts).
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/**
 * Every transaction sets its own bound, in the same round trip as BEGIN (one simple-protocol query):
 * PgBouncer refuses it as a startup parameter, and a session-level SET would need a hook on every
 * new connection that pg would have to queue ahead of its first query.
 */
const BEGIN_BULK = `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_TIMEOUT_MS}`;
/**
 * And no sequential scans where an index serves, for every transaction but a bulk one
 * (`TransactionOptions.bulk`). These transactions find their rows by key, and their hot statements
 * are prepared: PostgreSQL caches one generic plan per statement and connection, made from the
 * statistics of the moment and kept until the next ANALYZE of a table in it. Autovacuum analyzes
 * today's partition first while it holds a few dozen rows; the plans made then scanned the partition
 * whole, and went on doing so for every lease and completion as it filled, until the next autoanalyze
 * (a minute or more later, on every fresh database and each day's new partition). Measured with
 * pg_stat_statements at 1,000 deliveries/s: the lease's UPDATE took 9.5 ms a call, 3.2 ms without
 * the scans; see docs/performance.md, profiling item 15.
 */
const BEGIN = `${BEGIN_BULK}; SET LOCAL enable_seqscan = off`;
/**
 * Asynchronous commit besides: no wait for the WAL flush. Loses at most the last moments of such
 * transactions on a server crash, never a durable one, and never corrupts.
 */
const BEGIN_NOT_DURABLE = `${BEGIN}; SET LOCAL synchronous_commit = off`;
function beginFor(options: TransactionOptions | undefined): string {
  if (options?.bulk) return BEGIN_BULK;
  return options?.durable === false ? BEGIN_NOT_DURABLE : BEGIN;
}
/** Errors that mean "the database is not reachable right now", as opposed to a bad statement. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '25P03', // idle_in_transaction_session_timeout: the server ended a session of a stalled process
]);

const dialect: SqlDialect = {
  jsonArrayContains: (column) =>
    `EXISTS (SELECT 1 FROM jsonb_array_elements_text((${column})::jsonb) AS c WHERE c = ?)`,
  anyOf: (column) => `${column} = ANY(?::text[])`,
  anyOfParam: (values) => values,
  tableExistsSql:
    'SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
  // An arbitrary constant that names "Hookyard migrating" among the database's advisory locks.
  migrationLockSql: 'SELECT pg_advisory_xact_lock(7206201)',
  // Migration 0009.
  timePartitions: true,
  // Migration 0015.
  transactionIds: true,
  lockRowsClause: 'FOR UPDATE',
  // pg sends a JS array as an array literal; unnest zips the arrays back into rows, in order.
  batchRows: {
    kind: 'arrays',
    maxRows: Number.POSITIVE_INFINITY,
    insertRows: (columns) => `SELECT ${names(columns)} FROM ${unnest('v', columns)}`,
    source: (alias, columns) => unnest(alias, columns),
  },
};

function names(columns: readonly BatchColumn[]): string {
  return columns.map(([name]) => name).join(', ');
}

function unnest(alias: string, columns: readonly BatchColumn[]): string {
  return `unnest(${columns.map(([, type]) => `?::${type}[]`).join(', ')}) AS ${alias}(${names(columns)})`;
}

/**
 * PostgreSQL through `pg`, imported here and only here so SQLite users never load it. A pool serves
 * queries and transactions; one extra long-lived connection LISTENs for other processes' notifications
 * and reconnects by itself when the database restarts.
 */
export async function openPostgresDriver(options: PostgresDriverOptions): Promise<SqlDriver> {
  const pg = (await import('pg')).default;
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema))
    throw new Error(`invalid Postgres schema name ${JSON.stringify(options.schema)}`);
  const logger = options.logger;

  // Times are BIGINT milliseconds: well inside Number's exact range, so read them as numbers.
  const types: CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (value: string) => Number(value)
        : pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
  };
  const connection: PoolConfig = {
    connectionString: options.url,
    types,
    application_name: 'hookyard',
    connectionTimeoutMillis: 10_000,
    // Only named statements have cached plans, and Hookyard names only the ones `prepared` marks
    // (sql/driver.ts): those are written to be planned once, pruning partitions as they run. Left to
    // choose, PostgreSQL would re-plan them over every partition each time, because a custom plan of a
    // batch of one looks cheaper than the generic plan.
    options: [
      '-c plan_cache_mode=force_generic_plan',
      ...(options.schema ? [`-c search_path=${options.schema}`] : []),
    ].join(' '),
  };
  const pool: Pool = new pg.Pool({ ...connection, max: options.poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle Postgres connection failed'));

  const sqlCache = new Map<string, string>();
  function rewrite(sql: string): string {
    let out = sqlCache.get(sql);
    if (out === undefined) {
      out = toNumberedPlaceholders(sql);
      if (sqlCache.size < 1000) sqlCache.set(sql, out);
    }
    return out;
  }
  // Named statements (sql/driver.ts `prepared`): pg prepares each once per connection.
  const names = new Map<string, string>();
  function statement(sql: string, params: readonly SqlParam[]): QueryConfig<SqlParam[]> {
    const text = rewrite(sql);
    if (!isPrepared(sql)) return { text, values: params as SqlParam[] };
    let name = names.get(sql);
    if (name === undefined) {
      name = `hy_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      names.set(sql, name);
    }
    return { name, text, values: params as SqlParam[] };
  }

  function executor(target: Pool | PoolClient): SqlExecutor {
    return {
      async query<T>(sql: string, params: readonly SqlParam[] = []) {
        const result = await translate(() => target.query(statement(sql, params)));
        return result.rows as T[];
      },
      async run(sql, params = []) {
        const result = await translate(() => target.query(statement(sql, params)));
        return result.rowCount ?? 0;
      },
      async exec(script) {
        await translate(() => target.query(script));
      },
      async notify(channel, payload) {
        await translate(() => target.query('SELECT pg_notify($1, $2)', [scoped(channel), payload]));
      },
    };
  }

  // NOTIFY channels are per database, not per schema: deployments (and test files) sharing a database
  // in different schemas must not hear each other.
  const scope = options.schema ? `__${options.schema}` : '';
  const scoped = (channel: string): string =>
    `${channel}${scope}`.length <= 63
      ? `${channel}${scope}`
      : `${channel}__${createHash('sha256').update(scope).digest('hex').slice(0, 16)}`;

  const direct = executor(pool);
  const listener = createListener(pg.Client, connection, logger);
  try {
    await listener.ready;
    if (options.schema) await direct.exec(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
  } catch (error) {
    await listener.close();
    await pool.end().catch(() => {});
    throw error;
  }

  const redacted = redactUrl(options.url);
  return {
    capabilities: Object.freeze({ multipleWriters: true, skipLocked: true, listenNotify: true }),
    dialect,
    description: `postgres:${redacted}${options.schema ? ` (schema ${options.schema})` : ''}`,
    migrationsDir: new URL('./migrations/', import.meta.url),
    connections: options.poolSize,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    ...direct,
    async transaction(fn, options) {
      const client = await translate(() => pool.connect());
      let broken: Error | undefined;
      // The pool listens for errors only on idle clients. A checked-out connection that dies between
      // statements (the server restarted) emits 'error' with no listener, which would crash the
      // process: note it instead, so the statement in progress fails and the client is discarded.
      const onError = (error: Error) => {
        broken = error;
        logger?.warn({ err: error }, 'Postgres connection failed during a transaction');
      };
      client.on('error', onError);
      try {
        await translate(() => client.query(beginFor(options)));
        const result = await fn(executor(client));
        await translate(() => client.query('COMMIT'));
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          // A connection that cannot even roll back goes back to the pool destroyed, not reused.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    listen: (channel, handler) => listener.listen(scoped(channel), handler),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

interface Listener {
  ready: Promise<void>;
  listen(channel: string, handler: (payload: string) => void): Promise<() => void>;
  close(): Promise<void>;
}

/**
 * The LISTEN connection. After a reconnect every handler is called once with an empty payload: a
 * notification may have been missed while it was down, and dispatchers should look for work.
 */
function createListener(
  ClientClass: typeof Client,
  config: PoolConfig,
  logger: Logger | undefined,
): Listener {
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let client: Client | undefined;
  let closed = false;
  let retryMs = 500;
  let retryTimer: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const next = new ClientClass(config);
    next.on('notification', (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    next.on('error', (error) => {
      logger?.warn({ err: error }, 'Postgres LISTEN connection failed; reconnecting');
      dropped(next);
    });
    next.on('end', () => dropped(next));
    await translate(() => next.connect());
    for (const channel of handlers.keys()) await next.query(`LISTEN ${channel}`);
    client = next;
    retryMs = 500;
  }

  // Events from a client that is no longer current (a failed attempt, or one we ended) are ignored.
  function dropped(failed: Client): void {
    if (client !== failed) return;
    client = undefined;
    failed.end().catch(() => {});
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      try {
        await connect();
        for (const set of handlers.values()) for (const handler of set) handler('');
      } catch (error) {
        logger?.warn({ err: error, retryMs }, 'Postgres LISTEN reconnect failed');
        retryMs = Math.min(retryMs * 2, LISTEN_RETRY_MAX_MS);
        scheduleReconnect();
      }
    }, retryMs);
    retryTimer.unref();
  }

  return {
    ready: connect(),
    async listen(channel, handler) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await client?.query(`LISTEN ${channel}`);
      }
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}

/** `?` → `$1, $2, …`, leaving quoted strings and identifiers alone. */
export function toNumberedPlaceholders(sql: string): string {
  let out = '';
  let index = 0;
  let quote: string | undefined;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = undefined;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === '?') {
      out += `$${++index}`;
    } else {
      out += char;
    }
  }
  return out;
}

async function translate<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const code = errorCodeOf(error);
    if (code === UNIQUE_VIOLATION) throw new UniqueViolation((error as Error).message, { cause: error });
    if (isUnavailable(error, code))
      throw new StorageUnavailable(`PostgreSQL is unavailable: ${(error as Error).message}`, {
        cause: error,
      });
    throw error;
  }
}

function isUnavailable(error: unknown, code: string | undefined): boolean {
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
    message,
  );
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres';
  }
}
