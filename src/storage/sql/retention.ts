import type { RetentionStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { skipLockedClause } from './driver.ts';
import { createPartitionMaintainer } from './partitions.ts';

/**
 * Each purge is one short transaction over at most `limit` rows, found through the partial indexes
 * of migration 0003 (only rows still holding content are in them, so purged rows cost nothing later).
 * `SKIP LOCKED` (where the database has row locks) lets several processes purge side by side without
 * waiting on each other; the condition is repeated in the update so a row purged meanwhile by another
 * process is not counted twice. The rows are picked by one statement and updated by key by a second,
 * so that on partitioned tables the update prunes to their partitions (delivery-transitions.ts,
 * `updatePicked`). Whole messages go by partition where the history is partitioned, row by row
 * elsewhere (partitions.ts).
 */
export function createRetentionStore(ctx: SqlContext): RetentionStore {
  const { driver } = ctx;
  const { dialect } = driver;
  const lock = skipLockedClause(driver);
  const partitions = createPartitionMaintainer(ctx);
  return {
    maintainPartitions: (now, keepMs) => partitions.maintain(now, keepMs),
    purgeMessagesBefore: (cutoff, limit) => partitions.purgeMessagesBefore(cutoff, limit),

    purgeExpiredPayloads(now, limit) {
      return driver.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          `SELECT id FROM messages WHERE payload IS NOT NULL AND payload_expires_at <= ?
           ORDER BY payload_expires_at LIMIT ? ${lock}`,
          [now, limit],
        );
        if (rows.length === 0) return 0;
        return tx.run(
          `UPDATE messages SET payload = NULL WHERE ${dialect.anyOf('id')} AND payload IS NOT NULL`,
          [dialect.anyOfParam(rows.map((row) => row.id))],
        );
      });
    },

    purgeResponsesBefore(cutoff, limit) {
      return driver.transaction(async (tx) => {
        const rows = await tx.query<{ id: string; msg_id: string }>(
          `SELECT id, msg_id FROM attempts WHERE response <> '' AND created_at < ?
           ORDER BY created_at LIMIT ? ${lock}`,
          [cutoff, limit],
        );
        if (rows.length === 0) return 0;
        return tx.run(
          `UPDATE attempts SET response = '', response_headers = NULL
           WHERE ${dialect.anyOf('id')} AND ${dialect.anyOf('msg_id')} AND response <> ''`,
          [
            dialect.anyOfParam(rows.map((row) => row.id)),
            dialect.anyOfParam([...new Set(rows.map((row) => row.msg_id))]),
          ],
        );
      });
    },
  };
}
