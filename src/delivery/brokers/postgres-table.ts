import pg from 'pg';
import type { AddressGuard } from '../address-guard.ts';
import {
  assertConfig,
  checkPostgresTableConfig,
  type PostgresTableConfig,
  parseBrokerUrl,
  quoteTable,
} from './broker-config.ts';
import { type BrokerMessage, signature, signedTimestamp } from './broker-message.ts';
import {
  abortable,
  type BackoffOptions,
  createConnectionPool,
  failureOutcome,
  resolveGuarded,
  successOutcome,
  withTimeout,
} from './connection-pool.ts';
import type { PublishOutcome } from './publish-outcome.ts';

export interface PostgresTablePublisher {
  publish(config: PostgresTableConfig, message: BrokerMessage, timeoutMs: number): Promise<PublishOutcome>;
  /** An ordered destination's batch: one INSERT of all its rows, in order, committed as one. */
  publishEach(
    config: PostgresTableConfig,
    messages: readonly BrokerMessage[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  connections(): number;
  close(): Promise<void>;
}

/** SQLSTATE classes a repeat of the same row can never satisfy: data exceptions (bad JSON for jsonb). */
function isPermanent(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** SQLSTATEs that mean the connection itself is gone (the pool reconnects, with backoff). */
function isConnectionLoss(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return /Connection terminated|connection timeout/i.test(error.message);
  return /^(08|57P0)/.test(code) || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code);
}

/**
 * `INSERT INTO <table> (webhook_id, webhook_timestamp, event_type, webhook_signature, payload)
 * VALUES (...) ON CONFLICT DO NOTHING`: a publish succeeds when the insert has committed. With a
 * primary key (or unique index) on webhook_id, a redelivery is absorbed by the ON CONFLICT and the
 * table holds each message once. The payload column may be `text` (the exact signed body, so the
 * signature verifies) or `jsonb` (queryable; PostgreSQL normalises the text, so it does not). An
 * ordered destination's batch is one multi-row INSERT: all its rows commit, or none.
 */
export function createPostgresTablePublisher(options: {
  readonly guard: AddressGuard;
  readonly backoff?: BackoffOptions;
}): PostgresTablePublisher {
  const pool = createConnectionPool<pg.Pool>(async (database) => {
    await database.end();
  }, options.backoff);

  async function open(url: URL, timeoutMs: number): Promise<pg.Pool> {
    const address = await resolveGuarded(url.hostname, options.guard);
    const servername = url.hostname.replace(/^\[|\]$/g, '');
    const sslmode = url.searchParams.get('sslmode') ?? 'disable';
    const ssl =
      sslmode === 'require'
        ? { rejectUnauthorized: false, servername }
        : sslmode === 'verify-ca' || sslmode === 'verify-full'
          ? { servername }
          : false;
    const database = new pg.Pool({
      host: address,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username) || 'postgres',
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.slice(1)) || undefined,
      ssl,
      max: 2,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      application_name: 'hookyard',
    });
    // An idle client whose server went away reports here; the pool replaces it on the next query.
    database.on('error', () => {});
    try {
      await database.query('SELECT 1');
    } catch (error) {
      await database.end().catch(() => {});
      throw error;
    }
    return database;
  }

  async function attempt(
    config: PostgresTableConfig,
    messages: readonly BrokerMessage[],
    timeoutMs: number,
    started: number,
  ): Promise<PublishOutcome> {
    let database: pg.Pool | undefined;
    try {
      assertConfig(checkPostgresTableConfig(config));
      const table = quoteTable(config.table);
      const url = parseBrokerUrl(config.url, 'url', ['postgres', 'postgresql']);
      database = await pool.acquire(config.url, () => open(url, timeoutMs), timeoutMs);
      // One statement is one transaction: a batch's rows commit together or not at all, in order.
      const rows = messages.map((_, index) => {
        const at = index * 5;
        return `($${at + 1}, to_timestamp($${at + 2}), $${at + 3}, $${at + 4}, $${at + 5})`;
      });
      const result = await withTimeout(
        database.query({
          text: `INSERT INTO ${table} (webhook_id, webhook_timestamp, event_type, webhook_signature, payload)
                 VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`,
          values: messages.flatMap((message) => [
            message.msgId,
            signedTimestamp(message),
            message.eventType,
            signature(message),
            message.body,
          ]),
        }),
        timeoutMs,
        'waiting for PostgreSQL to commit the insert',
      );
      if (messages.length === 1) {
        const inserted = result.rowCount === 0 ? 'already present (ON CONFLICT)' : 'inserted';
        return successOutcome(`${inserted} into ${table}`, started);
      }
      const present = messages.length - (result.rowCount ?? 0);
      return successOutcome(
        `${messages.length} rows committed in one transaction into ${table}` +
          (present > 0 ? ` (${present} already present, ON CONFLICT)` : ''),
        started,
      );
    } catch (error) {
      if (database && error instanceof Error && isConnectionLoss(error)) pool.discard(config.url, database);
      return failureOutcome(error, started, isPermanent);
    }
  }

  function publish(
    config: PostgresTableConfig,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    const started = performance.now();
    return abortable(attempt(config, [message], timeoutMs, started), signal, started);
  }

  function publishEach(
    config: PostgresTableConfig,
    messages: readonly BrokerMessage[],
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    const started = performance.now();
    return abortable(attempt(config, messages, timeoutMs, started), signal, started);
  }

  return { publish, publishEach, connections: pool.size, close: pool.close };
}
