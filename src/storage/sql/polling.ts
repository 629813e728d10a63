import type { PollingConsumerRecord, PollingStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, conditions } from './paging.ts';
import { columns, type MessageRow, toMessage } from './rows.ts';

const COLUMNS = columns.messages.join(', ');

interface ConsumerRow {
  endpoint_id: string;
  consumer_id: string;
  position: string;
  committed_offset: number | string;
  handed: string;
  lease_expires_at: number | string | null;
  updated_at: number | string;
}

/**
 * Polling endpoints read the application's messages directly, in id order (ids grow with ingest within a
 * process: domain/ids.ts), over the `messages_app (app_id, id)` index; consumers' positions live in
 * `polling_consumers`. Nothing here touches deliveries.
 */
export function createPollingStore(ctx: SqlContext): PollingStore {
  const { driver } = ctx;
  return {
    async messagesAfter(appId, read) {
      if (read.eventTypes !== null && read.eventTypes.length === 0) return [];
      const where = conditions();
      add(where, 'app_id = ?', appId);
      add(where, 'id > ?', read.after);
      if (read.before !== null) add(where, 'id < ?', read.before);
      if (read.eventTypes !== null)
        add(where, `event_type IN (${placeholders(read.eventTypes.length)})`, ...read.eventTypes);
      if (read.channel !== undefined) add(where, driver.dialect.jsonArrayContains('channels'), read.channel);
      const rows = await driver.query<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE ${where.where.join(' AND ')} ORDER BY id LIMIT ?`,
        [...where.params, read.limit],
      );
      return rows.map(toMessage);
    },

    async getConsumer(endpointId, consumerId) {
      const row = await first<ConsumerRow>(
        driver,
        `SELECT endpoint_id, consumer_id, position, committed_offset, handed, lease_expires_at, updated_at
           FROM polling_consumers WHERE endpoint_id = ? AND consumer_id = ?`,
        [endpointId, consumerId],
      );
      if (!row) return undefined;
      return {
        endpointId: row.endpoint_id,
        consumerId: row.consumer_id,
        position: row.position,
        committedOffset: Number(row.committed_offset),
        handed: JSON.parse(row.handed) as string[],
        leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
        updatedAt: Number(row.updated_at),
      };
    },

    async saveConsumer(record: PollingConsumerRecord) {
      await driver.run(
        `INSERT INTO polling_consumers
           (endpoint_id, consumer_id, position, committed_offset, handed, lease_expires_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (endpoint_id, consumer_id) DO UPDATE SET
           position = excluded.position, committed_offset = excluded.committed_offset,
           handed = excluded.handed, lease_expires_at = excluded.lease_expires_at,
           updated_at = excluded.updated_at`,
        [
          record.endpointId,
          record.consumerId,
          record.position,
          record.committedOffset,
          JSON.stringify(record.handed),
          record.leaseExpiresAt,
          record.updatedAt,
        ],
      );
    },
  };
}
