/**
 * What the three non-Hookyard contenders share, so they differ only in where an event waits between
 * ingest and delivery: configuration from the environment, a Fastify ingest that validates the JSON and
 * keeps the raw text (as Hookyard stores the payload once), and an outbound POST that signs like
 * Standard Webhooks (HMAC-SHA256 over id.timestamp.body), so no contender skips work Hookyard does.
 *
 * A contender prints one line `{"ready":true,"port":N}` on stdout once it listens.
 */
import { createHmac, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent } from 'undici';

export interface ContenderEnv {
  readonly port: number;
  /** Endpoint URLs every event fans out to. */
  readonly targets: readonly string[];
  /** Delays before each retry after the first attempt, in ms (the scenario's schedule). */
  readonly retryDelays: readonly number[];
  readonly deliveryTimeoutMs: number;
  readonly concurrency: number;
  readonly connectionsPerOrigin: number;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

export function readEnv(): ContenderEnv {
  return Object.freeze({
    port: Number(process.env['BENCH_PORT'] ?? 0),
    targets: required('BENCH_TARGETS').split(','),
    retryDelays: required('BENCH_RETRY_DELAYS_MS').split(',').map(Number),
    deliveryTimeoutMs: Number(process.env['BENCH_DELIVERY_TIMEOUT_MS'] ?? 300_000),
    concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? 256),
    connectionsPerOrigin: Number(process.env['BENCH_CONNECTIONS_PER_ORIGIN'] ?? 64),
  });
}

export function newMessageId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

export interface DeliveryOutcome {
  readonly ok: boolean;
  readonly status: number;
  readonly ms: number;
  readonly error?: string;
}

const signingKey = Buffer.from('bench-signing-key-32-bytes-long!');

export function createPoster(env: ContenderEnv) {
  const agent = new Agent({
    connections: env.connectionsPerOrigin,
    headersTimeout: env.deliveryTimeoutMs,
    bodyTimeout: env.deliveryTimeoutMs,
  });
  return {
    async post(url: string, messageId: string, body: string): Promise<DeliveryOutcome> {
      const start = performance.now();
      const timestamp = Math.floor(Date.now() / 1000).toString();
      const signature = createHmac('sha256', signingKey)
        .update(`${messageId}.${timestamp}.${body}`)
        .digest('base64');
      try {
        const res = await agent.request({
          origin: new URL(url).origin,
          path: new URL(url).pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': messageId,
            'webhook-timestamp': timestamp,
            'webhook-signature': `v1,${signature}`,
          },
          body,
        });
        await res.body.dump();
        const ms = performance.now() - start;
        return { ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode, ms };
      } catch (error) {
        return { ok: false, status: 0, ms: performance.now() - start, error: (error as Error).message };
      }
    },
    close: () => agent.close(),
  };
}

/** Fastify with a JSON parser that validates the body but hands the route the raw text. */
export function createIngestApp(): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      JSON.parse(body as string);
      done(null, body);
    } catch {
      done(Object.assign(new Error('invalid JSON'), { statusCode: 400 }), undefined);
    }
  });
  return app;
}

export async function listenAndAnnounce(app: FastifyInstance, env: ContenderEnv, close: () => Promise<void>) {
  await app.listen({ port: env.port, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : env.port;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    // The bench kills this process after a grace period anyway; exit promptly once closed.
    Promise.race([close(), new Promise((r) => setTimeout(r, 3_000))]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
