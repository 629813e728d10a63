/**
 * Tracing micro-benchmark: what OpenTelemetry tracing costs a message's whole path in one embedded
 * (SQLite) process, HTTP ingest → commit → dispatch → HTTP delivery → completion. Runs the server with
 * tracing off (no OTEL_* variables) or on (exporting to a local OTLP/HTTP sink in this process that
 * accepts and discards), sends N messages from C concurrent callers (each carrying a `traceparent`), and
 * waits until the receiver has every one.
 *
 *     node bench/tracing-microbench.ts [--tracing off|on] [--messages 5000] [--concurrency 32] [--rounds 3]
 *
 * Reports wall time and this process's CPU time per message (server, callers, receiver and sink all run
 * here; on a loaded machine the CPU figure is the steadier one), the best of `rounds` fresh servers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log/logger.ts';
import { startServer } from '../src/main.ts';

const { values } = parseArgs({
  options: {
    tracing: { type: 'string', default: 'off' },
    messages: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
  },
});
const total = Number(values.messages);
const concurrency = Number(values.concurrency);
const TOKEN = 'bench-admin-token-0123456789abcdef';

async function listen(handler: (body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', () => {
      handler(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function round(): Promise<{ wallMs: number; cpuMs: number; exports: number }> {
  let delivered = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const receiver = await listen(() => {
    if (++delivered === total) done();
  });
  let exports = 0;
  const sink = await listen(() => {
    exports++;
  });
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-tracing-bench-'));
  const config = loadConfig({
    HOOKYARD_DATA_DIR: dir,
    HOOKYARD_HOST: '127.0.0.1',
    HOOKYARD_PORT: '0',
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_ALLOWED_SUBNETS: '127.0.0.0/8',
  });
  const env =
    values.tracing === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '200' } : {};
  const server = await startServer(config, createLogger('silent', false), env);
  await server.started;
  const api = new Pool(server.url, { connections: concurrency });
  const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await api.request({
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  const app = await call('/api/v1/app', { name: 'bench' });
  await call(`/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/hook` });

  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
        await call(
          `/api/v1/app/${app.id}/msg`,
          { eventType: 'bench', payload: { n: next } },
          { traceparent },
        );
      }
    }),
  );
  await all;
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await api.close();
  await server.close();
  receiver.server.close();
  sink.server.close();
  await rm(dir, { recursive: true, force: true });
  return { wallMs, cpuMs: (used.user + used.system) / 1000, exports };
}

const results: Array<{ wallMs: number; cpuMs: number; exports: number }> = [];
for (let i = 0; i < Number(values.rounds); i++) results.push(await round());
const best = (key: 'wallMs' | 'cpuMs') => Math.min(...results.map((r) => r[key]));
console.log(
  `tracing ${values.tracing}: ${total} messages, concurrency ${concurrency}, best of ${results.length}: ` +
    `wall ${best('wallMs').toFixed(0)} ms (${((total / best('wallMs')) * 1000).toFixed(0)} msg/s), ` +
    `CPU ${((best('cpuMs') / total) * 1000).toFixed(1)} µs/message; OTLP exports ${results.map((r) => r.exports).join(', ')}`,
);
