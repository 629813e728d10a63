/**
 * Contender "pgqueue": Fastify ingest -> graphile-worker jobs in PostgreSQL (one per endpoint, added in
 * one transaction before the 202) -> a graphile-worker runner in the same process posting with undici.
 * Each attempt's outcome is inserted into `bench_outcomes`, as a user of a job queue would record it.
 *
 * graphile-worker's own retry back-off is exp(attempts) seconds; to give it the scenario's schedule the
 * task records the failure and adds the next attempt as a new job with `runAt`, then completes.
 * pollInterval is lowered to 100 ms so such a future job is picked up about on time (new jobs are
 * announced by NOTIFY anyway). localQueue and completeJobBatchDelay are the batching knobs
 * graphile-worker's performance guide recommends for high throughput.
 */
import { Logger, makeWorkerUtils, run, type Task } from 'graphile-worker';
import pg from 'pg';
import { createIngestApp, createPoster, listenAndAnnounce, newMessageId, readEnv } from './common.ts';

interface DeliverPayload {
  readonly url: string;
  readonly messageId: string;
  readonly body: string;
  readonly attempt: number;
}

const env = readEnv();
const databaseUrl = process.env['BENCH_DATABASE_URL'];
if (!databaseUrl) throw new Error('BENCH_DATABASE_URL is required');
const poster = createPoster(env);
// graphile-worker advises a pool of at least concurrency + 2 when tasks use it; the tasks here do two short
// queries each, and PostgreSQL's 100 connections are shared with the machine's other users, so 24.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 24 });
await pool.query(`create table if not exists bench_outcomes (
  id bigserial primary key, message_id text not null, url text not null, attempt int not null,
  status int not null, ms real not null, error text, at timestamptz not null default now())`);

// Quiet: graphile-worker logs every job failure at warn/error, which the flaky scenario makes often.
const logger = new Logger(() => () => {});

const deliver: Task = async (rawPayload, helpers) => {
  const payload = rawPayload as DeliverPayload;
  const outcome = await poster.post(payload.url, payload.messageId, payload.body);
  await pool.query(
    'insert into bench_outcomes (message_id, url, attempt, status, ms, error) values ($1, $2, $3, $4, $5, $6)',
    [payload.messageId, payload.url, payload.attempt, outcome.status, outcome.ms, outcome.error ?? null],
  );
  if (!outcome.ok && payload.attempt <= env.retryDelays.length) {
    const delay = env.retryDelays[payload.attempt - 1]!;
    await helpers.addJob(
      'deliver',
      { ...payload, attempt: payload.attempt + 1 },
      {
        runAt: new Date(Date.now() + delay),
      },
    );
  }
};

const runner = await run({
  pgPool: pool,
  concurrency: env.concurrency,
  noHandleSignals: true,
  pollInterval: 100,
  logger,
  taskList: { deliver },
  preset: { worker: { localQueue: { size: env.concurrency * 2 }, completeJobBatchDelay: 0 } },
});
const utils = await makeWorkerUtils({ pgPool: pool, logger });

const app = createIngestApp();
app.post('/events', async (req, reply) => {
  const body = req.body as string;
  const messageId = newMessageId();
  await utils.addJobs(
    env.targets.map((url) => ({
      identifier: 'deliver',
      payload: { url, messageId, body, attempt: 1 } satisfies DeliverPayload,
    })),
  );
  return reply.code(202).send({ id: messageId });
});

await listenAndAnnounce(app, env, async () => {
  await app.close();
  await runner.stop();
  await utils.release();
  await pool.end();
  await poster.close();
});
