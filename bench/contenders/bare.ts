/**
 * Contender "bare": the physical limit of this machine for the job. A `node:http` server parses the
 * JSON body, answers 202 and POSTs the payload on with undici (64 keep-alive connections per
 * receiver), storing nothing and signing nothing. No framework, no validation beyond JSON.parse, no
 * queue of its own (undici's per-origin queue holds what the 64 connections cannot take yet).
 *
 * Every other contender does at least this work, so the ratio to `bare` says how much of the machine
 * the rest of a design (durability, signing, bookkeeping) costs. A failed attempt is retried after
 * the scenario's delay, from memory, so the flaky scenario can complete; an event lives only in this
 * process (lost on any crash).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { newMessageId, readEnv } from './common.ts';

const env = readEnv();
const agent = new Agent({
  connections: env.connectionsPerOrigin,
  pipelining: 1,
  headersTimeout: env.deliveryTimeoutMs,
  bodyTimeout: env.deliveryTimeoutMs,
});
const targets = env.targets.map((url) => ({ origin: new URL(url).origin, path: new URL(url).pathname }));
const postHeaders = { 'content-type': 'application/json' };

function forward(target: (typeof targets)[number], body: string, attempt: number): void {
  agent
    .request({ origin: target.origin, path: target.path, method: 'POST', headers: postHeaders, body })
    .then(
      async (res) => {
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode >= 300) retry(target, body, attempt);
      },
      () => retry(target, body, attempt),
    );
}

function retry(target: (typeof targets)[number], body: string, attempt: number): void {
  const delay = env.retryDelays[attempt - 1];
  if (delay !== undefined) setTimeout(() => forward(target, body, attempt + 1), delay);
}

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
    const answer = `{"id":"${newMessageId()}"}`;
    res
      .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
      .end(answer);
    for (const target of targets) forward(target, body, 1);
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
    new Promise<void>((resolve) => server.close(() => resolve())).then(() => agent.close()),
    new Promise((resolve) => setTimeout(resolve, 3_000)),
  ]).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
