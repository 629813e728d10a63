import { idBoundary } from '../../domain/ids.ts';
import {
  type AttemptOutcome,
  type ClaimedTask,
  type CompletionReport,
  type DeliveryRecord,
  type DeliveryStore,
  type EndpointRecord,
  type MessageRecord,
  MessageStatus,
  TriggerType,
} from '../contract.ts';
import type { SqlContext } from './context.ts';
import {
  type ArrayColumn,
  arrayParams,
  first,
  placeholders,
  type SqlDialect,
  type SqlExecutor,
} from './driver.ts';
import {
  type EndpointPolicies,
  foldOutcomes,
  gateClaim,
  type LeasedRow,
  parkedBy,
  reportPerItem,
} from './endpoint-state.ts';
import { createGroupCommit } from './group-commit.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import {
  attemptValues,
  columns,
  type DeliveryRow,
  type EndpointRow,
  type MessageRow,
  prefixed,
  toDelivery,
  toEndpoint,
  toMessage,
  unprefix,
} from './rows.ts';
import { rollUpAttempts } from './stats.ts';

const COLUMNS = columns.deliveries.join(', ');
const DUE = `status IN (${MessageStatus.pending}, ${MessageStatus.sending})`;

export interface SqlDeliveryStore extends DeliveryStore {
  drain(): Promise<void>;
}

