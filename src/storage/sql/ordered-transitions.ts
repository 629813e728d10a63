/**
 * Ordered delivery's state machine (fifoEndpoint destinations, and broker destinations with
 * batching: domain/ordered-batch.ts `orderedBatching`): every write of `fifo_state` and
 * `fifo_queue`, for both backends. No other file writes either table.
 *
 * An ordered destination gets no `deliveries` rows. Each message fanned out to it is queued in
 * `fifo_queue` under the next number of its `fifo_state` row (`last_seq`), taken in the ingest
 * transaction: on PostgreSQL that upsert holds the row's lock until commit, so concurrent ingests into
 * one destination commit one after the other and the numbers follow commit order ("the order they were
 * accepted"). Everything up to `acked_seq` was acknowledged (or skipped) and is deleted from the queue.
 *
 *     state      next_attempt_at   lease_owner   attempts   meaning
 *     idle       NULL              NULL          0          nothing queued
 *     due        time <= now       NULL          any        the head batch should go (first try or retry)
 *     waiting    time > now        NULL          0          a batch short of batchSize waits for maxWaitSecs
 *     retrying   time > now        NULL          > 0        the head batch failed; retried then
 *     leased     lease end         worker        any        one worker is sending the head batch
 *     stopped    NULL              NULL          > 0        retries exhausted: waits for skip or force-retry
 *
 *     ingest: idle ──► due; waiting ──(batch full)──► due; others unchanged (never a live lease)
 *     due ──claim──► leased ──ack──► due (more queued) | idle
 *                           ├─ fail, retries left ──► retrying ──time passes──► due
 *                           ├─ fail, none left ─────► stopped ──force-retry──► due
 *                           ├─ short batch ─────────► waiting (due: it filled during the turn)
 *                           └─ release ─────────────► due | idle
 *     leased ──lease lapses (worker died)──► due (claimed again: the batch may repeat, never reorder)
 *     any ──skip──► position moves; due | idle (a live lease keeps its lease end)
 *
 * A claim bumps `lease_token`; every finish names the token it leased, so a worker whose lease lapsed
 * (and passed to another) changes nothing but its attempt record. A worker sends only while its lease
 * holds (it bounds the attempt by the lease end), so two workers never send one destination at once.
 */
import type { AttemptRecord, OrderedFinish, OrderedLease } from '../contract.ts';
import { type BatchSource, columnList, runBatch } from './batch.ts';
import { first, type SqlDriver, type SqlExecutor } from './driver.ts';
import { responseHeadersValue } from './rows.ts';

const QUEUED: BatchSource = {
  alias: 'v',
  columns: [
    ['endpoint_id', 'text'],
    ['app_id', 'text'],
    ['seq', 'bigint'],
    ['msg_id', 'text'],
  ],
};

/** A message queued for an ordered destination, numbered by `allocate`. */
export interface QueuedRow {
  endpointId: string;
  /** The destination's application (every row carries it: migration 0016). */
  appId: string;
  seq: number;
  msgId: string;
}

interface LeaseRow {
  endpoint_id: string;
  lease_token: number | string;
  attempts: number | string;
}

/**
 * The parameters inside CASE are cast, since PostgreSQL cannot infer a parameter's type there; the casts
 * mean the same to SQLite.
 */
const BIG = 'CAST(? AS BIGINT)';
/** acked_seq or the parameter, whichever is larger (SQLite's MAX(a, b) is PostgreSQL's GREATEST). */
const LARGER_ACKED = `CASE WHEN acked_seq > ${BIG} THEN acked_seq ELSE ${BIG} END`;
/** The lease named still holds: same owner, same token. */
const HELD = 'endpoint_id = ? AND lease_owner = ? AND lease_token = ?';
/** After the head moved: due now if anything is still queued, idle otherwise. */
const dueIfQueued = (acked: string) => `CASE WHEN last_seq > ${acked} THEN ${BIG} ELSE NULL END`;

export type OrderedTransitions = ReturnType<typeof createOrderedTransitions>;

