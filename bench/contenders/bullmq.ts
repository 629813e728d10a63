/**
 * Contender "bullmq": Fastify ingest -> BullMQ queue (one job per endpoint, added in one bulk call
 * before the 202) -> BullMQ worker in the same process posting with undici. The outcome of each job
 * (status, duration) is kept as its return value / failure reason for a day, as BullMQ users do.
 *
 * Durability is Redis's: the bench's Redis runs with appendonly yes, appendfsync everysec, so up to
 * about one second of acknowledged jobs can be lost if Redis or the machine dies.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createIngestApp, createPoster, listenAndAnnounce, newMessageId, readEnv } from './common.ts';

interface DeliverJob {
  readonly url: string;
  readonly messageId: string;
  readonly body: string;
}

const env = readEnv();
const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6390';
const poster = createPoster(env);
const keep = { age: 86_400 };
// BullMQ workers block on Redis, so the worker needs its own connection; maxRetriesPerRequest null is
// what BullMQ requires for blocking connections.
const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue<DeliverJob>('deliveries', { connection: queueConnection });

const worker = new Worker<DeliverJob>(
  'deliveries',
  async (job) => {
    const outcome = await poster.post(job.data.url, job.data.messageId, job.data.body);
    if (!outcome.ok) throw new Error(`status ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
    return { status: outcome.status, ms: outcome.ms };
  },
  {
    connection: workerConnection,
    concurrency: env.concurrency,
    settings: {
      // The scenario's schedule, the same delays the other contenders use.
      backoffStrategy: (attemptsMade: number) => env.retryDelays[attemptsMade - 1] ?? 1_000,
    },
  },
);
worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));

const app = createIngestApp();
app.post('/events', async (req, reply) => {
  const body = req.body as string;
  const messageId = newMessageId();
  await queue.addBulk(
    env.targets.map((url) => ({
      name: 'deliver',
      data: { url, messageId, body },
      opts: {
        attempts: env.retryDelays.length + 1,
        backoff: { type: 'custom' },
        removeOnComplete: keep,
        removeOnFail: keep,
      },
    })),
  );
  return reply.code(202).send({ id: messageId });
});

await worker.waitUntilReady();
await listenAndAnnounce(app, env, async () => {
  await app.close();
  await worker.close();
  await queue.close();
  await poster.close();
  queueConnection.disconnect();
  workerConnection.disconnect();
});
