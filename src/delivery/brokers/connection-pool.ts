import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { errorCodeOf, toError } from '../../errors/coerce.ts';
import { AddressBlockedError, type AddressGuard } from '../address-guard.ts';
import { BrokerConfigError } from './broker-config.ts';
import type { PublishOutcome } from './publish-outcome.ts';

/**
 * The connection side every broker publisher shares.
 *
 * One connection per distinct config (the pool key), opened on first use and shared by every
 * publish to that config. A connection that fails to open, or drops, is forgotten; the next
 * publish opens a new one, but not before a backoff that doubles per consecutive failure (with
 * jitter, capped), so a broker that is down costs one connection attempt per backoff step, not one
 * per message. A publish that meets a key in backoff fails at once as retryable, with the time
 * left as `retryAfterMs`: nothing waits on a dead broker, and other keys are unaffected.
 *
 * The libraries' own reconnection is switched off: the pool owns it, so every new connection
 * goes through the address guard again.
 */

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };

/** A connection attempt refused while its key is in backoff, or a failed connect. */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

export class BrokerTimeoutError extends Error {
  override name = 'BrokerTimeoutError';
  readonly code = 'ETIMEDOUT';
}

interface Entry<T> {
  connection: T | undefined;
  pending: Promise<T> | undefined;
  failures: number;
  retryAt: number;
  lastError: string;
}

export interface ConnectionPool<T> {
  /**
   * The open connection for `key`, opening it with `open` (bounded by `timeoutMs`) when there is
   * none. Throws BrokerUnavailableError while the key is in backoff or when opening fails.
   */
  acquire(key: string, open: () => Promise<T>, timeoutMs: number): Promise<T>;
  /** Forgets `connection` (it dropped or misbehaved) and closes it; the next acquire reconnects. */
  discard(key: string, connection: T): void;
  /** How many keys hold an open connection (tests and metrics). */
  size(): number;
  close(): Promise<void>;
}

export function createConnectionPool<T>(
  closeConnection: (connection: T) => Promise<void>,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
): ConnectionPool<T> {
  const entries = new Map<string, Entry<T>>();
  let closed = false;

  function entryFor(key: string): Entry<T> {
    let entry = entries.get(key);
    if (!entry) {
      entry = { connection: undefined, pending: undefined, failures: 0, retryAt: 0, lastError: '' };
      entries.set(key, entry);
    }
    return entry;
  }

  function quietly(connection: T): void {
    closeConnection(connection).catch(() => {});
  }

  async function acquire(key: string, open: () => Promise<T>, timeoutMs: number): Promise<T> {
    if (closed) throw new BrokerUnavailableError('the publisher is shut down', 0);
    const entry = entryFor(key);
    if (entry.connection !== undefined) return entry.connection;
    if (entry.pending) return entry.pending;
    const wait = entry.retryAt - Date.now();
    if (wait > 0) {
      throw new BrokerUnavailableError(`${entry.lastError} (next connection attempt in ${wait} ms)`, wait);
    }
    const attempt = withTimeout(open(), timeoutMs, 'connecting', quietly);
    entry.pending = attempt;
    try {
      const connection = await attempt;
      if (closed) {
        quietly(connection);
        throw new BrokerUnavailableError('the publisher is shut down', 0);
      }
      entry.connection = connection;
      entry.failures = 0;
      entry.retryAt = 0;
      return connection;
    } catch (thrown) {
      const error = toError(thrown);
      if (error instanceof BrokerConfigError || error instanceof AddressBlockedError) throw error;
      entry.failures += 1;
      const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (entry.failures - 1));
      const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      entry.retryAt = Date.now() + delay;
      entry.lastError = `cannot connect: ${describe(error)}`;
      throw new BrokerUnavailableError(entry.lastError, delay, { cause: error });
    } finally {
      entry.pending = undefined;
    }
  }

  function discard(key: string, connection: T): void {
    const entry = entries.get(key);
    if (entry && entry.connection === connection) entry.connection = undefined;
    quietly(connection);
  }

  async function close(): Promise<void> {
    closed = true;
    const open = [...entries.values()].flatMap((entry) => (entry.connection ? [entry.connection] : []));
    entries.clear();
    await Promise.allSettled(open.map((connection) => closeConnection(connection)));
  }

  const size = () => [...entries.values()].filter((entry) => entry.connection !== undefined).length;
  return { acquire, discard, size, close };
}

/**
 * Resolves `hostname` and returns the first address the guard lets through, so the connection is
 * opened to an address that was checked (a name that resolves elsewhere later gains nothing).
 */
export async function resolveGuarded(hostname: string, guard: AddressGuard): Promise<string> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) {
    const verdict = guard.check(bare);
    if (verdict.blocked) throw new AddressBlockedError(verdict.reason);
    return bare;
  }
  const addresses = await lookup(bare, { all: true });
  let refusal: string | undefined;
  for (const { address } of addresses) {
    const verdict = guard.check(address);
    if (!verdict.blocked) return address;
    refusal ??= verdict.reason;
  }
  throw new AddressBlockedError(`${bare}: ${refusal ?? 'no address'}`);
}

/** `url` with its host replaced by `address` (bracketed when IPv6). */
export function withAddress(url: URL, address: string): URL {
  const pinned = new URL(url.href);
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return pinned;
}

/**
 * `promise`, or a BrokerTimeoutError after `ms`. A value that arrives late is handed to `onLate`
 * (to close a connection nobody will use).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onLate?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new BrokerTimeoutError(`timed out after ${ms} ms ${what}`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (settled) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!settled) reject(error);
      },
    );
  });
}

function describe(error: Error): string {
  const code = errorCodeOf(error);
  const message = error.message || error.name;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * The outcome for an error thrown while publishing. Config mistakes and blocked addresses are
 * permanent; `permanent` lets a publisher name broker replies that can never succeed (a payload
 * over the broker's size limit); everything else (refused, reset, timed out, broker says no for
 * now) is retryable.
 */
export function failureOutcome(
  thrown: unknown,
  started: number,
  permanent: (error: Error) => boolean = () => false,
): PublishOutcome {
  const error = toError(thrown);
  const durationMs = Math.round(performance.now() - started);
  if (error instanceof BrokerConfigError || error instanceof AddressBlockedError || permanent(error)) {
    return { kind: 'permanent', error: describe(error), durationMs };
  }
  if (error instanceof BrokerUnavailableError) {
    return { kind: 'retryable', error: error.message, retryAfterMs: error.retryAfterMs, durationMs };
  }
  return { kind: 'retryable', error: describe(error), durationMs };
}

export function successOutcome(response: string, started: number): PublishOutcome {
  return { kind: 'success', response, durationMs: Math.round(performance.now() - started) };
}

/**
 * `attempt`'s outcome, or, when `signal` aborts first (shutdown), a retryable outcome saying so: the
 * caller stops waiting at once, and closing the publisher then ends the connection the attempt uses.
 */
export function abortable(
  attempt: Promise<PublishOutcome>,
  signal: AbortSignal | undefined,
  started: number,
): Promise<PublishOutcome> {
  if (!signal) return attempt;
  const aborted = (): PublishOutcome => ({
    kind: 'retryable',
    error: 'aborted: the process is shutting down',
    durationMs: Math.round(performance.now() - started),
  });
  if (signal.aborted) return Promise.resolve(aborted());
  return new Promise((resolve) => {
    const onAbort = () => resolve(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    attempt.then((outcome) => {
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    });
  });
}
