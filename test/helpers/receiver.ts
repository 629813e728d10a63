import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  headers: IncomingMessage['headers'];
  body: string;
  receivedAt: number;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly deliveries: ReceivedDelivery[];
  /** Distinct `webhook-id`s seen, with how many times each arrived. */
  readonly counts: Map<string, number>;
  /** Resolves once `predicate` holds, checking after every delivery; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 for tests. `respond` picks the status for each request
 * (default 200); the body of every request is recorded.
 */
export async function startReceiver(
  options: { respond?: (delivery: ReceivedDelivery) => number | Promise<number>; port?: number } = {},
): Promise<Receiver> {
  const deliveries: ReceivedDelivery[] = [];
  const counts = new Map<string, number>();
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const delivery = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      deliveries.push(delivery);
      const id = String(req.headers['webhook-id'] ?? req.headers['svix-id'] ?? '');
      counts.set(id, (counts.get(id) ?? 0) + 1);
      const status = options.respond ? await options.respond(delivery) : 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
      for (const wake of waiters) wake();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    deliveries,
    counts,
    waitFor(predicate, timeoutMs = 30_000) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`receiver: condition not met within ${timeoutMs} ms (${counts.size} distinct ids)`),
          );
        }, timeoutMs);
        const poll = setInterval(check, 200);
        const cleanup = () => {
          clearTimeout(timer);
          clearInterval(poll);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
