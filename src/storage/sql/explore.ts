import {
  type AttemptRecord,
  EXPLORE_SCAN_LIMIT,
  type ExploreStore,
  type MessageRecord,
} from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, addTimeRange, type Conditions, conditions, keysetPage } from './paging.ts';
import { type AttemptRow, columns, type MessageRow, qualified, toAttempt, toMessage } from './rows.ts';

const MESSAGE_COLUMNS = qualified('m', columns.messages);
const ATTEMPT_COLUMNS = qualified('a', columns.attempts);

/**
 * Reads across applications for operators (the dashboard's message explorer and live tail): the
 * Svix API is scoped to one application, these are not. Every query walks a primary key or an index:
 * messages by id (time order), by application (`messages_app`), by eventId (`messages_uid`, migration
 * 0007); a status filter is an EXISTS on `deliveries (msg_id, endpoint_id)`.
 *
 * The event-type, channel and status filters are checked on each message of that walk, so a rare
 * match would walk far (a type nobody sends: every message stored). A page therefore examines at most
 * EXPLORE_SCAN_LIMIT candidates: the key of the last one is read first (an index-only walk), bounds
 * the page's query, and is returned as `stoppedAt` when the page did not fill up within it.
 */
export function createExploreStore(ctx: SqlContext): ExploreStore {
  const { driver } = ctx;
  return {
    async listMessages(filter, page) {
      const walk = conditions();
      if (filter.appId !== undefined) add(walk, 'm.app_id = ?', filter.appId);
      addTimeRange(walk, 'm.id', 'message', filter);
      const checks = conditions();
      if (filter.eventTypes && filter.eventTypes.length > 0)
        add(checks, `m.event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
      if (filter.channel !== undefined)
        add(checks, driver.dialect.jsonArrayContains('m.channels'), filter.channel);
      if (filter.status !== undefined)
        add(
          checks,
          'EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.status = ?)',
          filter.status,
        );
      const list = (where: Conditions) =>
        keysetPage<MessageRow, MessageRecord>(driver, {
          select: `SELECT ${MESSAGE_COLUMNS} FROM messages m`,
          filter: where,
          key: 'm.id',
          page,
          map: toMessage,
        });
      const all = { where: [...walk.where, ...checks.where], params: [...walk.params, ...checks.params] };
      if (checks.where.length === 0) return list(all);

      const ascending = page.reverse === true;
      const bound = { where: [...walk.where], params: [...walk.params] };
      if (page.iterator !== undefined) add(bound, `m.id ${ascending ? '>' : '<'} ?`, page.iterator);
      const last = await first<{ id: string }>(
        driver,
        `SELECT m.id FROM messages m${bound.where.length > 0 ? ` WHERE ${bound.where.join(' AND ')}` : ''}
         ORDER BY m.id ${ascending ? 'ASC' : 'DESC'} LIMIT 1 OFFSET ?`,
        [...bound.params, EXPLORE_SCAN_LIMIT - 1],
      );
      // Fewer candidates than the limit: the page may walk them all.
      if (!last) return list(all);
      add(all, `m.id ${ascending ? '<=' : '>='} ?`, last.id);
      const result = await list(all);
      return result.done ? { data: result.data, done: false, stoppedAt: last.id } : result;
    },

    async findMessages(idOrEventId, limit) {
      const rows = await driver.query<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?
         UNION ALL SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.uid = ? AND m.id <> ?
         LIMIT ?`,
        [idOrEventId, idOrEventId, idOrEventId, limit],
      );
      return rows.map(toMessage);
    },

    async messagesAfter(afterId, limit) {
      const rows = await driver.query<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id > ? ORDER BY m.id LIMIT ?`,
        [afterId, limit],
      );
      return rows.map(toMessage);
    },

    async attemptsAfter(afterId, limit) {
      const rows = await driver.query<AttemptRow>(
        `SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.id > ? ORDER BY a.id LIMIT ?`,
        [afterId, limit],
      );
      return rows.map((row): AttemptRecord => toAttempt(row));
    },
  };
}
