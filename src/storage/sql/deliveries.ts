import { idBoundary, newId } from '../../domain/ids.ts';
import {
  type AttemptOutcome,
  type ClaimedTask,
  type DeliveryRecord,
  type DeliveryStore,
  type EndpointRecord,
  type MessageRecord,
  MessageStatus,
  TriggerType,
} from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders, type SqlExecutor } from './driver.ts';
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

const COLUMNS = columns.deliveries.join(', ');
const DUE = `status IN (${MessageStatus.pending}, ${MessageStatus.sending})`;

export interface SqlDeliveryStore extends DeliveryStore {
  drain(): Promise<void>;
}

export function createDeliveryStore(ctx: SqlContext): SqlDeliveryStore {
  const { driver } = ctx;

  const completions = createGroupCommit<readonly AttemptOutcome[], undefined>({
    ...ctx.groupCommit,
    async commit(items) {
      // Delivery-id order keeps concurrent batches on a multi-writer database from deadlocking.
      const outcomes = items.flat().sort((a, b) => compare(a.attempt.deliveryId, b.attempt.deliveryId));
      await driver.transaction(async (tx) => {
        for (const outcome of outcomes) await completeOne(tx, outcome);
      });
      return items.map(() => undefined);
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

    async claim(owner, limit, now, leaseMs) {
      if (limit <= 0) return [];
      // The sub-select walks the partial index deliveries_due; its WHERE repeats the index predicate
      // verbatim so both planners use it.
      const leased = await driver.query<{
        id: string;
        app_id: string;
        msg_id: string;
        endpoint_id: string;
        attempts: number;
        trigger_type: number;
      }>(
        `UPDATE deliveries SET next_attempt_at = ?, lease_owner = ?
         WHERE id IN (SELECT id FROM deliveries WHERE ${DUE} AND next_attempt_at <= ?
                      ORDER BY next_attempt_at LIMIT ? ${driver.dialect.claimLockClause})
         RETURNING id, app_id, msg_id, endpoint_id, attempts, trigger_type`,
        [now + leaseMs, owner, now, limit],
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
        });
      }
      return tasks.sort((a, b) => compare(a.deliveryId, b.deliveryId));
    },

    async complete(outcomes) {
      if (outcomes.length === 0) return;
      await completions.submit(outcomes);
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

    async resend(appId, msgId, endpointId, now) {
      const count = await makeDue(async (tx) => {
        const found = await first<{ message: number; endpoint: number }>(
          tx,
          `SELECT (SELECT COUNT(*) FROM messages WHERE app_id = ? AND id = ?) AS message,
                  (SELECT COUNT(*) FROM endpoints WHERE app_id = ? AND id = ?) AS endpoint`,
          [appId, msgId, appId, endpointId],
        );
        if (!found || Number(found.message) === 0 || Number(found.endpoint) === 0) return 0;
        // A leased row is taken over too: the manual resend wins over a retry that is in flight.
        return tx.run(
          `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, trigger_type,
             created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (msg_id, endpoint_id) DO UPDATE SET status = excluded.status,
             next_attempt_at = excluded.next_attempt_at, trigger_type = excluded.trigger_type,
             lease_owner = NULL, updated_at = excluded.updated_at`,
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
      });
      return count > 0;
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
       trigger_type = ?, updated_at = ?
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

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
