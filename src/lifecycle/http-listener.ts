import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The process's one port, open from the first moment to the last: the composition root points it
 * at the probe app while the database is awaited, at the API once it is up, and back at the probe app
 * while the process drains, so `/livez` and `/readyz` answer throughout. Fastify apps are not
 * listened on themselves; their `routing` handler is plugged in here. It counts requests in progress,
 * so shutdown can wait for them before closing what they use.
 */
export interface HttpListener {
  /** e.g. `http://127.0.0.1:8071`. */
  readonly url: string;
  /** Sends every request from now on to `handler`; requests in progress finish where they are. */
  use(handler: RequestHandler): void;
  /** Resolves true once no request is in progress, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface HttpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly handler: RequestHandler;
}

const CLOSE_GRACE_MS = 2_000;

export async function openHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  let handler = options.handler;
  let inProgress = 0;
  let waiters: Array<() => void> = [];
  const server = createServer((request, response) => {
    inProgress++;
    response.once('close', () => {
      inProgress--;
      if (inProgress === 0) {
        for (const wake of waiters) wake();
        waiters = [];
      }
    });
    handler(request, response);
  });
  server.listen(options.port, options.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    use(next) {
      handler = next;
    },
    async idle(timeoutMs) {
      if (inProgress === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        new Promise<true>((resolve) => waiters.push(() => resolve(true))),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      return drained;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections that still carry a request get a moment, then are cut.
      const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(grace);
    },
  };
}
