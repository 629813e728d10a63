/**
 * Ingest throughput with payload filters: `npm run bench -- --filter-ingest [--quick]`.
 *
 * One Hookyard API (embedded SQLite, in this process, no dispatcher so deliveries only queue) with one
 * application and 100 HTTP endpoints, measured twice on fresh databases: endpoints without filters, and
 * the same endpoints each with a payload filter (a mix of nested equality, a range, `$in`, `$exist` and
 * `$or`) that every message matches. Every message therefore fans out to all 100 endpoints in both runs
 * and writes the same 100 delivery rows: the difference is what evaluating the filters costs ingest.
 * A closed loop of 64 producers POSTs ~1 KB messages for a fixed time after a warm-up; the figure is
 * accepted (202) messages per second. Runs alternate (plain, filtered, plain, filtered, ...) so a
 * neighbour's load on a shared machine falls on both alike; the median of the rounds is reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { buildApp } from '../src/api/build-app.ts';
import { configWith } from '../src/config/load.ts';
import type { PayloadFilter } from '../src/domain/payload-filter.ts';
import { hashToken } from '../src/domain/tokens.ts';
import { createLogger } from '../src/log/logger.ts';
import { createStorage } from '../src/storage/create-storage.ts';
import { createEndpointCache } from '../src/storage/endpoint-cache.ts';

const TOKEN = 'bench-admin-token-0123456789';
const ENDPOINTS = 100;
const PRODUCERS = 64;

export interface FilterIngestOptions {
  quick: boolean;
}

/** Filter n: every one matches `message(i)` below, each by a different route through the grammar. */
function filter(n: number): PayloadFilter {
  switch (n % 5) {
    case 0:
      return { data: { customer: { country: 'DE' } }, 'data.amount': { $gte: n } };
    case 1:
      return { 'data.currency': { $in: ['eur', 'usd'] }, type: 'invoice.paid' };
    case 2:
      return { 'data.items.sku': `sku-${n % 10}` };
    case 3:
      return { $or: [{ 'data.amount': { $lt: 0 } }, { 'data.tags': { $in: ['vip'] } }] };
    default:
      return { 'data.customer.email': { $exist: true }, 'data.amount': { $neq: -1 } };
  }
}

function message(i: number): string {
  return JSON.stringify({
    eventType: 'invoice.paid',
    payload: {
      type: 'invoice.paid',
      data: {
        id: `inv_${i}`,
        amount: 1_000 + (i % 97),
        currency: 'eur',
        tags: ['vip', 'eu'],
        customer: { country: 'DE', email: `c${i}@example.com`, name: 'x'.repeat(200) },
        items: Array.from({ length: 10 }, (_, k) => ({ sku: `sku-${k}`, qty: k + 1, note: 'y'.repeat(40) })),
      },
    },
  });
}

async function measure(withFilters: boolean, seconds: number, warmup: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-filter-bench-'));
  const config = configWith({
    diskReserve: '0',
    dataDir: dir,
    databaseUrl: '',
    allowedSubnets: '127.0.0.0/8',
  });
  const logger = createLogger('silent', false);
  const storage = await createStorage({ config, logger });
  const endpointCache = createEndpointCache(storage);
  const app = await buildApp({ config, storage, logger, adminTokenHash: hashToken(TOKEN), endpointCache });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: PRODUCERS, pipelining: 1 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const call = async (path: string, body: unknown) => {
    const response = await pool.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`${path}: ${response.statusCode} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  try {
    const application = await call('/api/v1/app', { name: 'bench' });
    for (let n = 0; n < ENDPOINTS; n++)
      await call(`/api/v1/app/${application.id}/endpoint`, {
        url: `http://127.0.0.1:9/hook/${n}`,
        ...(withFilters ? { filter: filter(n) } : {}),
      });
    const path = `/api/v1/app/${application.id}/msg`;
    let i = 0;
    let accepted = 0;
    const loop = async (until: number, count: boolean) => {
      const lane = async () => {
        while (performance.now() < until) {
          const response = await pool.request({ method: 'POST', path, headers, body: message(i++) });
          await response.body.dump();
          if (count && response.statusCode === 202) accepted++;
        }
      };
      await Promise.all(Array.from({ length: PRODUCERS }, lane));
    };
    await loop(performance.now() + warmup * 1000, false);
    const started = performance.now();
    await loop(started + seconds * 1000, true);
    return accepted / ((performance.now() - started) / 1000);
  } finally {
    await pool.close();
    await app.close();
    endpointCache.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

export async function runFilterIngest(options: FilterIngestOptions): Promise<void> {
  const rounds = options.quick ? 3 : 5;
  const seconds = options.quick ? 4 : 10;
  const warmup = options.quick ? 1 : 3;
  const plain: number[] = [];
  const filtered: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    plain.push(await measure(false, seconds, warmup));
    filtered.push(await measure(true, seconds, warmup));
    process.stdout.write(
      `round ${round}/${rounds}: without filters ${Math.round(plain.at(-1) ?? 0)}/s, with filters ${Math.round(filtered.at(-1) ?? 0)}/s\n`,
    );
  }
  const a = median(plain);
  const b = median(filtered);
  process.stdout.write(
    `ingest, 1 app x ${ENDPOINTS} endpoints, ${PRODUCERS} producers, ~1 KB messages, embedded SQLite, ` +
      `median of ${rounds} x ${seconds} s:\n  without filters ${Math.round(a)} msg/s\n  with filters    ${Math.round(b)} msg/s ` +
      `(${(((b - a) / a) * 100).toFixed(1)} %)\n`,
  );
}