export function createDeliveryStore(ctx: SqlContext, policies: EndpointPolicies): SqlDeliveryStore {
  const { driver } = ctx;

  const completions = createGroupCommit<readonly AttemptOutcome[], CompletionReport>({
    ...ctx.groupCommit,
    async commit(items) {
      // Delivery-id order keeps concurrent batches on a multi-writer database from deadlocking.
      const outcomes = items.flat().sort((a, b) => compare(a.attempt.deliveryId, b.attempt.deliveryId));
      const { arrayRows, lockRowsClause } = driver.dialect;
      // The endpoint policies ride in the same transaction. Not durable: a completion lost to a power
      // failure costs a redelivery (at-least-once), never a message, so it need not wait for an fsync.
      const folded = await ctx.mutate(
        async (tx, publish) => {
          if (arrayRows) await completeSetBased(tx, outcomes, arrayRows, lockRowsClause);
          else for (const outcome of outcomes) await completeOne(tx, outcome);
          await rollUpAttempts(tx, driver.dialect, outcomes);
          return foldOutcomes(ctx, tx, publish, outcomes, policies);
        },
        { durable: false },
      );
      if (folded.madeDue) ctx.wakeLocal();
      return reportPerItem(items, folded.disabled);
    },
  });

  /** Runs a statement that may make work due, announcing it to every dispatcher if it did. */
  async function makeDue(fn: (tx: SqlExecutor) => Promise<number>): Promise<number> {
    const count = await driver.transaction(async (tx) => {
      const changed = await fn(tx);
      if (changed > 0) await ctx.announceWork(tx);
      return changed;
    });
    if (count > 0) ctx.wakeLocal();
    return count;
  }

  return {
    drain: () => completions.drain(),

    async claim(owner, limit, now, leaseMs, admit) {
      if (limit <= 0) return [];
      const leased = await driver.transaction(
        async (tx) => {
          // The sub-select walks the partial index deliveries_due; its WHERE repeats the index predicate
          // verbatim so both planners use it.
          const rows = await tx.query<LeasedRow>(
            `UPDATE deliveries SET next_attempt_at = ?, lease_owner = ?
           WHERE id IN (SELECT id FROM deliveries WHERE ${DUE} AND next_attempt_at <= ?
                        ORDER BY next_attempt_at LIMIT ? ${driver.dialect.claimLockClause})
           RETURNING id, app_id, msg_id, endpoint_id, attempts, trigger_type, fail_streak`,
            [now + leaseMs, owner, now, limit],
          );
          if (rows.length === 0) return rows;
          // Policies hold or postpone some of them in this transaction, so they leave the due range at once.
          return gateClaim(ctx, tx, rows, now, policies, admit, { owner, until: now + leaseMs });
          // A lease lost to a power failure only makes the task due again: no fsync needed.
        },
        { durable: false },
      );
      if (leased.length === 0) return [];
      const msgIds = [...new Set(leased.map((row) => row.msg_id))];
      const messages = await driver.query<{ id: string; event_type: string; payload: string | null }>(
        `SELECT id, event_type, payload FROM messages WHERE id IN (${placeholders(msgIds.length)})`,
        msgIds,
      );
      const byId = new Map(messages.map((row) => [row.id, row]));
      const tasks: ClaimedTask[] = [];
      for (const row of leased) {
        const message = byId.get(row.msg_id);
        // Deleted between the two statements (its application went): the delivery row went with it.
        if (!message) continue;
        tasks.push({
          deliveryId: row.id,
          appId: row.app_id,
          msgId: row.msg_id,
          endpointId: row.endpoint_id,
          attempts: row.attempts,
          eventType: message.event_type,
          payload: message.payload,
          triggerType: row.trigger_type as TriggerType,
          failStreak: Number(row.fail_streak),
        });
      }
      return tasks.sort((a, b) => compare(a.deliveryId, b.deliveryId));
    },

    async complete(outcomes) {
      if (outcomes.length === 0) return { disabled: [] };
      return completions.submit(outcomes);
    },

    async nextDueAt() {
      const row = await first<{ due: number | null }>(
        driver,
        `SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE ${DUE}`,
      );
      return row?.due ?? null;
    },

    listByMessage(appId, msgId, page) {
      const filter = conditions();
      add(filter, 'd.app_id = ?', appId);
      add(filter, 'd.msg_id = ?', msgId);
      return keysetPage<Record<string, unknown>, { delivery: DeliveryRecord; endpoint: EndpointRecord }>(
        driver,
        {
          select: `SELECT ${prefixed('d', columns.deliveries)}, ${prefixed('e', columns.endpoints)}
                 FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id`,
          filter,
          key: 'd.id',
          page,
          map: (row) => ({
            delivery: toDelivery(unprefix<DeliveryRow>(row, 'd')),
            endpoint: toEndpoint(unprefix<EndpointRow>(row, 'e')),
          }),
        },
      );
    },

    listByEndpoint(appId, endpointId, filter, page) {
      const where = conditions();
      add(where, 'd.app_id = ?', appId);
      add(where, 'd.endpoint_id = ?', endpointId);
      addTimeRange(where, 'd.id', 'delivery', filter);
      if (filter.status !== undefined) add(where, 'd.status = ?', filter.status);
      if (filter.eventTypes && filter.eventTypes.length > 0)
        add(where, `m.event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
      if (filter.channel !== undefined)
        add(where, driver.dialect.jsonArrayContains('m.channels'), filter.channel);
      return keysetPage<Record<string, unknown>, { delivery: DeliveryRecord; message: MessageRecord }>(
        driver,
        {
          select: `SELECT ${prefixed('d', columns.deliveries)}, ${prefixed('m', columns.messages)}
                 FROM deliveries d JOIN messages m ON m.id = d.msg_id`,
          filter: where,
          key: 'd.id',
          page,
          map: (row) => ({
            delivery: toDelivery(unprefix<DeliveryRow>(row, 'd')),
            message: toMessage(unprefix<MessageRow>(row, 'm')),
          }),
        },
      );
    },

    async get(msgId, endpointId) {
      const row = await first<DeliveryRow>(
        driver,
        `SELECT ${COLUMNS} FROM deliveries WHERE msg_id = ? AND endpoint_id = ?`,
        [msgId, endpointId],
      );
      return row && toDelivery(row);
    },

    recover(endpointId, since, until, now) {
      // Keeps the pending/sending distinction honest: a row never attempted stays pending. The statuses
      // are inlined because Postgres cannot infer a parameter's type inside CASE.
      return makeDue((tx) =>
        tx.run(
          `UPDATE deliveries
           SET status = CASE WHEN attempts = 0 THEN ${MessageStatus.pending} ELSE ${MessageStatus.sending} END,
             next_attempt_at = ?,
             trigger_type = ?, lease_owner = NULL, updated_at = ?
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
        ),
      );
    },

    unpark(owner, endpointId, now, limit) {
      // The sub-select walks deliveries_endpoint_due (endpoint_id, next_attempt_at): only this
      // endpoint's unfinished rows, never its history. No tiebreak on id: the index does not carry it,
      // and a sort of the whole parked backlog per call is what this must avoid.
      return makeDue((tx) =>
        tx.run(
          `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL
           WHERE id IN (SELECT id FROM deliveries WHERE endpoint_id = ? AND ${DUE} AND lease_owner = ?
                        ORDER BY next_attempt_at LIMIT ?)`,
          [now, endpointId, parkedBy(owner), limit],
        ),
      );
    },

    releaseLeases(now) {
      return makeDue((tx) =>
        tx.run(
          `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL WHERE lease_owner IS NOT NULL AND ${DUE}`,
          [now],
        ),
      );
    },
  };
}

