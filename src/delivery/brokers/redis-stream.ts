import { Redis } from 'ioredis';
import type { AddressGuard } from '../address-guard.ts';
import {
  assertConfig,
  checkRedisStreamConfig,
  parseBrokerUrl,
  type RedisStreamConfig,
} from './broker-config.ts';
import { type BrokerMessage, brokerHeaders } from './broker-message.ts';
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

export interface RedisStreamPublisher {
  /** Resolves when the broker confirmed (success) or the attempt failed; `signal` stops the wait. */
  publish(
    config: RedisStreamConfig,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  connections(): number;
  close(): Promise<void>;
}

/** The entry field that holds the body; the others are the webhook headers. */
export const PAYLOAD_FIELD = 'payload';

/**
 * `XADD stream [MAXLEN ~ n] * webhook-id .. webhook-timestamp .. webhook-signature ..
 * webhook-event-type .. payload <body>`: a publish succeeds when Redis answers with the entry id.
 * How durable that is depends on the server's persistence settings (AOF fsync policy), which the
 * destination's owner controls; the docs say so.
 */
export function createRedisStreamPublisher(options: {
  readonly guard: AddressGuard;
  readonly backoff?: BackoffOptions;
}): RedisStreamPublisher {
  const pool = createConnectionPool<Redis>(async (client) => {
    client.disconnect();
  }, options.backoff);

  async function open(key: string, url: URL, timeoutMs: number): Promise<Redis> {
    const address = await resolveGuarded(url.hostname, options.guard);
    const database = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    const servername = url.hostname.replace(/^\[|\]$/g, '');
    const client = new Redis({
      host: address,
      port: Number(url.port || 6379),
      db: database,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: { servername } } : {}),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      // The pool reconnects (through the address guard); a command never waits for a connection.
      retryStrategy: () => null,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    // ioredis reports a failed connect as "Connection is closed"; the reason came as an 'error' event.
    let reason: Error | undefined;
    client.on('error', (error: Error) => {
      reason = error;
    });
    client.on('end', () => pool.discard(key, client));
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw reason ?? error;
    }
    return client;
  }

  async function attempt(
    config: RedisStreamConfig,
    message: BrokerMessage,
    timeoutMs: number,
    started: number,
  ): Promise<PublishOutcome> {
    try {
      assertConfig(checkRedisStreamConfig(config));
      const url = parseBrokerUrl(config.url, 'url', ['redis', 'rediss']);
      const client = await pool.acquire(config.url, () => open(config.url, url, timeoutMs), timeoutMs);
      const fields = Object.entries(brokerHeaders(message)).flat();
      const trim = config.maxLen === undefined ? [] : ['MAXLEN', '~', String(config.maxLen)];
      const id = await withTimeout(
        client.xadd(config.stream, ...trim, '*', ...fields, PAYLOAD_FIELD, message.body),
        timeoutMs,
        'waiting for Redis to answer XADD',
      );
      return successOutcome(`added to stream '${config.stream}' as entry ${id}`, started);
    } catch (error) {
      return failureOutcome(error, started);
    }
  }

  function publish(
    config: RedisStreamConfig,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    const started = performance.now();
    return abortable(attempt(config, message, timeoutMs, started), signal, started);
  }

  return { publish, connections: pool.size, close: pool.close };
}
