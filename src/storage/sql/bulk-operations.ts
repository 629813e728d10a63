import { endpointMatches } from '../../domain/filter.ts';
import { idBoundary, newId } from '../../domain/ids.ts';
import { type BulkOperationStore, MessageStatus, TriggerType } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders, type SqlExecutor, type SqlValue } from './driver.ts';
import { add, conditions } from './paging.ts';
import { type EndpointRow, toEndpoint } from './rows.ts';

const FINAL = `${MessageStatus.success}, ${MessageStatus.fail}`;
const QUEUED = `${MessageStatus.pending}, ${MessageStatus.sending}`;
const BATCH = 1000;

/**
 * Svix's bulk operations. Like replay (replay.ts), every write re-checks its condition in the
 * statement that writes, so a row queued or leased meanwhile is never touched, and repeating a call
 * while its deliveries are still queued sends nothing twice. Walks are keyset walks in id order, in
 * batches, each batch its own transaction.
 */
export function createBulkOperationStore(ctx: SqlContext): BulkOperationStore {
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
    async replayFiltered(endpointId, filter, now) {
      const end = idBoundary('delivery', filter.until);
      let cursor = idBoundary('delivery', filter.since);
      let inclusive = true;
      let total = 0;
      for (;;) {
        const where = conditions();
        add(where, 'd.endpoint_id = ?', endpointId);
        add(where, `d.id ${inclusive ? '>=' : '>'} ?`, cursor);
        add(where, 'd.id < ?', end);
        add(where, `d.status IN (${FINAL})`);
        if (filter.status !== undefined) add(where, 'd.status = ?', filter.status);
        if (filter.eventTypes && filter.eventTypes.length > 0)
          add(where, `m.event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
        if (filter.channel !== undefined)
          add(where, driver.dialect.jsonArrayContains('m.channels'), filter.channel);
        if (filter.tag !== undefined) add(where, driver.dialect.jsonArrayContains('m.tags'), filter.tag);
        if (filter.statusCodeClass !== undefined)
          add(
            where,
            `EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id
               AND a.response_status_code >= ? AND a.response_status_code < ?)`,
            filter.statusCodeClass,
            filter.statusCodeClass + 100,
          );
        const params: SqlValue[] = [
          MessageStatus.pending,
          now,
          TriggerType.manual,
          now,
          ...where.params,
          BATCH,
        ];
        const ids = await makeDue(async (tx) => {
          const rows = await tx.query<{ id: string }>(
            `UPDATE deliveries
             SET status = ?, next_attempt_at = ?, trigger_type = ?, lease_owner = NULL, updated_at = ?
             WHERE id IN (SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.msg_id
                          WHERE ${where.where.join(' AND ')} ORDER BY d.id LIMIT ?)
               AND status IN (${FINAL})
             RETURNING id`,
            params,
          );
          return { changed: rows.length, value: rows.map((row) => row.id) };
        });
        total += ids.length;
        if (ids.length < BATCH) return total;
        cursor = ids.reduce((max, id) => (id > max ? id : max));
        inclusive = false;
      }
    },

    async replayMissing(appId, endpointId, since, until, now) {
      const row = await first<EndpointRow>(driver, 'SELECT * FROM endpoints WHERE app_id = ? AND id = ?', [
        appId,
        endpointId,
      ]);
      if (!row) return 0;
      // The endpoint's filters decide what it would have heard; disabled or not, it is asked for.
      const endpoint = { ...toEndpoint(row), disabled: false };
      const end = idBoundary('message', until);
      let cursor = idBoundary('message', since);
      let inclusive = true;
      let total = 0;
      for (;;) {
        const messages = await driver.query<{ id: string; event_type: string; channels: string | null }>(
          `SELECT m.id, m.event_type, m.channels FROM messages m
           WHERE m.app_id = ? AND m.id ${inclusive ? '>=' : '>'} ? AND m.id < ? AND m.payload IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.endpoint_id = ?)
           ORDER BY m.id LIMIT ?`,
          [appId, cursor, end, endpointId, BATCH],
        );
        const wanted = messages.filter((message) =>
          endpointMatches(endpoint, {
            eventType: message.event_type,
            channels: message.channels === null ? null : (JSON.parse(message.channels) as string[]),
          }),
        );
        if (wanted.length > 0) {
          total += await makeDue(async (tx) => {
            let changed = 0;
            for (const message of wanted) {
              changed += await tx.run(
                `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, trigger_type,
                   created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id, endpoint_id) DO NOTHING`,
                [
                  newId('delivery', now),
                  appId,
                  message.id,
                  endpointId,
                  MessageStatus.pending,
                  now,
                  TriggerType.manual,
                  now,
                  now,
                ],
              );
            }
            return { changed, value: changed };
          });
        }
        const last = messages.at(-1);
        if (messages.length < BATCH || !last) return total;
        cursor = last.id;
        inclusive = false;
      }
    },

    expungeAppPayloads(appId) {
      return driver.transaction(async (tx) => {
        await tx.run(
          `UPDATE deliveries SET status = ${MessageStatus.canceled}, next_attempt_at = NULL, updated_at = ?
           WHERE app_id = ? AND status IN (${QUEUED}) AND lease_owner IS NULL`,
          [Date.now(), appId],
        );
        return tx.run('UPDATE messages SET payload = NULL WHERE app_id = ? AND payload IS NOT NULL', [appId]);
      });
    },

    async expungePayloads(appId, msgIds) {
      if (msgIds.length === 0) return [];
      return driver.transaction(async (tx) => {
        const list = placeholders(msgIds.length);
        await tx.run(
          `UPDATE deliveries SET status = ${MessageStatus.canceled}, next_attempt_at = NULL, updated_at = ?
           WHERE app_id = ? AND msg_id IN (${list}) AND status IN (${QUEUED}) AND lease_owner IS NULL`,
          [Date.now(), appId, ...msgIds],
        );
        const rows = await tx.query<{ id: string }>(
          `UPDATE messages SET payload = NULL WHERE app_id = ? AND id IN (${list}) RETURNING id`,
          [appId, ...msgIds],
        );
        return rows.map((row) => row.id);
      });
    },
  };
}
