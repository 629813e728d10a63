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
  /** Bound on the whole attempt: connect, request, headers and the (cut) body. */
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
      durationMs: number;
      /** The raw `Retry-After` header, when the receiver sent one. */
      retryAfter: string | undefined;
    }
  | { kind: 'error'; reason: string; errno: string; durationMs: number };

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

  async function send(request: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new TimeoutError(request.timeoutMs)), request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout.signal, request.signal]) : timeout.signal;
    try {
      const url = new URL(request.url);
      const response = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
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
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (thrown) {
      const cause = signal.aborted ? signal.reason : thrown;
      const error = describeError(cause);
      logger.debug(
        { url: request.url, errno: error.errno, reason: error.reason },
        'delivery attempt got no response',
      );
      return { kind: 'error', ...error, durationMs: elapsed() };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    send,
    async close() {
      await agent.close();
    },
  };
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
