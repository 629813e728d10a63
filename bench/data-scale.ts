/**
 * `npm run bench -- --data-scale 10000,1000000 [--only hookyard-sqlite,hookyard-pg] [--quick]`
 *
 * Does Hookyard keep its speed as history piles up? For each backend and size:
 *   1. a fresh database, schema created by Hookyard itself (`hookyard serve` migrates it), with the
 *      bench application and one endpoint made through the API; Hookyard is stopped again;
 *   2. the history written straight into Hookyard's tables with bulk SQL (not through the API, which
 *      would take hours at 10M): N messages of 1 KB, each with its delivery (succeeded) and its attempt,
 *      spread over the last 30 days, 1 % of another event type; PostgreSQL is then VACUUM ANALYZEd
 *      (what autovacuum would have done by then), SQLite is left as Hookyard keeps it;
 *   3. Hookyard started on it, and timed: ingest and delivery at a light 200 msg/s (sent→accepted is
 *      ingest, accepted→delivered is claim + send), closed-loop throughput for a few seconds, and the
 *      read endpoints (message list first page, list a month back, list filtered to the rare type, get
 *      by id, get by eventId, a message's attempts, endpoint stats all-time and for the last hour),
 *      each called one at a time with p50 / p99;
 *   4. Hookyard's peak RSS and the database's size.
 * Writes bench/results/<timestamp>-data-scale.md and .json.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { request } from 'undici';
import { newId } from '../src/domain/ids.ts';
import { stopAllChildren } from './children.ts';
import {
  dropDatabase,
  freshDatabase,
  type HookyardProcesses,
  hookyardApi,
  hookyardApp,
  hookyardUnavailable,
  launchHookyard,
  postgresUnavailable,
  repoRoot,
} from './contenders.ts';
import { makePayload, sendAtRate, sendClosedLoop } from './load.ts';
import { createStatsMeter } from './proc-stats.ts';
import { createReceivers } from './receiver.ts';

const adminToken = 'bench-admin-token-0123456789abcd';
const scaleDatabase = 'hookyard_bench_scale';
const backends = ['hookyard-sqlite', 'hookyard-pg'] as const;
type Backend = (typeof backends)[number];
const historyDays = 30;
const rareEveryN = 100;
const batchRows = 5_000;

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

export interface ScaleResult {
  readonly backend: Backend;
  readonly size: number;
  readonly status: 'ok' | 'failed';
  readonly note?: string;
  readonly fillSeconds?: number;
  readonly fillRowsPerSec?: number;
  readonly databaseBytes?: number;
  /** Light load (200/s open loop): sent→accepted (ingest) and accepted→delivered (claim + send). */
  readonly ingestMs?: Percentiles;
  readonly claimToDeliveredMs?: Percentiles;
  /** Closed loop, 64 producers: deliveries per second with this much history. */
  readonly deliveriesPerSec?: number;
  readonly reads?: Readonly<Record<string, Percentiles>>;
  readonly peakRssMb?: number;
  /** Hookyard's RSS right after start-up on this database. */
  readonly startRssMb?: number;
}

function percentiles(values: number[]): Percentiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), mean: values.reduce((a, b) => a + b, 0) / values.length };
}

/** A deterministic PRNG (mulberry32), so every run reads the same sample of ids. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// ---------------------------------------------------------------------------------------------------
// The history: rows generated in time order, so ids (which encode their time) increase as Hookyard's do.

interface HistoryBatch {
  readonly messageIds: string[];
  readonly deliveryIds: string[];
  readonly attemptIds: string[];
  readonly uids: string[];
  readonly eventTypes: string[];
  readonly times: number[];
}

interface HistoryPlan {
  readonly size: number;
  readonly start: number;
  readonly stepMs: number;
  /** Indices whose ids are kept for the lookups. */
  readonly sample: Set<number>;
  readonly sampled: Map<number, string>;
}

function planHistory(size: number, samples: number): HistoryPlan {
  const end = Date.now() - 3_600_000; // the history ends an hour ago: "last hour" stats see only new work
  const start = end - historyDays * 86_400_000;
  const random = seeded(0xda7a);
  const sample = new Set<number>();
  while (sample.size < Math.min(samples, size)) sample.add(Math.floor(random() * size));
  return { size, start, stepMs: (end - start) / size, sample, sampled: new Map() };
}

