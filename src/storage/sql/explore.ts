import type { AttemptRecord, ExploreStore, MessageRecord } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { placeholders } from './driver.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import { type AttemptRow, columns, type MessageRow, qualified, toAttempt, toMessage } from './rows.ts';

const MESSAGE_COLUMNS = qualified('m', columns.messages);
const ATTEMPT_COLUMNS = qualified('a', columns.attempts);

/**
 * Reads across applications for operators (the dashboard's message explorer and live tail): the
 * Svix API is scoped to one application, these are not. Every query walks a primary key or an index:
 * messages by id (time order), by application (`messages_app`), by eventId (`messages_uid`, migration
 * 0005); a status filter is an EXISTS on `deliveries (msg_id, endpoint_id)`.
 */
export function createExploreStore(ctx: SqlContext): ExploreStore {
  const { driver } = ctx;
  return {
    listMessages(filter, page) {
      const where = conditions();
      if (filter.appId !== undefined) add(where, 'm.app_id = ?', filter.appId);
      addTimeRange(where, 'm.id', 'message', filter);
      if (filter.eventTypes && filter.eventTypes.length > 0)
        add(where, `m.event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
      if (filter.channel !== undefined)
        add(where, driver.dialect.jsonArrayContains('m.channels'), filter.channel);
      if (filter.status !== undefined)
        add(
          where,
          'EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.status = ?)',
          filter.status,
        );
      return keysetPage<MessageRow, MessageRecord>(driver, {
        select: `SELECT ${MESSAGE_COLUMNS} FROM messages m`,
        filter: where,
        key: 'm.id',
        page,
        map: toMessage,
      });
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
