/**
 * What `bare` and `floor` share: a `node:http` ingest with no framework that reads the body, checks it
 * is JSON and hands it on; an undici agent with the same keep-alive pool as every contender; and a
 * forward that retries from memory on the scenario's schedule. Each contender decides only what
 * happens between the body arriving and the 202 (bare: nothing; floor: a durable commit).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { ContenderEnv } from './common.ts';

const postHeaders = { 'content-type': 'application/json' };

export interface RawForwarder {
  /** How many targets every event goes to (the scenario's endpoints). */
  readonly targets: number;
  /** POSTs `body` to target `target`; calls `delivered` on a 2xx, retries on anything else. */
  forward(target: number, body: string, delivered?: () => void): void;
  close(): Promise<void>;
}

export function createRawForwarder(env: ContenderEnv): RawForwarder {
  const agent = new Agent({
    connections: env.connectionsPerOrigin,
    pipelining: 1,
    headersTimeout: env.deliveryTimeoutMs,
    bodyTimeout: env.deliveryTimeoutMs,
  });
  const targets = env.targets.map((url) => ({ origin: new URL(url).origin, path: new URL(url).pathname }));

  function send(target: number, body: string, attempt: number, delivered?: () => void): void {
    const to = targets[target]!;
    const retry = () => {
      const delay = env.retryDelays[attempt - 1];
      if (delay !== undefined) setTimeout(() => send(target, body, attempt + 1, delivered), delay);
    };
    agent
      .request({ origin: to.origin, path: to.path, method: 'POST', headers: postHeaders, body })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) delivered?.();
        else retry();
      }, retry);
  }

  return {
    targets: targets.length,
    forward: (target, body, delivered) => send(target, body, 1, delivered),
    close: () => agent.close(),
  };
}

/** Answers a request with 202 and the event's id, as every contender's ingest does. */
export function accept(res: ServerResponse, id: string): void {
  const answer = `{"id":"${id}"}`;
  res
    .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
    .end(answer);
}

/**
 * Serves the ingest on `env.port`: each request's body, once it parses as JSON, goes to `onEvent`
 * (which answers it); anything else is a 400. Prints the ready line, and closes on SIGTERM or SIGINT.
 */
export function serveRawIngest(
  env: ContenderEnv,
  forwarder: RawForwarder,
  onEvent: (body: string, res: ServerResponse) => void,
): void {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        JSON.parse(body);
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid JSON');
        return;
      }
      onEvent(body, res);
    });
  });
  server.keepAliveTimeout = 120_000;

  server.listen(env.port, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
  });

  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    server.closeAllConnections();
    // The bench kills this process after a grace period anyway; exit promptly once closed.
    Promise.race([
      new Promise<void>((resolve) => server.close(() => resolve())).then(() => forwarder.close()),
      new Promise((resolve) => setTimeout(resolve, 3_000)),
    ]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