export function createOrderedTransitions(driver: Pick<SqlDriver, 'capabilities' | 'dialect'>) {
  const { dialect } = driver;
  // Locks only fifo_state rows (the enabled check is a sub-query, not a join the lock would cover).
  const skipLocked =
    driver.capabilities.skipLocked && dialect.lockRowsClause !== '' ? 'FOR UPDATE SKIP LOCKED' : '';

  return {
    /**
     * Ingest: numbers `count` new messages for the destination (idle → due; waiting → due once its
     * batch is full) and returns the last number given. The upsert takes the row's lock until commit.
     */
    async allocate(
      tx: SqlExecutor,
      target: { appId: string; endpointId: string },
      count: number,
      batchSize: number,
      now: number,
    ) {
      const row = await first<{ last_seq: number | string }>(
        tx,
        `INSERT INTO fifo_state (endpoint_id, app_id, last_seq, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (endpoint_id) DO UPDATE SET
           last_seq = fifo_state.last_seq + excluded.last_seq,
           next_attempt_at = CASE
             WHEN fifo_state.attempts > 0 THEN fifo_state.next_attempt_at
             WHEN fifo_state.next_attempt_at IS NULL THEN excluded.next_attempt_at
             WHEN fifo_state.lease_owner IS NULL AND fifo_state.next_attempt_at > excluded.next_attempt_at
               AND fifo_state.last_seq + excluded.last_seq - fifo_state.acked_seq >= ?
               THEN excluded.next_attempt_at
             ELSE fifo_state.next_attempt_at END,
           updated_at = excluded.updated_at
         RETURNING last_seq`,
        [target.endpointId, target.appId, count, now, now, batchSize],
      );
      return Number(row?.last_seq ?? 0);
    },

    /** Ingest: the numbered messages into the queue. */
    async enqueue(tx: SqlExecutor, rows: readonly QueuedRow[]): Promise<void> {
      await runBatch(
        tx,
        dialect,
        QUEUED,
        rows.map((row) => [row.endpointId, row.appId, row.seq, row.msgId]),
        (batch) => `INSERT INTO fifo_queue (${columnList(QUEUED)}) ${batch.insert}`,
      );
    },

    /** Claim: up to `limit` due destinations that are enabled → leased to `owner` until `until`. */
    async lease(tx: SqlExecutor, owner: string, until: number, now: number, limit: number) {
      const rows = await tx.query<LeaseRow>(
        `UPDATE fifo_state SET next_attempt_at = ?, lease_owner = ?, lease_token = lease_token + 1, updated_at = ?
         WHERE endpoint_id IN (
           SELECT endpoint_id FROM fifo_state s
           WHERE next_attempt_at <= ?
             AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = s.endpoint_id AND e.disabled = 0)
           ORDER BY next_attempt_at LIMIT ? ${skipLocked})
           AND next_attempt_at <= ?
         RETURNING endpoint_id, lease_token, attempts`,
        [until, owner, now, now, limit, now],
      );
      return rows.map(
        (row): OrderedLease => ({
          endpointId: row.endpoint_id,
          owner,
          token: Number(row.lease_token),
          until,
          attempts: Number(row.attempts),
        }),
      );
    },

    /** Finish, while `lease` holds: leased → due | idle | retrying | stopped | waiting. Returns whether it held. */
    async finish(tx: SqlExecutor, lease: OrderedLease, finish: OrderedFinish, now: number): Promise<boolean> {
      const held = [lease.endpointId, lease.owner, lease.token];
      switch (finish.kind) {
        case 'acked': {
          const through = finish.through.seq;
          const changed = await tx.run(
            `UPDATE fifo_state SET
               next_attempt_at = ${dueIfQueued(`(${LARGER_ACKED})`)},
               last_acked_msg_id = CASE WHEN ${BIG} > acked_seq THEN CAST(? AS TEXT) ELSE last_acked_msg_id END,
               last_acked_at = CASE WHEN ${BIG} > acked_seq THEN ${BIG} ELSE last_acked_at END,
               acked_seq = ${LARGER_ACKED}, attempts = 0, failure = NULL, lease_owner = NULL, updated_at = ?
             WHERE ${HELD}`,
            [
              ...[through, through, now],
              ...[through, finish.through.msgId],
              ...[through, now],
              ...[through, through],
              now,
              ...held,
            ],
          );
          if (changed === 0) return false;
          await tx.run(
            `DELETE FROM fifo_queue WHERE endpoint_id = ?
               AND seq <= (SELECT acked_seq FROM fifo_state WHERE endpoint_id = ?)`,
            [lease.endpointId, lease.endpointId],
          );
          return true;
        }
        case 'retry':
        case 'stopped':
          return (
            (await tx.run(
              `UPDATE fifo_state SET next_attempt_at = ?, attempts = attempts + 1, failure = ?, lease_owner = NULL,
                 updated_at = ?
               WHERE ${HELD}`,
              [finish.kind === 'retry' ? finish.at : null, finish.failure.slice(0, 1000), now, ...held],
            )) > 0
          );
        case 'wait':
          // An ingest while the row was leased left its due time (the lease end) alone, so a batch that
          // filled during the turn is due now here, or it would wait out maxWaitSecs full.
          return (
            (await tx.run(
              `UPDATE fifo_state SET next_attempt_at = CASE
                 WHEN last_seq - acked_seq >= ${BIG} THEN ${BIG}
                 WHEN last_seq > acked_seq THEN ${BIG}
                 ELSE NULL END,
               lease_owner = NULL, updated_at = ?
               WHERE ${HELD}`,
              [finish.batchSize, now, finish.until, now, ...held],
            )) > 0
          );
        case 'release':
          return (
            (await tx.run(
              `UPDATE fifo_state SET next_attempt_at = ${dueIfQueued('acked_seq')}, lease_owner = NULL, updated_at = ?
               WHERE ${HELD}`,
              [finish.retryAt ?? now, now, ...held],
            )) > 0
          );
      }
    },

    /**
     * A batch attempt: one attempt row covering its first to last message; none when the destination
     * was deleted while the batch was in flight (its attempts went with it).
     */
    async recordAttempt(tx: SqlExecutor, attempt: AttemptRecord): Promise<void> {
      if (!(await first(tx, 'SELECT 1 AS found FROM endpoints WHERE id = ?', [attempt.endpointId]))) return;
      await tx.run(
        `INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, status, response_status_code,
           response, response_duration_ms, trigger_type, created_at, last_msg_id, num_events, response_headers)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          attempt.id,
          attempt.appId,
          attempt.msgId,
          attempt.endpointId,
          attempt.deliveryId,
          attempt.url,
          attempt.status,
          attempt.responseStatusCode,
          attempt.response,
          attempt.responseDurationMs,
          attempt.triggerType,
          attempt.createdAt,
          attempt.batch?.lastMsgId ?? attempt.msgId,
          attempt.batch?.numEvents ?? 1,
          responseHeadersValue(attempt),
        ],
      );
    },

    /**
     * Skip: the position moves to `through` (never back), the retry schedule restarts; due now if
     * anything is left (a live lease keeps its lease end: its worker finishes first), else idle.
     */
    async skip(tx: SqlExecutor, endpointId: string, through: number, now: number): Promise<number> {
      const before = await first<{ acked_seq: number | string }>(
        tx,
        `SELECT acked_seq FROM fifo_state WHERE endpoint_id = ? ${dialect.lockRowsClause}`,
        [endpointId],
      );
      if (!before || Number(before.acked_seq) >= through) return 0;
      await tx.run(
        `UPDATE fifo_state SET
           next_attempt_at = CASE WHEN lease_owner IS NOT NULL AND next_attempt_at > ${BIG} THEN next_attempt_at
                                  ELSE ${dueIfQueued(BIG)} END,
           acked_seq = ?, attempts = 0, failure = NULL, updated_at = ?
         WHERE endpoint_id = ?`,
        [now, through, now, through, now, endpointId],
      );
      await tx.run('DELETE FROM fifo_queue WHERE endpoint_id = ? AND seq <= ?', [endpointId, through]);
      return through - Number(before.acked_seq);
    },

    /** Force-retry: retrying | stopped | waiting → due now, with a fresh schedule; a live lease is left alone. */
    forceRetry(tx: SqlExecutor, endpointId: string, now: number): Promise<number> {
      return tx.run(
        `UPDATE fifo_state SET next_attempt_at = ?, attempts = 0, updated_at = ?
         WHERE endpoint_id = ? AND last_seq > acked_seq
           AND (lease_owner IS NULL OR next_attempt_at IS NULL OR next_attempt_at <= ?)`,
        [now, now, endpointId, now],
      );
    },

    /** Start-up of a single-writer backend: every leased → due now. */
    releaseLeases(tx: SqlExecutor, now: number): Promise<number> {
      return tx.run(
        'UPDATE fifo_state SET next_attempt_at = ?, lease_owner = NULL WHERE lease_owner IS NOT NULL',
        [now],
      );
    },
  };
}
