import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, Client, type Dispatcher, Pool, ProxyAgent } from 'undici';
import type { Config } from '../config/settings.ts';
import { errnoText } from '../domain/outcome-classification.ts';
import { errorCodeOf, toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import type { EndpointEgress } from '../storage/contract.ts';
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
  /**
   * The endpoint's client certificate, trusted CAs and proxy override. The same object (as the
   * endpoint cache hands it out) finds its connection pool without hashing it again.
   */
  readonly egress?: EndpointEgress | undefined;
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
      /** The response headers, bounded (`keptHeaders`), for the attempt's record. */
      headers: Record<string, string>;
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
/** A pool for an endpoint's egress settings unused this long is closed (they changed, or it went). */
const ROUTE_IDLE_MS = 5 * 60_000;

/**
 * A set of keep-alive pools (one undici dispatcher) and what its connections are made with: the
 * default route serves every endpoint without egress settings; each distinct combination of client
 * certificate, CA bundle and proxy gets a route of its own, so a connection opened with one
 * endpoint's certificate or trust is never reused for another's.
 */
interface Route {
  /** '' for the default route, else a hash of the egress settings. */
  readonly key: string;
  readonly dispatcher: Dispatcher;
  inFlight: number;
  lastUsed: number;
  closed: boolean;
}

/**
 * The only way Hookyard talks to receivers. undici dispatchers share keep-alive connections per
 * origin (and per egress route); their connectors check every address they connect to against the
 * address guard. Redirects are never followed (undici's Agent does not by default), so a 3xx is an
 * ordinary failed response.
 */
export function createHttpClient(
  config: Pick<Config, 'allowedSubnets' | 'connectionsPerOrigin' | 'responseBodyLimit' | 'deliveryTimeout'> &
    Partial<Pick<Config, 'egressProxy'>>,
  logger: Logger,
): HttpClient {
  const guard = createAddressGuard(config.allowedSubnets);
  const pooling = { connections: config.connectionsPerOrigin, pipelining: 1, keepAliveTimeout: 30_000 };

  /**
   * Through a proxy the connected address is the proxy's, so the receiver's is checked before the
   * CONNECT (guardedTunnel). A per-endpoint proxy was named through the API and is itself checked
   * like a receiver; HOOKYARD_EGRESS_PROXY is the operator's and is trusted.
   */
  function dispatcherFor(egress: EndpointEgress | undefined): Dispatcher {
    const tls = {
      ...(egress?.clientCertificate ? { cert: egress.clientCertificate } : {}),
      ...(egress?.clientKey ? { key: egress.clientKey } : {}),
      ...(egress?.caBundle ? { ca: egress.caBundle } : {}),
    };
    const proxy = egress?.proxy ?? { kind: 'default' as const };
    const proxyUrl =
      proxy.kind === 'proxy' ? proxy.url : proxy.kind === 'direct' ? '' : (config.egressProxy ?? '');
    if (proxyUrl === '')
      return new Agent({ ...pooling, connect: guardedConnector(guard, config.deliveryTimeout, tls) });
    return new ProxyAgent({
      uri: proxyUrl,
      ...pooling,
      requestTls: tls,
      // The CONNECT is bounded by the delivery timeout too (undici's default waits 300 s for its answer).
      clientFactory: (origin: URL, options: Pool.Options) =>
        new Pool(origin, {
          ...options,
          headersTimeout: config.deliveryTimeout,
          ...(proxy.kind === 'proxy' ? { connect: guardedConnector(guard, config.deliveryTimeout, {}) } : {}),
        }),
      factory: (origin: string, options: Agent.Options) => {
        const tunnel = options.connect;
        const connect = typeof tunnel === 'function' ? guardedTunnel(guard, tunnel) : tunnel;
        return options.connections === 1
          ? new Client(origin, { ...options, connect })
          : new Pool(origin, { ...options, connect });
      },
    });
  }

  const defaultRoute: Route = {
    key: '',
    dispatcher: dispatcherFor(undefined),
    inFlight: 0,
    lastUsed: 0,
    closed: false,
  };
  const routes = new Map<string, Route>();
  const routeOf = new WeakMap<EndpointEgress, Route>();

  function routeFor(egress: EndpointEgress | undefined): Route {
    if (!egress) return defaultRoute;
    const known = routeOf.get(egress);
    if (known && !known.closed) return known;
    const key = createHash('sha256').update(JSON.stringify(egress)).digest('base64url').slice(0, 22);
    let route = routes.get(key);
    if (!route) {
      closeIdleRoutes();
      route = { key, dispatcher: dispatcherFor(egress), inFlight: 0, lastUsed: 0, closed: false };
      routes.set(key, route);
    }
    routeOf.set(egress, route);
    return route;
  }

  function closeIdleRoutes(): void {
    const now = performance.now();
    for (const [key, route] of routes) {
      if (route.inFlight > 0 || now - route.lastUsed < ROUTE_IDLE_MS) continue;
      route.closed = true;
      routes.delete(key);
      route.dispatcher
        .close()
        .catch((error: unknown) => logger.debug({ err: error }, 'closing an idle pool failed'));
    }
  }
  const sweeper = setInterval(closeIdleRoutes, ROUTE_IDLE_MS);
  sweeper.unref();

  const limit = config.responseBodyLimit;
  const gates = new Map<string, OriginGate>();
  const abortLinks = new WeakMap<AbortSignal, Set<AbortController>>();

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

  /**
   * Makes `signal` abort `controller` too: one listener per caller's signal, whatever the number of
   * attempts in flight, and a set entry per attempt. `AbortSignal.any` per attempt (a composite signal
   * tracked through weak references) was 2-3 % of a busy process's CPU in the bench's profiles.
   */
  function linkAbort(signal: AbortSignal, controller: AbortController): () => void {
    if (signal.aborted) {
      controller.abort(signal.reason);
      return () => {};
    }
    const controllers = abortLinks.get(signal) ?? new Set<AbortController>();
    if (!abortLinks.has(signal)) {
      abortLinks.set(signal, controllers);
      signal.addEventListener(
        'abort',
        () => {
          for (const each of controllers) each.abort(signal.reason);
          controllers.clear();
        },
        { once: true },
      );
    }
    controllers.add(controller);
    return () => controllers.delete(controller);
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
    let route: Route;
    try {
      const url = new URL(request.url);
      origin = url.origin;
      path = `${url.pathname}${url.search}`;
      route = routeFor(request.egress);
    } catch (thrown) {
      return { kind: 'error', ...describeError(thrown), durationMs: 0, waitMs: 0 };
    }
    route.inFlight++;
    route.lastUsed = performance.now();
    // Connections are limited per origin within a route: each route has pools of its own.
    const gateKey = route.key === '' ? origin : `${route.key} ${origin}`;
    const granted = await acquire(gateKey, request.timeoutMs, request.signal);
    const started = performance.now();
    const waitMs = Math.round(started - queued);
    if (!granted) {
      route.inFlight--;
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
    // One controller per attempt, aborted by its timer or by the caller's signal (shutdown).
    const controller = new AbortController();
    const { signal } = controller;
    const timer = setTimeout(() => controller.abort(new TimeoutError(request.timeoutMs)), request.timeoutMs);
    const unlink = request.signal ? linkAbort(request.signal, controller) : undefined;
    try {
      const response = await route.dispatcher.request({
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
        headers: keptHeaders(response.headers),
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
      unlink?.();
      release(gateKey);
      route.inFlight--;
      route.lastUsed = performance.now();
    }
  }

  return {
    send,
    async close() {
      clearInterval(sweeper);
      const open = [defaultRoute, ...routes.values()];
      routes.clear();
      for (const route of open) route.closed = true;
      await Promise.all(open.map((route) => route.dispatcher.close()));
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
function guardedConnector(
  guard: AddressGuard,
  timeoutMs: number,
  tls: { cert?: string; key?: string; ca?: string },
): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(guard), timeout: timeoutMs, ...tls });
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

/**
 * A proxy's CONNECT tunnel, opened only to a receiver the address guard allows: a literal address is
 * checked as is; a name is resolved here and refused when any of its addresses is blocked, since the
 * proxy, not Hookyard, picks the address it connects to. A name Hookyard cannot resolve is left to
 * the proxy (which may see a DNS Hookyard does not), and the proxy's own rules then decide.
 */
function guardedTunnel(guard: AddressGuard, tunnel: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    const host = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname;
    const verdictOf = async (): Promise<string | undefined> => {
      if (isIP(host) !== 0) {
        const verdict = guard.check(host);
        return verdict.blocked ? verdict.reason : undefined;
      }
      let addresses: { address: string }[];
      try {
        addresses = await lookup(host, { all: true });
      } catch {
        return undefined;
      }
      for (const { address } of addresses) {
        const verdict = guard.check(address);
        if (verdict.blocked) return `${host}: ${verdict.reason}`;
      }
      return undefined;
    };
    verdictOf().then(
      (blocked) => {
        if (blocked) callback(new AddressBlockedError(blocked), null);
        else tunnel(options, callback);
      },
      (error: unknown) => callback(toError(error), null),
    );
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

/** At most this many response headers are kept with an attempt, each value cut to `HEADER_VALUE_LIMIT`. */
const HEADER_COUNT_LIMIT = 64;
const HEADER_VALUE_LIMIT = 1024;

/**
 * The receiver's response headers as an attempt keeps them: repeated ones joined with ", " (as HTTP
 * folds them), bounded in count and length so a hostile receiver cannot make an attempt row large.
 */
export function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (++count > HEADER_COUNT_LIMIT) break;
    const text = Array.isArray(value) ? value.join(', ') : value;
    kept[name] = text.length > HEADER_VALUE_LIMIT ? text.slice(0, HEADER_VALUE_LIMIT) : text;
  }
  return kept;
}
