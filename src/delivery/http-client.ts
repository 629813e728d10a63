import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher, ProxyAgent } from 'undici';
import type { Config } from '../config/settings.ts';
import { errnoText } from '../domain/outcome-classification.ts';
import { errorCodeOf, toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import {
  AddressBlockedError,
  type AddressGuard,
  createAddressGuard,
  guardedLookup,
} from './address-guard.ts';

export interface SendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /**
   * Bound on the receiver's part: from the request being handed to a connection (connecting if need
   * be) to the end of the (cut) body. Waiting for one of Hookyard's own connections to the origin to
   * free up is not the receiver's time: it is bounded separately, by the same duration.
   */
  readonly timeoutMs: number;
  /** Aborts the attempt early (shutdown); reported as an error with errno `ABORTED`. */
  readonly signal?: AbortSignal | undefined;
}

export type SendResult =
  | {
      kind: 'response';
      status: number;
      /** The body's first `responseBodyLimit` bytes, decoded as UTF-8 without a split character. */
      body: string;
      /** The receiver's time (see `timeoutMs`), without the wait for a connection. */
      durationMs: number;
      /** How long the request waited for a free connection to the origin before it was sent. */
      waitMs: number;
      /** The raw `Retry-After` header, when the receiver sent one. */
      retryAfter: string | undefined;
    }
  | {
      kind: 'error';
      reason: string;
      /** `EPOOLWAIT` when no connection freed up in time: the request was never sent. */
      errno: string;
      durationMs: number;
      waitMs: number;
    };

