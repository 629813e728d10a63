import { endpointMatches } from '../../domain/filter.ts';
import { idBoundary } from '../../domain/ids.ts';
import type { BulkOperationStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, conditions } from './paging.ts';
import { type EndpointRow, toEndpoint } from './rows.ts';

const BATCH = 1000;

/**
 * Svix's bulk operations. The delivery transitions they make are delivery-transitions.ts
 * (replayFilteredBatch, insertMissing, cancelQueued), each re-checking its condition in the statement
 * that writes, so a row queued or leased meanwhile is never touched and repeating a call while its
 * deliveries are still queued sends nothing twice. Walks are keyset walks in id order, in batches,
 * each batch its own transaction.
 */
export function createBulkOperationStore(ctx: SqlContext): BulkOperationStore {
  const { driver } = ctx;

  return {
    async replayFiltered(endpointId, filter, now) {
      const where = conditions();
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
      const end = idBoundary('delivery', filter.until);
      let cursor = idBoundary('delivery', filter.since);
      let inclusive = true;
      let total = 0;
      for (;;) {
        const range = { cursor, inclusive, end };
        const ids = await ctx.makeDue(async (tx) => {
          const replayed = await ctx.transitions.replayFilteredBatch(
            tx,
            endpointId,
            range,
            where,
            now,
            BATCH,
          );
          return { changed: replayed.length, value: replayed };
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
      const endpoint = { ...toEndpoint(row, ctx.sealer), disabled: false };
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
          const rows = wanted.map((message) => ({ appId, msgId: message.id, endpointId }));
          total += await ctx.makeDue(async (tx) => {
            const made = await ctx.transitions.insertMissing(tx, rows, now);
            return { changed: made, value: made };
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
        await ctx.transitions.cancelQueued(tx, appId, undefined, Date.now());
        return tx.run('UPDATE messages SET payload = NULL WHERE app_id = ? AND payload IS NOT NULL', [appId]);
      });
    },

    async expungePayloads(appId, msgIds) {
      if (msgIds.length === 0) return [];
      return driver.transaction(async (tx) => {
        await ctx.transitions.cancelQueued(tx, appId, msgIds, Date.now());
        const rows = await tx.query<{ id: string }>(
          `UPDATE messages SET payload = NULL WHERE app_id = ? AND id IN (${placeholders(msgIds.length)}) RETURNING id`,
          [appId, ...msgIds],
        );
        return rows.map((row) => row.id);
      });
    },
  };
}