/**
 * The attempt is recorded even when the delivery already succeeded (it did happen), but a late failure
 * never demotes a success. The attempt is skipped when its delivery is gone (endpoint or application
 * deleted while it was in flight) so one vanished row cannot fail the completions sharing its batch.
 * A completed delivery's next attempt, if any, is a scheduled retry again, hence trigger_type 0.
 */
async function completeOne(tx: SqlExecutor, outcome: AttemptOutcome): Promise<void> {
  const attempt = outcome.attempt;
  const exists = await tx.query('SELECT 1 AS found FROM deliveries WHERE id = ?', [attempt.deliveryId]);
  if (exists.length === 0) return;
  await tx.run(
    `INSERT INTO attempts (${columns.attempts.join(', ')}) VALUES (${placeholders(columns.attempts.length)})`,
    attemptValues(attempt),
  );
  await tx.run(
    `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL,
       trigger_type = ?, updated_at = ?,
       fail_streak = ${outcome.next === MessageStatus.success ? '0' : 'fail_streak + 1'}
     WHERE id = ? AND status <> ?`,
    [
      outcome.next,
      outcome.nextAttemptAt,
      TriggerType.scheduled,
      attempt.createdAt,
      attempt.deliveryId,
      MessageStatus.success,
    ],
  );
}

const ATTEMPT_ARRAYS: readonly ArrayColumn[] = [
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
];
const OUTCOME_ARRAYS: readonly ArrayColumn[] = [
  ['id', 'text'],
  ['status', 'smallint'],
  ['next_attempt_at', 'bigint'],
  ['updated_at', 'bigint'],
];

/**
 * `completeOne` for a whole batch (sorted by delivery id) in a constant number of statements: lock the
 * deliveries that still exist in id order (so concurrent batches cannot deadlock), insert their
 * attempts, update them. A delivery completed twice in one batch is updated once per round, its n-th
 * outcome in round n, which keeps the one-at-a-time result (attempt count, no demotion of a success).
 */
async function completeSetBased(
  tx: SqlExecutor,
  outcomes: readonly AttemptOutcome[],
  arrayRows: NonNullable<SqlDialect['arrayRows']>,
  lockRowsClause: string,
): Promise<void> {
  const ids = [...new Set(outcomes.map((outcome) => outcome.attempt.deliveryId))];
  const found = await tx.query<{ id: string }>(
    `SELECT id FROM deliveries WHERE id IN (SELECT id FROM ${arrayRows('k', [['id', 'text']])})
     ORDER BY id ${lockRowsClause}`,
    [ids],
  );
  const existing = new Set(found.map((row) => row.id));
  const live = outcomes.filter((outcome) => existing.has(outcome.attempt.deliveryId));
  if (live.length === 0) return;
  await tx.run(
    `INSERT INTO attempts (${columns.attempts.join(', ')})
     SELECT ${columns.attempts.join(', ')} FROM ${arrayRows('v', ATTEMPT_ARRAYS)}`,
    arrayParams(live, ATTEMPT_ARRAYS.length, (outcome) => attemptValues(outcome.attempt)),
  );
  const rounds: AttemptOutcome[][] = [];
  const seen = new Map<string, number>();
  for (const outcome of live) {
    const round = seen.get(outcome.attempt.deliveryId) ?? 0;
    seen.set(outcome.attempt.deliveryId, round + 1);
    if (round === rounds.length) rounds.push([]);
    rounds[round]?.push(outcome);
  }
  for (const round of rounds)
    await tx.run(
      `UPDATE deliveries SET status = v.status, attempts = deliveries.attempts + 1,
         next_attempt_at = v.next_attempt_at, lease_owner = NULL, trigger_type = ${TriggerType.scheduled},
         updated_at = v.updated_at,
         fail_streak = CASE WHEN v.status = ${MessageStatus.success} THEN 0 ELSE deliveries.fail_streak + 1 END
       FROM ${arrayRows('v', OUTCOME_ARRAYS)}
       WHERE deliveries.id = v.id AND deliveries.status <> ${MessageStatus.success}`,
      arrayParams(round, OUTCOME_ARRAYS.length, (outcome) => [
        outcome.attempt.deliveryId,
        outcome.next,
        outcome.nextAttemptAt,
        outcome.attempt.createdAt,
      ]),
    );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
