/**
 * PostgreSQL round trips of an ingest, alone (docs/performance.md, profiling item 17): a batch of
 * messages and their deliveries written as Hookyard writes them today, BEGIN, two INSERTs and COMMIT
 * (four round trips), against the same rows in one statement (a data-modifying CTE, committed by
 * itself). Each client writes batch after batch for the given time.
 *
 *     node bench/pg-ingest-microbench.ts [--batch 12] [--clients 4] [--seconds 5] [--rounds 2]
 *
 * Reports messages per second, and CPU per message of the PostgreSQL backends serving the clients
 * (from /proc, so the database must run on this machine) and of this process. The tables are a
 * reduced copy of Hookyard's (no partitions, the indexes a new delivery touches), in a throwaway
 * schema of BENCH_STORAGE_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), dropped at
 * the end.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '12' },
    clients: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
  },
});
const batchSize = Number(values.batch);
const clientCount = Number(values.clients);
const durationMs = Number(values.seconds) * 1000;
const url = process.env.BENCH_STORAGE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_ingest_${process.pid}`;

const SCHEMA_SQL = `
CREATE TABLE messages (id text PRIMARY KEY, app_id text NOT NULL, event_type text NOT NULL,
  payload text, created_at bigint NOT NULL);
CREATE INDEX messages_app ON messages (app_id, id);
CREATE TABLE deliveries (id text PRIMARY KEY, app_id text NOT NULL,
  msg_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE, endpoint_id text NOT NULL,
  status smallint NOT NULL, next_attempt_at bigint, lease_owner text, created_at bigint NOT NULL,
  updated_at bigint NOT NULL, UNIQUE (msg_id, endpoint_id));
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);`;

const insertMessages = {
  name: 'bench_insert_messages',
  text: `INSERT INTO messages (id, app_id, event_type, payload, created_at)
    SELECT id, $2, $3, $4, $5 FROM unnest($1::text[]) AS id ON CONFLICT DO NOTHING RETURNING id`,
};
const insertDeliveries = {
  name: 'bench_insert_deliveries',
  text: `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, lease_owner,
      created_at, updated_at)
    SELECT d, $3, m, $4, 1, $5, $6, $5, $5 FROM unnest($1::text[], $2::text[]) AS v(d, m)`,
};
const insertBoth = {
  name: 'bench_insert_both',
  text: `WITH m AS (
      INSERT INTO messages (id, app_id, event_type, payload, created_at)
      SELECT id, $3, $5, $6, $7 FROM unnest($1::text[]) AS id ON CONFLICT DO NOTHING RETURNING id)
    INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, lease_owner,
      created_at, updated_at)
    SELECT v.d, $3, v.m, $4, 1, $7, $8, $7, $7 FROM unnest($2::text[], $1::text[]) AS v(d, m)
      JOIN m ON m.id = v.m`,
};

const payload = JSON.stringify({ data: 'x'.repeat(1000) });
let sequence = 0;
function nextBatch(): { msgIds: string[]; deliveryIds: string[] } {
  const msgIds: string[] = [];
  const deliveryIds: string[] = [];
  for (let i = 0; i < batchSize; i++) {
    const n = String(sequence++).padStart(20, '0');
    msgIds.push(`msg_${n}`);
    deliveryIds.push(`msgep_${n}`);
  }
  return { msgIds, deliveryIds };
}

/** CPU milliseconds the backends of `clients` have used (utime + stime, at 100 ticks a second). */
function backendCpuMs(clients: pg.Client[]): number {
  let ticks = 0;
  for (const client of clients) {
    const pid = (client as unknown as { processID: number }).processID;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

async function measure(name: string, writeBatch: (client: pg.Client) => Promise<void>): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: clientCount }, async () => {
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      return client;
    }),
  );
  const backendBefore = backendCpuMs(clients);
  const ownBefore = process.cpuUsage();
  const end = Date.now() + durationMs;
  let batches = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < end) {
        await writeBatch(client);
        batches++;
      }
    }),
  );
  const backendMs = backendCpuMs(clients) - backendBefore;
  const own = process.cpuUsage(ownBefore);
  const messages = batches * batchSize;
  console.log(
    `${name.padEnd(30)} ${Math.round(messages / (durationMs / 1000))
      .toLocaleString('en-US')
      .padStart(
        7,
      )} messages/s; backends ${((backendMs * 1000) / messages).toFixed(1)} µs, this process ${((own.user + own.system) / messages).toFixed(1)} µs of CPU a message`,
  );
  await Promise.all(clients.map((client) => client.end()));
}

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
try {
  await admin.query(`SET search_path = ${schema}; ${SCHEMA_SQL}`);
  console.log(
    `batches of ${batchSize} messages (1 KB) and deliveries, ${clientCount} clients, ${values.seconds} s each`,
  );
  for (let round = 0; round < Number(values.rounds); round++) {
    await measure('BEGIN, 2 INSERTs, COMMIT', async (client) => {
      const { msgIds, deliveryIds } = nextBatch();
      const now = Date.now();
      await client.query('BEGIN');
      await client.query({ ...insertMessages, values: [msgIds, 'app_1', 'e', payload, now] });
      await client.query({ ...insertDeliveries, values: [deliveryIds, msgIds, 'app_1', 'ep_1', now, 'w'] });
      await client.query('COMMIT');
    });
    await measure('one statement', async (client) => {
      const { msgIds, deliveryIds } = nextBatch();
      const now = Date.now();
      await client.query({
        ...insertBoth,
        values: [msgIds, deliveryIds, 'app_1', 'ep_1', 'e', payload, now, 'w'],
      });
    });
  }
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
