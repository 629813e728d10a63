/**
 * A delivery's state machine: every write of a delivery's state, for both backends. No other file
 * writes `deliveries.status`, `next_attempt_at`, `lease_owner`, `attempts` or `fail_streak`.
 *
 * A delivery is one row per message × endpoint (Svix's "message destination"). Its state is read from
 * three columns; each state has one word, used the same way in code, SQL comments, the API and the docs:
 *
 *     state     status            next_attempt_at   lease_owner
 *     pending   pending (1)       due time          NULL
 *     sending   sending (3)       due time          NULL
 *     leased    pending|sending   lease end         worker
 *     parked    pending|sending   lease end         parked:worker
 *     held      pending|sending   NULL              NULL
 *     success   success (0)       NULL              NULL
 *     fail      fail (2)          NULL              NULL
 *     canceled  canceled (4)      NULL              NULL
 *
 * - pending: queued for a fresh first attempt (new, resent, replayed).
 * - sending: queued for a retry: it failed before (or was recovered).
 * - leased: a worker claimed it and is attempting it, or holds it in its local queue until the
 *   endpoint has a free slot (storage cannot tell the two apart; either way that worker sends it).
 * - parked: claimed by a worker whose queue for the endpoint was full, and set aside, out of the due
 *   range, until that worker unparks it: takes it back, leased, into its local queue.
 * - held: its endpoint is disabled or its circuit is open; released when that ends.
 * - success, fail: final (an attempt succeeded; the retry schedule ran out).
 * - canceled: final, never attempted again: its message's payload was expunged in bulk while it was
 *   queued or held (Svix's status 4).
 *
 * Paused or throttled endpoints have no state of their own: their deliveries stay pending or sending,
 * *postponed* to a later due time. `pending` and `sending` together are *queued*; a queued delivery is
 * *due* once its due time has passed, and so is a leased or parked one whose lease lapsed (its worker
 * died): `DUE` below is the one definition.
 *
 *     ingest ──► pending ─┐                  ┌─ complete: 2xx ─────────────────────► success
 *                         ├─ lease ─► leased ┼─ complete: failed, retries left ─────► sending
 *                sending ─┘            │││   └─ complete: failed, none left ────────► fail
 *                                      ││└─ postpone (paused, throttled, admission) ► queued, due later
 *                                      │└── park ──► parked ── lease lapses ────────► queued
 *                                      │             └── unpark ────────────────────► leased
 *                                      └─── hold ──► held ──── release, probe ──────► queued
 *     queued ── holdEndpoint ──► held          queued ── postponeEndpoint ──► queued, due later
 *     success, fail ── resend, replay ──► pending          fail ── recover ──► pending or sending
 *     queued, held, parked ── resend ──► due now            leased ── resend ──► unchanged
 *     (none) ── replay missing ──► pending                  queued, held ── bulk expunge ──► canceled
 *
 * ("queued" keeps the status the delivery had: pending, or sending if it failed before.)
 *
 * A lease pushes the due time `leaseMs` ahead, so a dead worker's rows come due again by themselves
 * (at-least-once delivery). Completion writes the attempt and the next state together, and never
 * demotes a success. The functions below are the transitions; each names the states it moves between.
 */
import { idBoundary, newId } from '../../domain/ids.ts';
import { type AttemptOutcome, MessageStatus, type ResendResult, TriggerType } from '../contract.ts';
import { type BatchSource, columnList, runBatch } from './batch.ts';
import {
  first,
  placeholders,
  prepared,
  type SqlDriver,
  type SqlExecutor,
  type SqlParam,
  type SqlValue,
  skipLockedClause,
} from './driver.ts';
import { attemptValues } from './rows.ts';

const UNFINISHED_STATUSES = `${MessageStatus.pending}, ${MessageStatus.sending}`;
/**
 * Queued, leased, parked or held: not final. Verbatim the predicate of the partial indexes
 * deliveries_due and deliveries_endpoint_due, so both planners use them.
 */
