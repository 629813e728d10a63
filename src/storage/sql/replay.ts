import { idBoundary, newId } from '../../domain/ids.ts';
import { MessageStatus, type ReplayStore, type ResendResult, TriggerType } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, type SqlExecutor } from './driver.ts';

const QUEUED = `${MessageStatus.pending}, ${MessageStatus.sending}`;
const FINAL = `${MessageStatus.success}, ${MessageStatus.fail}`;
const DEFAULT_BATCH = 1000;

/**
 * Resend and bulk replay, written so that repeating a call cannot send a message twice: a row is only
 * re-queued when it is final (success/fail), or — for resend — brought forward when it is queued but
 * not leased. A leased row is an attempt in flight and is never touched (clearing its lease would let
 * a second worker claim it while the first is still sending). Every re-check sits in the statement
 * that writes, so PostgreSQL re-evaluates it on the row version it locks.
 */
export function createReplayStore(ctx: SqlContext): ReplayStore {
  const { driver } = ctx;

  async function makeDue<T>(fn: (tx: SqlExecutor) => Promise<{ changed: number; value: T }>): Promise<T> {
    const { changed, value } = await driver.transaction(async (tx) => {
      const result = await fn(tx);
      if (result.changed > 0) await ctx.announceWork(tx);
      return result;
    });
    if (changed > 0) ctx.wakeLocal();
    return value;
  }

  return {
    resend(appId, msgId, endpointId, now) {
      return makeDue<ResendResult>(async (tx) => {
        const found = await first<{ message: number; endpoint: number }>(
          tx,
          `SELECT (SELECT COUNT(*) FROM messages WHERE app_id = ? AND id = ?) AS message,
                  (SELECT COUNT(*) FROM endpoints WHERE app_id = ? AND id = ?) AS endpoint`,
          [appId, msgId, appId, endpointId],
        );
        if (!found || Number(found.message) === 0 || Number(found.endpoint) === 0)
          return { changed: 0, value: 'missing' };
        // A lease that has lapsed belongs to a dead worker: taking it over is what a claim would do.
        const changed = await tx.run(
          `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, trigger_type,
             created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (msg_id, endpoint_id) DO UPDATE SET
             status = CASE WHEN deliveries.status IN (${QUEUED}) THEN deliveries.status
                           ELSE ${MessageStatus.pending} END,
             next_attempt_at = excluded.next_attempt_at, trigger_type = excluded.trigger_type,
             lease_owner = NULL, updated_at = excluded.updated_at
           WHERE deliveries.lease_owner IS NULL OR deliveries.next_attempt_at <= excluded.next_attempt_at`,
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
        return { changed, value: changed > 0 ? 'queued' : 'in_flight' };
      });
    },

    async replayEndpoint(endpointId, since, until, now, batchSize = DEFAULT_BATCH) {
      const end = idBoundary('delivery', until);
      let cursor = idBoundary('delivery', since);
      let inclusive = true;
      let total = 0;
      // Keyset walk in id order: a row replayed and delivered again while the walk goes on is behind
      // the cursor, so one call never re-queues a row twice.
      for (;;) {
        const ids = await makeDue(async (tx) => {
          const rows = await tx.query<{ id: string }>(
            `UPDATE deliveries
             SET status = ?, next_attempt_at = ?, trigger_type = ?, lease_owner = NULL, updated_at = ?
             WHERE id IN (SELECT id FROM deliveries
                          WHERE endpoint_id = ? AND id ${inclusive ? '>=' : '>'} ? AND id < ?
                            AND status IN (${FINAL})
                          ORDER BY id LIMIT ? ${driver.dialect.claimLockClause})
               AND status IN (${FINAL})
             RETURNING id`,
            [MessageStatus.pending, now, TriggerType.manual, now, endpointId, cursor, end, batchSize],
          );
          return { changed: rows.length, value: rows.map((row) => row.id) };
        });
        total += ids.length;
        if (ids.length < batchSize) return total;
        cursor = ids.reduce((max, id) => (id > max ? id : max));
        inclusive = false;
      }
    },
  };
}
