import type { AttemptListFilter, AttemptRecord, AttemptStore, PageQuery } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, addTimeRange, type Conditions, conditions, keysetPage } from './paging.ts';
import { type AttemptRow, columns, qualified, toAttempt } from './rows.ts';

const COLUMNS = qualified('a', columns.attempts);

export function createAttemptStore(ctx: SqlContext): AttemptStore {
  const { driver } = ctx;

  function list(where: Conditions, filter: AttemptListFilter, page: PageQuery) {
    addTimeRange(where, 'a.id', 'attempt', filter);
    if (filter.status !== undefined) add(where, 'a.status = ?', filter.status);
    if (filter.statusCodeClass !== undefined)
      add(
        where,
        'a.response_status_code >= ? AND a.response_status_code < ?',
        filter.statusCodeClass,
        filter.statusCodeClass + 100,
      );
    if (filter.endpointId !== undefined) add(where, 'a.endpoint_id = ?', filter.endpointId);
    // Event type and channel belong to the message: join it only when a filter needs it.
    const needsMessage =
      (filter.eventTypes?.length ?? 0) > 0 || filter.channel !== undefined || filter.tag !== undefined;
    if (filter.tag !== undefined) add(where, driver.dialect.jsonArrayContains('m.tags'), filter.tag);
    if (filter.eventTypes && filter.eventTypes.length > 0)
      add(where, `m.event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
    if (filter.channel !== undefined)
      add(where, driver.dialect.jsonArrayContains('m.channels'), filter.channel);
    return keysetPage<AttemptRow, AttemptRecord>(driver, {
      select: `SELECT ${COLUMNS} FROM attempts a${needsMessage ? ' JOIN messages m ON m.id = a.msg_id' : ''}`,
      filter: where,
      key: 'a.id',
      page,
      map: toAttempt,
    });
  }

  return {
    async get(appId, msgId, attemptId) {
      const row = await first<AttemptRow>(
        driver,
        `SELECT ${COLUMNS} FROM attempts a WHERE a.app_id = ? AND a.msg_id = ? AND a.id = ?`,
        [appId, msgId, attemptId],
      );
      return row && toAttempt(row);
    },

    listByMessage(appId, msgId, filter, page) {
      const where = conditions();
      add(where, 'a.app_id = ?', appId);
      add(where, 'a.msg_id = ?', msgId);
      return list(where, filter, page);
    },

    listByEndpoint(appId, endpointId, filter, page) {
      const where = conditions();
      add(where, 'a.app_id = ?', appId);
      add(where, 'a.endpoint_id = ?', endpointId);
      return list(where, { ...filter, endpointId: undefined }, page);
    },

    async expungeResponse(appId, msgId, attemptId) {
      const count = await driver.run(
        "UPDATE attempts SET response = '', response_headers = NULL WHERE app_id = ? AND msg_id = ? AND id = ?",
        [appId, msgId, attemptId],
      );
      return count > 0;
    },
  };
}