export const UNFINISHED = `status IN (${UNFINISHED_STATUSES})`;
/** Due by the time bound to its `?`: unfinished with a due time (or lease end) that has passed. */
export const DUE = `${UNFINISHED} AND next_attempt_at <= ?`;
const FINAL = `status IN (${MessageStatus.success}, ${MessageStatus.fail})`;
/** The lease owner of parked rows begins with this (see `parkedBy`). */
const PARKED_PREFIX = 'parked:';

/** The lease owner of rows parked by `owner`'s dispatcher (see ClaimAdmission). */
export function parkedBy(owner: string): string {
  return `${PARKED_PREFIX}${owner}`;
}

/**
 * A delivery's key. On PostgreSQL deliveries are partitioned by msg_id (migration 0009), so every
 * statement that finds deliveries by id names their msg_id too, and probes only their partitions; an
 * id alone would probe every partition. Delivery ids are unique on their own, so the msg_id only
 * narrows the search, never the rows found.
 */
export interface DeliveryKey {
  id: string;
  msg_id: string;
}

/** The columns a lease returns (`LeasedRow`). */
const LEASED_COLUMNS = 'id, app_id, msg_id, endpoint_id, attempts, trigger_type, fail_streak';

/** A delivery as a claim leases it. */
export interface LeasedRow {
  id: string;
  app_id: string;
  msg_id: string;
  endpoint_id: string;
  attempts: number;
  trigger_type: number;
  fail_streak: number;
}

/** A delivery ingest creates. */
export interface NewDelivery {
  id: string;
  appId: string;
  msgId: string;
  endpointId: string;
  createdAt: number;
  /** First due time: `createdAt`, or a scheduled message's `deliverAt`. */
  dueAt?: number;
  /** Leased at once, to ingest's hand-off (ingest-hand-off.ts): inserted leased, not queued. */
  lease?: { owner: string; until: number };
}

/** Extra conditions on a replay walk, over `d` (deliveries) and `m` (its message). */
export interface ReplayConditions {
  where: readonly string[];
  params: readonly SqlValue[];
}

const NEW_DELIVERY: BatchSource = {
  alias: 'v',
  columns: [
    ['id', 'text'],
    ['app_id', 'text'],
    ['msg_id', 'text'],
    ['endpoint_id', 'text'],
    ['status', 'smallint'],
    ['next_attempt_at', 'bigint'],
    ['lease_owner', 'text'],
    ['created_at', 'bigint'],
    ['updated_at', 'bigint'],
  ],
};
const ATTEMPT: BatchSource = {
  alias: 'v',
  columns: [
    ['id', 'text'],
    ['app_id', 'text'],
    ['msg_id', 'text'],
    ['endpoint_id', 'text'],
    ['delivery_id', 'text'],
    ['url', 'text'],
    ['status', 'smallint'],
    ['response_status_code', 'integer'],
    ['response', 'text'],
    ['response_duration_ms', 'integer'],
    ['trigger_type', 'smallint'],
    ['created_at', 'bigint'],
    ['response_headers', 'text'],
  ],
};
const OUTCOME: BatchSource = {
  alias: 'v',
  columns: [
    ['id', 'text'],
    ['msg_id', 'text'],
    ['status', 'smallint'],
    ['next_attempt_at', 'bigint'],
    ['updated_at', 'bigint'],
  ],
};

export type DeliveryTransitions = ReturnType<typeof createDeliveryTransitions>;

