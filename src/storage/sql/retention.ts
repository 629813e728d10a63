import type { RetentionStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { skipLockedClause } from './driver.ts';
import { createPartitionMaintainer } from './partitions.ts';

/**
 * Each purge is one statement over at most `limit` rows, found through the partial indexes of
 * migration 0003 (only rows still holding content are in them, so purged rows cost nothing later).
 * `SKIP LOCKED` (where the database has row locks) lets several processes purge side by side without
 * waiting on each other; the condition is repeated outside the sub-select so a row purged meanwhile by
 * another process is not counted twice. Whole messages go by partition where the history is
 * partitioned, row by row elsewhere (partitions.ts).
 */
export function createRetentionStore(ctx: SqlContext): RetentionStore {
  const { driver } = ctx;
  const lock = skipLockedClause(driver);
  const partitions = createPartitionMaintainer(ctx);
  return {
    maintainPartitions: (now, keepMs) => partitions.maintain(now, keepMs),
    purgeMessagesBefore: (cutoff, limit) => partitions.purgeMessagesBefore(cutoff, limit),

    purgeExpiredPayloads(now, limit) {
      return driver.run(
        `UPDATE messages SET payload = NULL
         WHERE id IN (SELECT id FROM messages WHERE payload IS NOT NULL AND payload_expires_at <= ?
                      ORDER BY payload_expires_at LIMIT ? ${lock})
           AND payload IS NOT NULL`,
        [now, limit],
      );
    },

    purgeResponsesBefore(cutoff, limit) {
      return driver.run(
        `UPDATE attempts SET response = ''
         WHERE (id, msg_id) IN (SELECT id, msg_id FROM attempts WHERE response <> '' AND created_at < ?
                                ORDER BY created_at LIMIT ? ${lock})
           AND response <> ''`,
        [cutoff, limit],
      );
    },
  };
}
