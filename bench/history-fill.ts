/**
 * Writes a Hookyard history straight into Hookyard's tables with bulk SQL, for the data-scale bench
 * (bench/data-scale.ts): N messages of 1 KB, each with its delivery (succeeded, final) and its one
 * attempt, and the stats rollup (endpoint_stats) added up from those attempts as completion would, spread evenly over the 30 days before an hour ago, one in 100 of a second event type, eventIds
 * `evt-<n>`. Rows are generated in time order with ids of Hookyard's layout (`idAt`), so ids encode their
 * creation time and sort by it, as ids made by Hookyard do. The schema must exist already (made by
 * Hookyard's migrations); the application and endpoint the rows belong to too.
 *
 * PostgreSQL: one transaction of three set-based INSERTs (unnest of arrays) per 5,000 messages, with
 * synchronous_commit off, then VACUUM ANALYZE (what autovacuum would have done by the time a real
 * database held this much). SQLite: prepared INSERTs in transactions of 5,000 messages with
 * synchronous=OFF, then a checkpoint; no ANALYZE (Hookyard does not run one either).
 */

import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { type IdKind, idOfBytes } from '../src/domain/ids.ts';
import { latencyBucket } from '../src/domain/latency-histogram.ts';
import { makePayload } from './load.ts';

export const historyDays = 30;
export const rareEveryN = 100;
export const rareEventType = 'invoice.refunded';
const batchRows = 5_000;

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

let sequence = 0;

/**
 * A Hookyard id of the time given, whatever ids this process made before. `newId` never goes back in
 * time within a process (it stamps an earlier time with the latest id's), so a second fill in the
 * same bench run (1M after 10k) got every id stamped with the end of the first history, an hour ago,
 * and the time ranges read nothing like 30 days. Same layout as `newId` (6 bytes of milliseconds, 14
 * more, 27 base62 digits): here a sequence number, so ids of one millisecond still sort in the order
 * made, then random bytes. Plain arithmetic, as `newId`: three ids per message.
 */
function idAt(kind: IdKind, ms: number): string {
  const bytes = Buffer.alloc(20);
  bytes.writeUIntBE(Math.floor(ms), 0, 6);
  bytes.writeUIntBE(++sequence, 6, 6);
  randomBytes(8).copy(bytes, 12);
  return idOfBytes(kind, bytes);
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

export interface HistoryPlan {
  readonly size: number;
  readonly start: number;
  readonly stepMs: number;
  /** Indices whose ids are kept for the lookups. */
  readonly sample: Set<number>;
  /** Filled in while writing: index -> message id, for the sampled indices. */
  readonly sampled: Map<number, string>;
}

export function planHistory(size: number, samples: number): HistoryPlan {
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
      const messageId = idAt('message', time);
      batch.messageIds.push(messageId);
      batch.deliveryIds.push(idAt('delivery', time));
      batch.attemptIds.push(idAt('attempt', time + 5));
      batch.uids.push(`evt-${i}`);
      batch.eventTypes.push(i % rareEveryN === 0 ? rareEventType : 'invoice.paid');
      batch.times.push(time);
      if (plan.sample.has(i)) plan.sampled.set(i, messageId);
    }
    yield batch;
  }
}

const retentionMs = 90 * 86_400_000;
const historyPayload = makePayload(0).replace('"benchId":"0"', '"benchId":"history"');
const attemptResponse = '{"ok":true}';

/**
 * The rollup of the attempts written, per endpoint and minute of their finish, as completion adds it
 * up (src/storage/sql/stats.ts); every attempt is a success 10 ms after its message was accepted.
 */
const rollupSql = `INSERT INTO endpoint_stats (endpoint_id, app_id, minute, succeeded, failed, duration_ms_sum,
                                          last_attempt_at, l${latencyBucket(10)})
  SELECT endpoint_id, app_id, ((created_at + response_duration_ms) / 60000) * 60000 AS minute,
         SUM(CASE WHEN status = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN status = 0 THEN 0 ELSE 1 END),
         SUM(response_duration_ms), MAX(created_at + response_duration_ms),
         SUM(CASE WHEN status = 0 THEN 1 ELSE 0 END)
    FROM attempts GROUP BY endpoint_id, app_id, ((created_at + response_duration_ms) / 60000) * 60000`;

export interface HistoryTarget {
  readonly appId: string;
  readonly endpointId: string;
  readonly url: string;
}

export async function fillPostgres(
  url: string,
  target: HistoryTarget,
  plan: HistoryPlan,
  schema?: string,
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off');
    if (schema !== undefined) await client.query(`SET search_path TO ${schema}`);
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
    await client.query(rollupSql);
    await client.query('VACUUM ANALYZE messages');
    await client.query('VACUUM ANALYZE deliveries');
    await client.query('VACUUM ANALYZE attempts');
    await client.query('VACUUM ANALYZE endpoint_stats');
  } finally {
    await client.end();
  }
}

export function fillSqlite(path: string, target: HistoryTarget, plan: HistoryPlan): void {
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
    db.exec(rollupSql);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