export interface HttpClient {
  send(request: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

/** Past the recorded part, drain at most this much so the connection can be reused; more closes it. */
const DRAIN_LIMIT = 256 * 1024;

/**
 * The only way Hookyard talks to receivers. One undici Agent shares keep-alive connections per
 * origin; its connector checks every address it connects to against the address guard. Redirects
 * are never followed (undici's Agent does not by default), so a 3xx is an ordinary failed response.
 */
export function createHttpClient(
  config: Pick<Config, 'allowedSubnets' | 'connectionsPerOrigin' | 'responseBodyLimit' | 'deliveryTimeout'> &
    Partial<Pick<Config, 'egressProxy'>>,
  logger: Logger,
): HttpClient {
  const guard = createAddressGuard(config.allowedSubnets);
  // Through an egress proxy (HOOKYARD_EGRESS_PROXY) the connected address is the proxy's, so the
  // address guard cannot see the receiver's: URLs are still checked when an endpoint is saved, and
  // the proxy is trusted to enforce the rest (docs/configuration.md).
  const agent: Dispatcher = config.egressProxy
    ? new ProxyAgent({
        uri: config.egressProxy,
        connections: config.connectionsPerOrigin,
        pipelining: 1,
        keepAliveTimeout: 30_000,
      })
    : new Agent({
        connections: config.connectionsPerOrigin,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: guardedConnector(guard, config.deliveryTimeout),
      });
  const limit = config.responseBodyLimit;
  const gates = new Map<string, OriginGate>();

  /**
   * Resolves once fewer than `connectionsPerOrigin` requests to the origin are in flight, so undici
   * never queues one behind a busy connection: the receiver's clock starts when the request goes out,
   * and a request that waited too long is given up before it was sent (never a duplicate).
   */
  function acquire(origin: string, waitMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    let gate = gates.get(origin);
    if (!gate) {
      gate = { active: 0, waiting: [] };
      gates.set(origin, gate);
    }
    if (gate.active < config.connectionsPerOrigin && gate.waiting.length === 0) {
      gate.active++;
      return Promise.resolve(true);
    }
    const queue = gate.waiting;
    return new Promise<boolean>((resolve) => {
      const give = (granted: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      const timer = setTimeout(() => {
        const index = queue.indexOf(give);
        if (index !== -1) queue.splice(index, 1);
        give(false);
      }, waitMs);
      const onAbort = () => {
        const index = queue.indexOf(give);
        if (index !== -1) queue.splice(index, 1);
        give(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(give);
    });
  }

  function release(origin: string): void {
    const gate = gates.get(origin);
    if (!gate) return;
    const next = gate.waiting.shift();
    if (next) {
      next(true);
      return;
    }
    gate.active--;
    if (gate.active === 0) gates.delete(origin);
  }

  async function send(request: SendRequest): Promise<SendResult> {
    const queued = performance.now();
    let origin: string;
    let path: string;
    try {
      const url = new URL(request.url);
      origin = url.origin;
      path = `${url.pathname}${url.search}`;
    } catch (thrown) {
      return { kind: 'error', ...describeError(thrown), durationMs: 0, waitMs: 0 };
    }
    const granted = await acquire(origin, request.timeoutMs, request.signal);
    const started = performance.now();
    const waitMs = Math.round(started - queued);
    if (!granted) {
      if (request.signal?.aborted)
        return { kind: 'error', ...describeError(request.signal.reason), durationMs: 0, waitMs };
      return {
        kind: 'error',
        reason: `not sent: no connection to ${origin} became free within ${request.timeoutMs} ms (all ${config.connectionsPerOrigin} of HOOKYARD_CONNECTIONS_PER_ORIGIN were busy)`,
        errno: 'EPOOLWAIT',
        durationMs: 0,
        waitMs,
      };
    }
    const elapsed = () => Math.round(performance.now() - started);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new TimeoutError(request.timeoutMs)), request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout.signal, request.signal]) : timeout.signal;
    try {
      const response = await agent.request({
        origin,
        path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      });
      const body = await readCut(response.body, limit);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'response',
        status: response.statusCode,
        body,
        durationMs: elapsed(),
        waitMs,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (thrown) {
      const cause = signal.aborted ? signal.reason : thrown;
      const error = describeError(cause);
      logger.debug(
        { url: request.url, errno: error.errno, reason: error.reason },
        'delivery attempt got no response',
      );
      return { kind: 'error', ...error, durationMs: elapsed(), waitMs };
    } finally {
      clearTimeout(timer);
      release(origin);
    }
  }

  return {
    send,
    async close() {
      await agent.close();
    },
  };
}

interface OriginGate {
  /** Requests to the origin in flight (at most connectionsPerOrigin). */
  active: number;
  /** Requests waiting for one to end, oldest first; called with false when their wait ran out. */
  waiting: ((granted: boolean) => void)[];
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/**
 * Literal IP hosts skip `lookup` in net.connect, so they are checked here; names go through the
 * guarded lookup, which sees the addresses the socket will actually use.
 */
function guardedConnector(guard: AddressGuard, timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(guard), timeout: timeoutMs });
  return (options, callback) => {
    if (isIP(options.hostname) !== 0) {
      const verdict = guard.check(options.hostname);
      if (verdict.blocked) {
        callback(new AddressBlockedError(verdict.reason), null);
        return;
      }
    }
    connect(options, callback);
  };
}

async function readCut(
  body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown },
  limit: number,
): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let drained = 0;
  for await (const chunk of body) {
    if (keptBytes < limit) {
      const part = chunk.subarray(0, limit - keptBytes);
      kept.push(part);
      keptBytes += part.length;
      drained += chunk.length - part.length;
    } else {
      drained += chunk.length;
    }
    if (drained > DRAIN_LIMIT) {
      body.destroy();
      break;
    }
  }
  return utf8Prefix(Buffer.concat(kept, keptBytes));
}

/** Decodes UTF-8, dropping a multi-byte character the cut split in two instead of showing U+FFFD. */
export function utf8Prefix(bytes: Buffer): string {
  let end = bytes.length;
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (size > back) end = bytes.length - back;
    break;
  }
  return bytes.subarray(0, end).toString('utf8');
}

function describeError(value: unknown): { reason: string; errno: string } {
  const error = toError(value);
  if (error.name === 'AbortError' || error.name === 'RequestAbortedError') {
    return { reason: 'aborted: Hookyard is shutting down', errno: 'ABORTED' };
  }
  const errno = errorCodeOf(error) ?? error.name;
  if (error instanceof AddressBlockedError || error instanceof TimeoutError)
    return { reason: error.message, errno };
  const known = errnoText(errno);
  const detail = error.message && error.message !== known ? `: ${error.message}` : '';
  return { reason: `${known ?? 'request failed'} (${errno})${detail}`, errno };
}
