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
import pg from 'pg';
import { request } from 'undici';
import { stopAllChildren } from './children.ts';
import {
  adminToken,
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
import {
  fillPostgres,
  fillSqlite,
  type HistoryPlan,
  type HistoryTarget,
  historyDays,
  planHistory,
  rareEventType,
  rareEveryN,
} from './history-fill.ts';
import { sendAtRate, sendClosedLoop } from './load.ts';
import { createStatsMeter } from './proc-stats.ts';
import { createReceivers } from './receiver.ts';
import { timestamp } from './report.ts';

const scaleDatabase = 'hookyard_bench_scale';
const backends = ['hookyard-sqlite', 'hookyard-pg'] as const;
type Backend = (typeof backends)[number];

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
  target: HistoryTarget,
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
      pick([`${app}/msg?limit=50&with_content=false&event_types=${rareEventType}`], repeat),
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
    const target: HistoryTarget = { appId: app.id, endpointId: endpoint.id, url };
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
  const name = `${timestamp(started)}-data-scale`;
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