export function createDeliveryTransitions(driver: Pick<SqlDriver, 'capabilities' | 'dialect'>) {
  const { dialect } = driver;
  const skipLocked = skipLockedClause(driver);
  const singleWriter = !driver.capabilities.multipleWriters;
  const leasePickSql = prepared(
    `SELECT ${LEASED_COLUMNS} FROM deliveries WHERE ${DUE} ORDER BY next_attempt_at LIMIT ? ${skipLocked}`,
  );
  const earliestDueSql = prepared(`SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE ${UNFINISHED}`);

  /** A condition matching exactly the deliveries `keys`, with its two parameters. */
  function byKeys(keys: readonly DeliveryKey[], table = ''): { where: string; params: SqlParam[] } {
    return {
      where: `${dialect.anyOf(`${table}id`)} AND ${dialect.anyOf(`${table}msg_id`)}`,
      params: [
        dialect.anyOfParam(keys.map((key) => key.id)),
        dialect.anyOfParam([...new Set(keys.map((key) => key.msg_id))]),
      ],
    };
  }

  /**
   * Completion's first step where writers run in parallel: lock the deliveries that still exist, in
   * id order (so concurrent batches cannot deadlock), then insert the attempts of those. Returns the
   * outcomes of the deliveries found.
   */
  async function lockAndInsertAttempts(
    tx: SqlExecutor,
    outcomes: readonly AttemptOutcome[],
  ): Promise<readonly AttemptOutcome[]> {
    const keys = byKeys(
      outcomes.map((outcome) => ({ id: outcome.attempt.deliveryId, msg_id: outcome.attempt.msgId })),
    );
    // Key lists, not a join against the batch's rows: PostgreSQL caches one generic plan for this
    // statement per connection, and for a join that plan was a hash join over a sequential scan of
    // every partition whenever it was made while the partitions were small (a fresh day's, or a new
    // database's): 1.7 ms a call at 17,000 deliveries, the largest cost in PostgreSQL's profile.
    // `= ANY` keeps it an index probe per key in each partition, whatever their size when planned.
    const found = await tx.query<{ id: string }>(
      prepared(`SELECT id FROM deliveries WHERE ${keys.where} ORDER BY id ${dialect.lockRowsClause}`),
      keys.params,
    );
    const existing = new Set(found.map((row) => row.id));
    const live = outcomes.filter((outcome) => existing.has(outcome.attempt.deliveryId));
    await runBatch(
      tx,
      dialect,
      ATTEMPT,
      live.map((outcome) => attemptValues(outcome.attempt)),
      (rows) => prepared(`INSERT INTO attempts (${columnList(ATTEMPT)}) ${rows.insert}`),
    );
    return live;
  }

  /**
   * The same on a single-writer backend, where no other batch runs meanwhile and there is nothing to
   * lock: one statement inserts the attempts of the deliveries that still exist. The locking read
   * was a statement of its own in every completion transaction, 41 µs a call at 1,000 deliveries/s
   * (docs/performance.md, profiling item 17). Every outcome goes on to the update, which finds only
   * the rows that exist.
   */
  async function insertAttemptsOfExisting(
    tx: SqlExecutor,
    outcomes: readonly AttemptOutcome[],
  ): Promise<readonly AttemptOutcome[]> {
    await runBatch(
      tx,
      dialect,
      ATTEMPT,
      outcomes.map((outcome) => attemptValues(outcome.attempt)),
      (rows) =>
        prepared(`INSERT INTO attempts (${columnList(ATTEMPT)})
          SELECT ${columnList(ATTEMPT)} FROM ${rows.from}
          WHERE EXISTS (SELECT 1 FROM deliveries WHERE deliveries.id = ${ATTEMPT.alias}.delivery_id)`),
    );
    return outcomes;
  }

  /**
   * The bulk moves pick their rows with one statement and update them with a second, by key, rather
   * than in one `UPDATE … WHERE (id, msg_id) IN (SELECT …)`: over partitions PostgreSQL would plan that
   * as a hash join against every partition, a scan of every delivery, while a list of keys prunes the
   * update to the partitions they are in. The pick locks its rows where the backend can (or
   * `recheck`, the pick's own conditions, is repeated on the row the update finds).
   */
  async function updatePicked(
    tx: SqlExecutor,
    pick: { sql: string; params: readonly SqlParam[] },
    set: { sql: string; params: readonly SqlParam[] },
    recheck: { sql: string; params: readonly SqlParam[] } = { sql: '', params: [] },
  ): Promise<string[]> {
    const keys = await tx.query<DeliveryKey>(pick.sql, pick.params);
    if (keys.length === 0) return [];
    const { where, params } = byKeys(keys);
    const rows = await tx.query<{ id: string }>(
      `UPDATE deliveries SET ${set.sql} WHERE ${where}${recheck.sql} RETURNING id`,
      [...set.params, ...params, ...recheck.params],
    );
    return rows.map((row) => row.id);
  }

  return {
    /**
     * Ingest: (none) → pending, due at once (or at the message's deliverAt); or (none) → leased, for
     * those given a `lease` (ingest's hand-off).
     */
    async insertPending(tx: SqlExecutor, deliveries: readonly NewDelivery[]): Promise<void> {
      await runBatch(
        tx,
        dialect,
        NEW_DELIVERY,
        deliveries.map((row) => [
          row.id,
          row.appId,
          row.msgId,
          row.endpointId,
          MessageStatus.pending,
          row.lease?.until ?? row.dueAt ?? row.createdAt,
          row.lease?.owner ?? null,
          row.createdAt,
          row.createdAt,
        ]),
        (rows) => prepared(`INSERT INTO deliveries (${columnList(NEW_DELIVERY)}) ${rows.insert}`),
      );
    },

    /**
     * Replay missing: (none) → pending, due at `now`, a manual attempt; a delivery that exists
     * meanwhile is left as it is. Returns how many were made.
     */
    async insertMissing(
      tx: SqlExecutor,
      rows: readonly { appId: string; msgId: string; endpointId: string }[],
      now: number,
    ): Promise<number> {
      let made = 0;
      for (const row of rows) {
        made += await tx.run(
          `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, trigger_type,
             created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id, endpoint_id) DO NOTHING`,
          [
            newId('delivery', now),
            row.appId,
            row.msgId,
            row.endpointId,
            MessageStatus.pending,
            now,
            TriggerType.manual,
            now,
            now,
          ],
        );
      }
      return made;
    },

    /**
     * Bulk expunge: the queued and held deliveries of the application's messages (all, or `msgIds`)
     * → canceled; leased and parked ones are a worker's and left alone.
     */
    cancelQueued(
      tx: SqlExecutor,
      appId: string,
      msgIds: readonly string[] | undefined,
      now: number,
    ): Promise<number> {
      const only = msgIds === undefined ? '' : ` AND msg_id IN (${placeholders(msgIds.length)})`;
      return tx.run(
        `UPDATE deliveries SET status = ${MessageStatus.canceled}, next_attempt_at = NULL, updated_at = ?
         WHERE app_id = ? AND ${UNFINISHED} AND lease_owner IS NULL${only}`,
        [now, appId, ...(msgIds ?? [])],
      );
    },

    /**
     * Claim: due (pending, sending, or a lapsed lease) → leased to `owner` until `until`, oldest due
     * first. The pick walks the partial index deliveries_due and locks what it takes (updatePicked).
     */
    async lease(
      tx: SqlExecutor,
      owner: string,
      until: number,
      now: number,
      limit: number,
    ): Promise<LeasedRow[]> {
      const rows = await tx.query<LeasedRow>(leasePickSql, [now, limit]);
      if (rows.length === 0) return rows;
      const { where, params } = byKeys(rows);
      await tx.run(prepared(`UPDATE deliveries SET next_attempt_at = ?, lease_owner = ? WHERE ${where}`), [
        until,
        owner,
        ...params,
      ]);
      return rows;
    },

    /** Claim gate: leased → held (endpoint disabled, or circuit open and this is not the probe). */
    async holdLeased(tx: SqlExecutor, keys: readonly DeliveryKey[]): Promise<void> {
      if (keys.length === 0) return;
      const { where, params } = byKeys(keys);
      await tx.run(`UPDATE deliveries SET next_attempt_at = NULL, lease_owner = NULL WHERE ${where}`, params);
    },

    /** Claim gate: leased → parked by `owner` until `until` (the dispatcher's `admit` said so). */
    async parkLeased(
      tx: SqlExecutor,
      keys: readonly DeliveryKey[],
      owner: string,
      until: number,
    ): Promise<void> {
      if (keys.length === 0) return;
      const { where, params } = byKeys(keys);
      await tx.run(prepared(`UPDATE deliveries SET next_attempt_at = ?, lease_owner = ? WHERE ${where}`), [
        until,
        parkedBy(owner),
        ...params,
      ] satisfies SqlParam[]);
    },

    /** Claim gate: leased → pending|sending (as it was), due at `until` (paused, throttled, or `admit`). */
    async postponeLeased(tx: SqlExecutor, keys: readonly DeliveryKey[], until: number): Promise<void> {
      if (keys.length === 0) return;
      const { where, params } = byKeys(keys);
      await tx.run(`UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL WHERE ${where}`, [
        until,
        ...params,
      ] satisfies SqlParam[]);
    },

    /**
     * Endpoint disabled or circuit opened: the endpoint's pending|sending → held. Rows another
     * transaction has locked are skipped: those are being claimed, and the claim's gate sorts them.
     */
    async holdEndpoint(tx: SqlExecutor, endpointId: string): Promise<void> {
      await updatePicked(
        tx,
        {
          sql: `SELECT id, msg_id FROM deliveries WHERE endpoint_id = ? AND ${UNFINISHED}
                AND next_attempt_at IS NOT NULL AND lease_owner IS NULL ${skipLocked}`,
          params: [endpointId],
        },
        { sql: 'next_attempt_at = NULL', params: [] },
      );
    },

    /** Endpoint re-enabled or circuit closed: the endpoint's held → pending|sending, due at `at`. */
    async releaseEndpoint(tx: SqlExecutor, endpointId: string, at: number): Promise<number> {
      const released = await updatePicked(
        tx,
        {
          sql: `SELECT id, msg_id FROM deliveries WHERE endpoint_id = ? AND ${UNFINISHED}
                AND next_attempt_at IS NULL ${skipLocked}`,
          params: [endpointId],
        },
        { sql: 'next_attempt_at = ?', params: [at] },
      );
      return released.length;
    },

    /** Backpressure: the endpoint's pending|sending stay so, none due before `until` (postponed). */
    async postponeEndpoint(tx: SqlExecutor, endpointId: string, until: number): Promise<void> {
      await updatePicked(
        tx,
        {
          sql: `SELECT id, msg_id FROM deliveries WHERE endpoint_id = ? AND ${UNFINISHED}
                AND next_attempt_at < ? AND lease_owner IS NULL ${skipLocked}`,
          params: [endpointId, until],
        },
        { sql: 'next_attempt_at = ?', params: [until] },
      );
    },

    /**
     * Open circuit: the oldest held → pending|sending, due at `probeAt`, unless one is due by then
     * already: an open circuit needs one delivery to probe the endpoint with, or nothing ever would.
     */
    async ensureProbe(tx: SqlExecutor, endpointId: string, probeAt: number): Promise<void> {
      const due = await first(
        tx,
        `SELECT 1 AS found FROM deliveries WHERE endpoint_id = ? AND ${DUE} LIMIT 1`,
        [endpointId, probeAt],
      );
      if (due) return;
      await updatePicked(
        tx,
        {
          sql: `SELECT id, msg_id FROM deliveries WHERE endpoint_id = ? AND ${UNFINISHED} AND next_attempt_at IS NULL
                ORDER BY id LIMIT 1 ${skipLocked}`,
          params: [endpointId],
        },
        { sql: 'next_attempt_at = ?', params: [probeAt] },
      );
    },

    /**
     * The owner tops its local queue up: up to `limit` of its parked → leased to it until `until`,
     * handed straight to its queue, so a parked row costs one write to come back rather than two (due,
     * then claimed) and no claim round trip. The pick walks deliveries_endpoint_due
     * (endpoint_id, next_attempt_at): only this endpoint's unfinished rows. No tiebreak on id: the index
     * does not carry it, and a sort of the whole parked backlog per call is what this must avoid.
     */
    async unpark(
      tx: SqlExecutor,
      owner: string,
      endpointId: string,
      until: number,
      limit: number,
    ): Promise<LeasedRow[]> {
      const rows = await tx.query<LeasedRow>(
        `SELECT ${LEASED_COLUMNS} FROM deliveries WHERE endpoint_id = ? AND ${UNFINISHED} AND lease_owner = ?
         ORDER BY next_attempt_at LIMIT ? ${skipLocked}`,
        [endpointId, parkedBy(owner), limit],
      );
      if (rows.length === 0) return rows;
      const { where, params } = byKeys(rows);
      await tx.run(prepared(`UPDATE deliveries SET next_attempt_at = ?, lease_owner = ? WHERE ${where}`), [
        until,
        owner,
        ...params,
      ]);
      return rows;
    },

    /** Start-up of a single-writer backend: every leased or parked → pending|sending, due at `now`. */
    releaseLeases(tx: SqlExecutor, now: number): Promise<number> {
      return tx.run(
        `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL WHERE lease_owner IS NOT NULL AND ${UNFINISHED}`,
        [now],
      );
    },

    /**
     * Completion: leased → success | sending (due at the retry) | fail, with the attempt recorded, for a
     * batch sorted by delivery id, in a constant number of statements per batch: insert the attempts
     * of the deliveries that still exist (locking those first where writers run in parallel), update
     * the deliveries. The attempt is recorded even when the delivery already succeeded (it did
     * happen), but a late failure never demotes a success. A delivery gone meanwhile (its endpoint or application was
     * deleted) is skipped, so it cannot fail the completions sharing its batch. A delivery completed
     * twice in one batch is updated once per round, its n-th outcome in round n, as if one at a time.
     * The next attempt, if any, is a scheduled retry again, hence trigger_type scheduled.
     */
    async complete(tx: SqlExecutor, outcomes: readonly AttemptOutcome[]): Promise<void> {
      const live = singleWriter
        ? await insertAttemptsOfExisting(tx, outcomes)
        : await lockAndInsertAttempts(tx, outcomes);
      if (live.length === 0) return;
      const rounds: AttemptOutcome[][] = [];
      const seen = new Map<string, number>();
      for (const outcome of live) {
        const round = seen.get(outcome.attempt.deliveryId) ?? 0;
        seen.set(outcome.attempt.deliveryId, round + 1);
        if (round === rounds.length) rounds.push([]);
        rounds[round]?.push(outcome);
      }
      for (const round of rounds) {
        // The join below stays (it carries each row's values); on partitions the key lists beside it
        // bound every partition's scan to an index probe, whatever plan the join gets (see above).
        const bound = dialect.timePartitions
          ? byKeys(
              round.map((outcome) => ({ id: outcome.attempt.deliveryId, msg_id: outcome.attempt.msgId })),
              'deliveries.',
            )
          : { where: 'TRUE', params: [] };
        await runBatch(
          tx,
          dialect,
          OUTCOME,
          round.map((outcome) => [
            outcome.attempt.deliveryId,
            outcome.attempt.msgId,
            outcome.next,
            outcome.nextAttemptAt,
            outcome.attempt.createdAt,
          ]),
          (rows) =>
            prepared(`UPDATE deliveries SET status = v.status, attempts = deliveries.attempts + 1,
               next_attempt_at = v.next_attempt_at, lease_owner = NULL, trigger_type = ${TriggerType.scheduled},
               updated_at = v.updated_at,
               fail_streak = CASE WHEN v.status = ${MessageStatus.success} THEN 0 ELSE deliveries.fail_streak + 1 END
             FROM ${rows.from}
             WHERE deliveries.id = v.id AND deliveries.msg_id = v.msg_id AND ${bound.where}
               AND deliveries.status <> ${MessageStatus.success}`),
          bound.params,
        );
      }
    },

    /**
     * Recover: the endpoint's fail created in [since, until) → pending (never attempted) or sending
     * (its retries continue), due at `now`, triggered manually. The statuses are inlined because
     * PostgreSQL cannot infer a parameter's type inside CASE.
     */
    recover(tx: SqlExecutor, endpointId: string, since: number, until: number, now: number): Promise<number> {
      return tx.run(
        `UPDATE deliveries
         SET status = CASE WHEN attempts = 0 THEN ${MessageStatus.pending} ELSE ${MessageStatus.sending} END,
           next_attempt_at = ?, trigger_type = ?, lease_owner = NULL, updated_at = ?
         WHERE endpoint_id = ? AND status = ? AND id >= ? AND id < ?`,
        [
          now,
          TriggerType.manual,
          now,
          endpointId,
          MessageStatus.fail,
          idBoundary('delivery', since),
          idBoundary('delivery', until),
        ],
      );
    },

    /**
     * Resend, one message to one endpoint, safe to repeat: (none) | success | fail → pending;
     * pending | sending | held | parked → due at `now` (status kept); a lapsed lease is taken over
     * (what a claim would do); leased → untouched, answering `in_flight`: its worker is attempting it
     * (or about to), and clearing its lease would let a second worker send it at the same time. The
     * re-checks sit in the statement that writes, so PostgreSQL re-evaluates them on the row it locks.
     */
    async resend(tx: SqlExecutor, appId: string, msgId: string, endpointId: string, now: number) {
      const changed = await tx.run(
        `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, trigger_type,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (msg_id, endpoint_id) DO UPDATE SET
           status = CASE WHEN deliveries.status IN (${UNFINISHED_STATUSES}) THEN deliveries.status ELSE ${MessageStatus.pending} END,
           next_attempt_at = excluded.next_attempt_at, trigger_type = excluded.trigger_type,
           lease_owner = NULL, updated_at = excluded.updated_at
         WHERE deliveries.lease_owner IS NULL OR deliveries.lease_owner LIKE '${PARKED_PREFIX}%'
           OR deliveries.next_attempt_at <= excluded.next_attempt_at`,
        [
          newId('delivery', now),
          appId,
          msgId,
          endpointId,
          MessageStatus.pending,
          now,
          TriggerType.manual,
          now,
          now,
        ],
      );
      return changed > 0 ? ('queued' satisfies ResendResult) : ('in_flight' satisfies ResendResult);
    },

    /**
     * Replay, one batch of a keyset walk in id order: the endpoint's success | fail with ids in
     * [cursor (inclusive or not), end) → pending, due at `now`; queued, leased, parked and held ones
     * are left alone. Returns the ids replayed.
     */
    async replayBatch(
      tx: SqlExecutor,
      endpointId: string,
      range: { cursor: string; inclusive: boolean; end: string },
      now: number,
      limit: number,
    ): Promise<string[]> {
      return updatePicked(
        tx,
        {
          sql: `SELECT id, msg_id FROM deliveries
                WHERE endpoint_id = ? AND id ${range.inclusive ? '>=' : '>'} ? AND id < ? AND ${FINAL}
                ORDER BY id LIMIT ? ${skipLocked}`,
          params: [endpointId, range.cursor, range.end, limit],
        },
        {
          sql: 'status = ?, next_attempt_at = ?, trigger_type = ?, lease_owner = NULL, updated_at = ?',
          params: [MessageStatus.pending, now, TriggerType.manual, now],
        },
        { sql: ` AND ${FINAL}`, params: [] },
      );
    },

    /**
     * Bulk replay, one batch: as `replayBatch`, for the endpoint's success | fail deliveries that also
     * meet `conditions` (over `d` and its message `m`). Returns the ids replayed.
     */
    async replayFilteredBatch(
      tx: SqlExecutor,
      endpointId: string,
      range: { cursor: string; inclusive: boolean; end: string },
      conditions: ReplayConditions,
      now: number,
      limit: number,
    ): Promise<string[]> {
      const extra = conditions.where.map((condition) => ` AND ${condition}`).join('');
      return updatePicked(
        tx,
        {
          sql: `SELECT d.id, d.msg_id FROM deliveries d JOIN messages m ON m.id = d.msg_id
                WHERE d.endpoint_id = ? AND d.id ${range.inclusive ? '>=' : '>'} ? AND d.id < ?
                  AND d.status IN (${MessageStatus.success}, ${MessageStatus.fail})${extra}
                ORDER BY d.id LIMIT ?`,
          params: [endpointId, range.cursor, range.end, ...conditions.params, limit],
        },
        {
          sql: 'status = ?, next_attempt_at = ?, trigger_type = ?, lease_owner = NULL, updated_at = ?',
          params: [MessageStatus.pending, now, TriggerType.manual, now],
        },
        { sql: ` AND ${FINAL}`, params: [] },
      );
    },

    /** The earliest due time (or lease end) of any unfinished delivery, for the dispatcher's sleep. */
    async earliestDue(executor: SqlExecutor): Promise<number | null> {
      const row = await first<{ due: number | null }>(executor, earliestDueSql);
      return row?.due ?? null;
    },
  };
}