function* historyBatches(plan: HistoryPlan): Generator<HistoryBatch> {
  for (let from = 0; from < plan.size; from += batchRows) {
    const batch: HistoryBatch = {
      messageIds: [],
      deliveryIds: [],
      attemptIds: [],
      uids: [],
      eventTypes: [],
      times: [],
    };
    for (let i = from; i < Math.min(plan.size, from + batchRows); i++) {
      const time = Math.floor(plan.start + i * plan.stepMs);
      const messageId = newId('message', time);
      batch.messageIds.push(messageId);
      batch.deliveryIds.push(newId('delivery', time));
      batch.attemptIds.push(newId('attempt', time + 5));
      batch.uids.push(`evt-${i}`);
      batch.eventTypes.push(i % rareEveryN === 0 ? 'invoice.refunded' : 'invoice.paid');
      batch.times.push(time);
      if (plan.sample.has(i)) plan.sampled.set(i, messageId);
    }
    yield batch;
  }
}

const retentionMs = 90 * 86_400_000;
const historyPayload = makePayload(0).replace('"benchId":"0"', '"benchId":"history"');
const attemptResponse = '{"ok":true}';

interface Target {
  readonly appId: string;
  readonly endpointId: string;
  readonly url: string;
}

async function fillPostgres(url: string, target: Target, plan: HistoryPlan): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off');
    for (const b of historyBatches(plan)) {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO messages (id, app_id, uid, event_type, channels, payload, payload_expires_at, created_at)
         SELECT id, $1, uid, event_type, NULL, $2, t + $3::bigint, t
           FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[]) AS u(id, uid, event_type, t)`,
        [target.appId, historyPayload, retentionMs, b.messageIds, b.uids, b.eventTypes, b.times],
      );
      await client.query(
        `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, attempts, next_attempt_at,
                                 trigger_type, lease_owner, created_at, updated_at)
         SELECT id, $1, msg_id, $2, 0, 1, NULL, 0, NULL, t, t + 5
           FROM unnest($3::text[], $4::text[], $5::bigint[]) AS u(id, msg_id, t)`,
        [target.appId, target.endpointId, b.deliveryIds, b.messageIds, b.times],
      );
      await client.query(
        `INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, status,
                               response_status_code, response, response_duration_ms, trigger_type, created_at)
         SELECT id, $1, msg_id, $2, delivery_id, $3, 0, 200, $4, 5, 0, t + 5
           FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[]) AS u(id, msg_id, delivery_id, t)`,
        [
          target.appId,
          target.endpointId,
          target.url,
          attemptResponse,
          b.attemptIds,
          b.messageIds,
          b.deliveryIds,
          b.times,
        ],
      );
      await client.query('COMMIT');
    }
    await client.query('VACUUM ANALYZE messages');
    await client.query('VACUUM ANALYZE deliveries');
    await client.query('VACUUM ANALYZE attempts');
  } finally {
    await client.end();
  }
}

function fillSqlite(path: string, target: Target, plan: HistoryPlan): void {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = OFF');
    db.exec('PRAGMA foreign_keys = OFF');
    const message = db.prepare(
      `INSERT INTO messages (id, app_id, uid, event_type, channels, payload, payload_expires_at, created_at)
       VALUES (?, ?, ?, ?, NULL, ?, ?, ?)`,
    );
    const delivery = db.prepare(
      `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, attempts, next_attempt_at,
                               trigger_type, lease_owner, created_at, updated_at)
       VALUES (?, ?, ?, ?, 0, 1, NULL, 0, NULL, ?, ?)`,
    );
    const attempt = db.prepare(
      `INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, status,
                             response_status_code, response, response_duration_ms, trigger_type, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, 200, ?, 5, 0, ?)`,
    );
    for (const b of historyBatches(plan)) {
      db.exec('BEGIN');
      for (let i = 0; i < b.messageIds.length; i++) {
        const t = b.times[i]!;
        const msgId = b.messageIds[i]!;
        message.run(msgId, target.appId, b.uids[i]!, b.eventTypes[i]!, historyPayload, t + retentionMs, t);
        delivery.run(b.deliveryIds[i]!, target.appId, msgId, target.endpointId, t, t + 5);
        attempt.run(
          b.attemptIds[i]!,
          target.appId,
          msgId,
          target.endpointId,
          b.deliveryIds[i]!,
          target.url,
          attemptResponse,
          t + 5,
        );
      }
      db.exec('COMMIT');
    }
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Timing the API on a filled database

async function timeGets(origin: string, paths: readonly string[]): Promise<Percentiles> {
  const times: number[] = [];
  for (const path of paths) {
    const start = performance.now();
    const res = await request(`${origin}${path}`, {
      headers: { authorization: `Bearer ${adminToken}` },
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    const text = await res.body.text();
    times.push(performance.now() - start);
    if (res.statusCode !== 200) throw new Error(`GET ${path} -> ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  return percentiles(times)!;
}

