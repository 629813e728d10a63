/**
 * The webhook receivers every contender delivers to: `count` node:http servers on 127.0.0.1, one port
 * each (ten endpoints on ten origins, as ten customers would be, so no contender gets to share one
 * connection pool across them).
 *
 * Each request body carries the bench's own event id (`"benchId":"<n>"`, the first key of every
 * payload), so deliveries are correlated the same way for every contender without knowing how it names
 * messages. A delivery counts once per (receiver, id); repeats are counted as duplicates.
 *
 * States of a receiver group:
 *   up       answer 200 (or, with `failFraction`, 500 for that share of requests);
 *   stalled  accept and hold every request without answering, until `up()` answers them all;
 *   refused  not listening at all (connection refused), until `up()` starts listening on the same port.
 * `stalled` is what the backlog scenario uses: each contender keeps its bounded number of attempts in
 * flight and everything else waits in its queue, so the drain measures the queue and not the retry
 * schedule (with `refused`, every message fails at once and then waits for its next retry time).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverState = 'up' | 'stalled' | 'refused';

export interface ReceiverOptions {
  readonly count: number;
  /** Largest bench id + 1 that will be sent; sizes the per-id arrays. */
  readonly capacity: number;
  readonly initial: ReceiverState;
  /** Share of requests answered 500 (0..1). */
  readonly failFraction?: number;
  /**
   * At most this many 500s per (receiver, id), so every message can succeed within the retry schedule
   * and "time to deliver all" is defined. Default 3 (the schedule allows 4 retries).
   */
  readonly maxFailuresPerId?: number;
}

export interface ReceiverGroup {
  readonly urls: readonly string[];
  /** Distinct (receiver, id) deliveries answered 200. */
  delivered(): number;
  duplicates(): number;
  /** Requests answered 500 on purpose. */
  failuresSent(): number;
  requests(): number;
  /** performance.now() of the first 200 per id, one array per receiver; NaN where none yet. */
  readonly deliveredAt: readonly Float64Array[];
  lastDeliveryAt(): number;
  /** From now on hold every request unanswered (until `up()`). */
  stall(): void;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so a flaky run fails the same requests every time. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const benchIdPattern = /"benchId"\s*:\s*"(\d+)"/;

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function createReceivers(options: ReceiverOptions): Promise<ReceiverGroup> {
  const failFraction = options.failFraction ?? 0;
  const maxFailures = options.maxFailuresPerId ?? 3;
  let state: ReceiverState = options.initial;
  let delivered = 0;
  let duplicates = 0;
  let failures = 0;
  let requests = 0;
  let last = Number.NaN;
  const held: Array<() => void> = [];
  const deliveredAt: Float64Array[] = [];
  const failureCounts: Uint8Array[] = [];
  const servers: Server[] = [];
  const ports: number[] = [];

  const record = (receiver: number, id: number, res: ServerResponse) => {
    const times = deliveredAt[receiver]!;
    const now = performance.now();
    if (Number.isNaN(times[id]!)) {
      times[id] = now;
      delivered++;
      last = now;
    } else {
      duplicates++;
    }
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  };

  for (let receiver = 0; receiver < options.count; receiver++) {
    deliveredAt.push(new Float64Array(options.capacity).fill(Number.NaN));
    failureCounts.push(new Uint8Array(options.capacity));
    const random = seededRandom(0x5eed + receiver);
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests++;
        const head = Buffer.concat(chunks).toString('utf8', 0, 256);
        const match = benchIdPattern.exec(head);
        const id = match ? Number(match[1]) : -1;
        if (id < 0 || id >= options.capacity) {
          res.writeHead(400).end('no benchId');
          return;
        }
        if (failFraction > 0 && failureCounts[receiver]![id]! < maxFailures && random() < failFraction) {
          failureCounts[receiver]![id]!++;
          failures++;
          res.writeHead(500, { 'content-length': '4' }).end('fail');
          return;
        }
        if (state === 'stalled') held.push(() => record(receiver, id, res));
        else record(receiver, id, res);
      });
    });
    // Held requests may wait for the whole backlog ingest; keep Node from timing them out first.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 120_000;
    ports.push(await listen(server, 0));
    if (state === 'refused') await new Promise<void>((resolve) => server.close(() => resolve()));
    servers.push(server);
  }

  return {
    urls: ports.map((port, i) => `http://127.0.0.1:${port}/hook/${i}`),
    delivered: () => delivered,
    duplicates: () => duplicates,
    failuresSent: () => failures,
    requests: () => requests,
    deliveredAt,
    lastDeliveryAt: () => last,
    stall() {
      if (state === 'up') state = 'stalled';
    },
    async up() {
      if (state === 'refused') {
        for (let i = 0; i < servers.length; i++) await listen(servers[i]!, ports[i]!);
      }
      state = 'up';
      for (const release of held.splice(0)) release();
    },
    async close() {
      state = 'up';
      for (const release of held.splice(0)) release();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              if (!server.listening) return resolve();
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
