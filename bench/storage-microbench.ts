/**
 * Storage micro-benchmark: the storage layer alone, no HTTP. Measures
 *   ingest   N messages of S bytes from C concurrent callers (each awaits its ingest, then sends the next),
 *   drain    W workers claiming batches of B and completing every task with its own `complete` call
 *            (as the dispatcher's outcomes arrive), until nothing is due.
 *
 *     node bench/storage-microbench.ts [--backend sqlite|postgres|both] [--messages 20000]
 *       [--concurrency 64] [--size 1024] [--endpoints 1] [--workers 2] [--claim 100] [--pool 10]
 *
 * Each phase reports wall time and this process's CPU time per item (the database server's CPU is not
 * in it); on a loaded machine the CPU figure is the steadier one.
 *
 * PostgreSQL runs in a throwaway schema of BENCH_STORAGE_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), dropped at the end; SQLite in a temp directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configWith } from '../src/config/load.ts';
import { newId } from '../src/domain/ids.ts';
import { type AttemptOutcome, MessageStatus, type Storage, TriggerType } from '../src/storage/contract.ts';
import { createStorage } from '../src/storage/create-storage.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'both' },
    messages: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    size: { type: 'string', default: '1024' },
    endpoints: { type: 'string', default: '1' },
    workers: { type: 'string', default: '2' },
    claim: { type: 'string', default: '100' },
    pool: { type: 'string', default: '10' },
  },
});
const messages = Number(values.messages);
const concurrency = Number(values.concurrency);
const size = Number(values.size);
const endpointCount = Number(values.endpoints);
const workers = Number(values.workers);
const claimBatch = Number(values.claim);
const poolSize = Number(values.pool);
const pgUrl = process.env['BENCH_STORAGE_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Opened {
  storage: Storage;
  destroy(): Promise<void>;
}

async function openSqlite(): Promise<Opened> {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-microbench-'));
  const storage = await createStorage({ config: configWith({ dataDir: dir, databaseUrl: '' }) });
  return { storage, destroy: () => rm(dir, { recursive: true, force: true }) };
}

async function openPostgres(): Promise<Opened> {
  const schema = `hy_microbench_${process.pid}`;
  const storage = await createStorage({ config: configWith({ databaseUrl: pgUrl }), schema, poolSize });
  return {
    storage,
    async destroy() {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

async function run(name: string, open: () => Promise<Opened>): Promise<void> {
  const { storage, destroy } = await open();
  try {
    const now = Date.now();
    const app = await storage.applications.create({
      id: newId('application', now),
      uid: null,
      name: 'bench',
      throttleRate: null,
      metadata: {},
      createdAt: now,
      updatedAt: now,
    });
    const endpointIds: string[] = [];
    for (let i = 0; i < endpointCount; i++) {
      const endpoint = await storage.endpoints.create({
        id: newId('endpoint', now),
        appId: app.id,
        uid: null,
        url: 'http://127.0.0.1:1/hook',
        description: '',
        disabled: false,
        eventTypes: null,
        channels: null,
        throttleRate: null,
        metadata: {},
        headers: {},
        secrets: [{ key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expiresAt: null }],
        createdAt: now,
        updatedAt: now,
      });
      endpointIds.push(endpoint.id);
    }
    const payload = JSON.stringify({ data: 'x'.repeat(Math.max(0, size - 11)) });

    let sent = 0;
    const ingestStart = performance.now();
    const ingestCpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < messages) {
          const i = sent++;
          const at = Date.now();
          await storage.messages.ingest({
            message: {
              id: newId('message', at),
              appId: app.id,
              uid: `evt-${i}`,
              eventType: 'user.created',
              channels: null,
              payload,
              payloadExpiresAt: at + 86_400_000,
              createdAt: at,
            },
            endpointIds,
          });
        }
      }),
    );
    const ingestSeconds = (performance.now() - ingestStart) / 1000;
    const ingestCpuMs = cpuMs(process.cpuUsage(ingestCpu));

    let completed = 0;
    const drainStart = performance.now();
    const drainCpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (;;) {
          const tasks = await storage.deliveries.claim(`worker-${w}`, claimBatch, Date.now(), 60_000);
          if (tasks.length === 0) return;
          await Promise.all(
            tasks.map((task) => {
              const at = Date.now();
              const outcome: AttemptOutcome = {
                attempt: {
                  id: newId('attempt', at),
                  appId: task.appId,
                  msgId: task.msgId,
                  endpointId: task.endpointId,
                  deliveryId: task.deliveryId,
                  url: 'http://127.0.0.1:1/hook',
                  status: MessageStatus.success,
                  responseStatusCode: 200,
                  response: 'ok',
                  responseDurationMs: 1,
                  triggerType: TriggerType.scheduled,
                  createdAt: at,
                },
                next: MessageStatus.success,
                nextAttemptAt: null,
              };
              return storage.deliveries.complete([outcome]);
            }),
          );
          completed += tasks.length;
        }
      }),
    );
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const drainCpuMs = cpuMs(process.cpuUsage(drainCpu));
    const deliveries = messages * endpointCount;
    if (completed !== deliveries) throw new Error(`completed ${completed} of ${deliveries} deliveries`);

    console.log(
      `${name.padEnd(8)} ingest ${messages} x ${size} B, ${concurrency} callers, ${endpointCount} endpoint(s): ` +
        `${ingestSeconds.toFixed(2)} s = ${Math.round(messages / ingestSeconds)} msg/s, ` +
        `${((ingestCpuMs / messages) * 1000).toFixed(0)} µs CPU/msg | ` +
        `claim+complete ${completed} (${workers} workers, claim ${claimBatch}): ` +
        `${drainSeconds.toFixed(2)} s = ${Math.round(completed / drainSeconds)} deliveries/s, ` +
        `${((drainCpuMs / completed) * 1000).toFixed(0)} µs CPU/delivery`,
    );
  } finally {
    await storage.close();
    await destroy();
  }
}

/** This process's CPU time (user + system) in ms: steadier than wall time on a shared machine. */
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

if (values.backend === 'sqlite' || values.backend === 'both') await run('sqlite', openSqlite);
if (values.backend === 'postgres' || values.backend === 'both') await run('postgres', openPostgres);