async function measure(
  processes: HookyardProcesses,
  receivers: Awaited<ReturnType<typeof createReceivers>>,
  target: Target,
  plan: HistoryPlan,
  quick: boolean,
  firstId: number,
): Promise<Pick<ScaleResult, 'ingestMs' | 'claimToDeliveredMs' | 'deliveriesPerSec' | 'reads'>> {
  const { origin } = processes;
  const ingest = {
    origin,
    path: `/api/v1/app/${hookyardApp}/msg`,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    wrap: (payload: string) => `{"eventType":"invoice.paid","payload":${payload}}`,
  };
  const waitDelivered = async (expected: number, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (receivers.delivered() < expected && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (receivers.delivered() < expected)
      throw new Error(`delivered ${receivers.delivered()} of ${expected} within ${timeoutMs / 1000} s`);
  };
  // Warm-up: connections, JIT, caches.
  const warm = await sendClosedLoop(ingest, 0, firstId, 16, performance.now() + 30_000);
  await waitDelivered(warm.accepted, 30_000);

  // Light load: latency with nothing queued.
  const light = quick ? 400 : 2_000;
  const lightLoad = await sendAtRate(ingest, firstId, light, 200, 1_000, performance.now() + 60_000);
  await waitDelivered(warm.accepted + lightLoad.accepted, 60_000);
  const ingestTimes: number[] = [];
  const deliveredTimes: number[] = [];
  const deliveredAt = receivers.deliveredAt[0]!;
  for (let id = firstId; id < firstId + light; id++) {
    const sent = lightLoad.sentAt[id]!;
    const accepted = lightLoad.acceptedAt[id]!;
    const delivered = deliveredAt[id]!;
    if (!Number.isNaN(accepted)) ingestTimes.push(accepted - sent);
    if (!Number.isNaN(accepted) && !Number.isNaN(delivered))
      deliveredTimes.push(Math.max(0, delivered - accepted));
  }

  // Throughput: 64 producers, closed loop.
  const before = receivers.delivered();
  const throughputFirst = firstId + light;
  const started = performance.now();
  const heavy = await sendClosedLoop(
    ingest,
    throughputFirst,
    200_000,
    64,
    performance.now() + (quick ? 3_000 : 10_000),
  );
  await waitDelivered(before + heavy.accepted, 120_000);
  const deliveriesPerSec = heavy.accepted / ((receivers.lastDeliveryAt() - started) / 1000);

  // Reads, one at a time.
  const samples = [...plan.sampled.values()];
  const uids = [...plan.sampled.keys()].map((i) => `evt-${i}`);
  const repeat = quick ? 30 : 200;
  const pick = <T>(list: readonly T[], n: number) =>
    Array.from({ length: n }, (_, i) => list[i % list.length]!);
  const app = `/api/v1/app/${hookyardApp}`;
  const monthAgo = new Date(plan.start + 86_400_000).toISOString();
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const reads: Record<string, Percentiles> = {
    'list messages (first page of 50)': await timeGets(
      origin,
      pick([`${app}/msg?limit=50&with_content=false`], repeat),
    ),
    'list messages before a time 29 days back': await timeGets(
      origin,
      pick([`${app}/msg?limit=50&with_content=false&before=${encodeURIComponent(monthAgo)}`], repeat),
    ),
    [`list messages of a 1-in-${rareEveryN} event type`]: await timeGets(
      origin,
      pick([`${app}/msg?limit=50&with_content=false&event_types=invoice.refunded`], repeat),
    ),
    'get message by id': await timeGets(
      origin,
      pick(
        samples.map((id) => `${app}/msg/${id}`),
        repeat,
      ),
    ),
    'get message by eventId': await timeGets(
      origin,
      pick(
        uids.map((uid) => `${app}/msg/${uid}`),
        repeat,
      ),
    ),
    "list a message's attempts": await timeGets(
      origin,
      pick(
        samples.map((id) => `${app}/attempt/msg/${id}`),
        repeat,
      ),
    ),
    'endpoint stats, all time': await timeGets(
      origin,
      pick([`${app}/endpoint/${target.endpointId}/stats`], Math.max(5, repeat / 10)),
    ),
    'endpoint stats, last hour': await timeGets(
      origin,
      pick([`${app}/endpoint/${target.endpointId}/stats?since=${encodeURIComponent(hourAgo)}`], repeat),
    ),
  };
  return {
    ...(percentiles(ingestTimes) ? { ingestMs: percentiles(ingestTimes)! } : {}),
    ...(percentiles(deliveredTimes) ? { claimToDeliveredMs: percentiles(deliveredTimes)! } : {}),
    deliveriesPerSec,
    reads,
  };
}

async function runOne(
  backend: Backend,
  size: number,
  workRoot: string,
  quick: boolean,
): Promise<ScaleResult> {
  const workDir = join(workRoot, `${backend}-${size}`);
  const dataDir = join(workDir, 'data');
  await mkdir(workDir, { recursive: true });
  const isPg = backend === 'hookyard-pg';
  const databaseUrl = isPg ? await freshDatabase(scaleDatabase) : '';
  const warmup = 200;
  const receivers = await createReceivers({ count: 1, capacity: 300_000, initial: 'up' });
  const retryDelaysMs = [100, 200, 400, 1_000];
  let processes: HookyardProcesses | undefined;
  try {
    // 1. Schema by Hookyard, application and endpoint through the API.
    processes = await launchHookyard({ roles: ['all'], workDir, dataDir, databaseUrl, retryDelaysMs });
    const app = (await hookyardApi(processes.origin, 'POST', '/api/v1/app', {
      name: 'Bench',
      uid: hookyardApp,
    })) as { id: string };
    const url = receivers.urls[0]!;
    const endpoint = (await hookyardApi(processes.origin, 'POST', `/api/v1/app/${hookyardApp}/endpoint`, {
      url,
      description: 'bench receiver',
    })) as { id: string };
    await processes.close();
    processes = undefined;

    // 2. History, straight into the tables.
    const target: Target = { appId: app.id, endpointId: endpoint.id, url };
    const plan = planHistory(size, 1_000);
    const fillStart = performance.now();
    if (isPg) await fillPostgres(databaseUrl, target, plan);
    else fillSqlite(join(dataDir, 'hookyard.db'), target, plan);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const databaseBytes = isPg
      ? await postgresSize(databaseUrl)
      : (await stat(join(dataDir, 'hookyard.db'))).size;

    // 3. Hookyard on the filled database.
    processes = await launchHookyard({ roles: ['all'], workDir, dataDir, databaseUrl, retryDelaysMs });
    const running = processes;
    const meter = createStatsMeter({ roots: () => running.children.map((c) => c.pid) });
    const startRssMb = (await meter.end()).peakRssMb;
    const meter2 = createStatsMeter({ roots: () => running.children.map((c) => c.pid) });
    await meter2.begin();
    const timings = await measure(processes, receivers, target, plan, quick, warmup);
    const stats = await meter2.end();
    return {
      backend,
      size,
      status: 'ok',
      fillSeconds,
      fillRowsPerSec: (size * 3) / fillSeconds,
      databaseBytes,
      ...timings,
      peakRssMb: stats.peakRssMb,
      startRssMb,
    };
  } catch (error) {
    const note = (error as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 400);
    return { backend, size, status: 'failed', note };
  } finally {
    await processes?.close();
    await receivers.close();
    if (!process.env['BENCH_KEEP']) await rm(workDir, { recursive: true, force: true, maxRetries: 10 });
  }
}

async function postgresSize(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ n: string }>('select pg_database_size(current_database()) as n');
    return Number(res.rows[0]!.n);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------
// Report

const fmt = (n: number | undefined) =>
  n === undefined ? '–' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
const pair = (p: Percentiles | undefined) => (p ? `${fmt(p.p50)} / ${fmt(p.p99)}` : '–');

export function renderScaleMarkdown(
  info: {
    startedAt: string;
    command: string;
    machine: string;
    loadAverage: readonly number[];
    durationSeconds: number;
  },
  results: readonly ScaleResult[],
): string {
  const lines = [
    `# Hookyard at scale of data, ${info.startedAt}`,
    '',
    `Command: \`${info.command}\`, ${info.durationSeconds.toFixed(0)} s. Machine: ${info.machine}; load average ${info.loadAverage.map((n) => n.toFixed(1)).join(' → ')}.`,
    '',
    `Each database holds N messages of 1 KB with one delivery (succeeded) and one attempt each, over ${historyDays} days, written with bulk SQL into the schema Hookyard's migrations created; then Hookyard is started on it. Times in ms, p50 / p99.`,
    '',
  ];
  for (const backend of backends) {
    const rows = results.filter((r) => r.backend === backend);
    if (rows.length === 0) continue;
    const sizes = rows.map((r) => r.size);
    lines.push(
      `## ${backend}`,
      '',
      `| | ${sizes.map((s) => `${s.toLocaleString('en-US')} messages`).join(' | ')} |`,
      `| --- | ${sizes.map(() => '---:').join(' | ')} |`,
    );
    const row = (label: string, cell: (r: ScaleResult) => string) =>
      lines.push(`| ${label} | ${rows.map((r) => (r.status === 'ok' ? cell(r) : r.status)).join(' | ')} |`);
    row('fill (rows/s, all three tables)', (r) => `${fmt(r.fillRowsPerSec)} in ${fmt(r.fillSeconds)} s`);
    row('database size, MB', (r) => fmt((r.databaseBytes ?? 0) / 2 ** 20));
    row('ingest at 200/s: sent→accepted', (r) => pair(r.ingestMs));
    row('claim + send at 200/s: accepted→delivered', (r) => pair(r.claimToDeliveredMs));
    row('deliveries/s, 64 producers closed loop', (r) => fmt(r.deliveriesPerSec));
    const readNames = Object.keys(rows.find((r) => r.reads)?.reads ?? {});
    for (const name of readNames) row(name, (r) => pair(r.reads?.[name]));
    row('Hookyard RSS after start-up, MB', (r) => fmt(r.startRssMb));
    row('Hookyard peak RSS, MB', (r) => fmt(r.peakRssMb));
    const failed = rows.filter((r) => r.status === 'failed');
    if (failed.length > 0) lines.push('', ...failed.map((r) => `- ${r.size}: ${r.note ?? ''}`));
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------

export async function runDataScale(options: {
  readonly sizes: readonly number[];
  readonly only?: readonly string[];
  readonly quick: boolean;
}): Promise<void> {
  const chosen = backends.filter((b) => !options.only || options.only.includes(b));
  const unavailable = (await hookyardUnavailable()) ?? undefined;
  if (unavailable) throw new Error(`hookyard: ${unavailable}`);
  const started = new Date();
  const startedMs = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const workRoot = await mkdtemp(join(tmpdir(), 'hookyard-scale-'));
  const results: ScaleResult[] = [];
  const cleanUp = async () => {
    await stopAllChildren();
    await dropDatabase(scaleDatabase);
    if (!process.env['BENCH_KEEP']) await rm(workRoot, { recursive: true, force: true, maxRetries: 10 });
  };
  const interrupt = () => {
    process.stdout.write('\nbench: interrupted, stopping everything it started…\n');
    cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    for (const backend of chosen) {
      const why = backend === 'hookyard-pg' ? await postgresUnavailable() : undefined;
      for (const size of [...options.sizes].sort((a, b) => a - b)) {
        if (why) {
          results.push({ backend, size, status: 'failed', note: why });
          continue;
        }
        process.stdout.write(`${backend} · ${size.toLocaleString('en-US')} messages… `);
        const result = await runOne(backend, size, workRoot, options.quick);
        results.push(result);
        process.stdout.write(
          result.status === 'ok'
            ? `filled in ${fmt(result.fillSeconds)} s; get by id p50 ${fmt(result.reads?.['get message by id']?.p50)} ms, stats ${fmt(result.reads?.['endpoint stats, all time']?.p50)} ms\n`
            : `failed: ${result.note}\n`,
        );
      }
    }
  } finally {
    await cleanUp();
  }
  const name = `${started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-')}-data-scale`;
  const info = {
    startedAt: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    loadAverage: [loadAtStart, loadavg()[0] ?? 0],
    durationSeconds: (performance.now() - startedMs) / 1000,
  };
  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, `${name}.json`), `${JSON.stringify({ info, results }, null, 2)}\n`);
  const mdPath = join(resultsDir, `${name}.md`);
  await writeFile(mdPath, renderScaleMarkdown(info, results));
  process.stdout.write(`\nreport: ${relative(process.cwd(), mdPath)} (and .json)\n`);
}
