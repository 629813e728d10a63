import { newId } from '../../domain/ids.ts';
import {
  type IngestResult,
  type MessageRecord,
  MessageStatus,
  type MessageStore,
  type NewMessage,
  UniqueViolation,
} from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders, type SqlExecutor, type SqlValue } from './driver.ts';
import { createGroupCommit, type GroupCommit } from './group-commit.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import { columns, type MessageRow, messageValues, toMessage } from './rows.ts';

const COLUMNS = columns.messages.join(', ');
/** Deliveries per INSERT: one round trip for a typical fan-out, well under Postgres' parameter limit. */
const DELIVERY_CHUNK = 200;

export interface SqlMessageStore extends MessageStore {
  /** Lets pending ingests commit before the database closes. */
  drain(): Promise<void>;
}

export function createMessageStore(ctx: SqlContext): SqlMessageStore {
  const { driver } = ctx;

  const batcher: GroupCommit<NewMessage, IngestResult> = createGroupCommit({
    ...ctx.groupCommit,
    async commit(items) {
      let newWork = false;
      const results = await driver.transaction(async (tx) => {
        const out: IngestResult[] = [];
        for (const item of items) {
          const result = await ingestOne(tx, item);
          if (result.kind === 'created' && item.endpointIds.length > 0) newWork = true;
          out.push(result);
        }
        if (newWork) await ctx.announceWork(tx);
        return out;
      });
      if (newWork) ctx.wakeLocal();
      return results;
    },
  });

  return {
    ingest: (item) => batcher.submit(item),
    drain: () => batcher.drain(),

    async get(appId, idOrUid) {
      const row = await first<MessageRow>(
        driver,
        `SELECT ${COLUMNS} FROM messages WHERE app_id = ? AND (id = ? OR uid = ?) ORDER BY id = ? DESC LIMIT 1`,
        [appId, idOrUid, idOrUid, idOrUid],
      );
      return row && toMessage(row);
    },

    list(appId, filter, page) {
      const where = conditions();
      add(where, 'app_id = ?', appId);
      addTimeRange(where, 'id', 'message', filter);
      if (filter.eventTypes && filter.eventTypes.length > 0)
        add(where, `event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
      if (filter.channel !== undefined)
        add(where, driver.dialect.jsonArrayContains('channels'), filter.channel);
      return keysetPage<MessageRow, MessageRecord>(driver, {
        select: `SELECT ${COLUMNS} FROM messages`,
        filter: where,
        key: 'id',
        page,
        map: toMessage,
      });
    },

    async expungePayload(appId, msgId) {
      const count = await driver.run('UPDATE messages SET payload = NULL WHERE app_id = ? AND id = ?', [
        appId,
        msgId,
      ]);
      return count > 0;
    },
  };
}

/**
 * `ON CONFLICT DO NOTHING` makes the eventId check race-free across processes: a concurrent insert of
 * the same uid waits for the other transaction, then finds its row instead of failing the batch.
 */
async function ingestOne(tx: SqlExecutor, item: NewMessage): Promise<IngestResult> {
  const message = item.message;
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO messages (${COLUMNS}) VALUES (${placeholders(columns.messages.length)})
     ON CONFLICT DO NOTHING RETURNING id`,
    messageValues(message),
  );
  if (inserted.length === 0) {
    const existing =
      message.uid === null
        ? undefined
        : await first<MessageRow>(tx, `SELECT ${COLUMNS} FROM messages WHERE app_id = ? AND uid = ?`, [
            message.appId,
            message.uid,
          ]);
    if (!existing) throw new UniqueViolation(`message id ${message.id} already exists`);
    return { kind: 'duplicate', message: toMessage(existing) };
  }
  const endpointIds = [...new Set(item.endpointIds)];
  for (let start = 0; start < endpointIds.length; start += DELIVERY_CHUNK) {
    const chunk = endpointIds.slice(start, start + DELIVERY_CHUNK);
    const params: SqlValue[] = [];
    for (const endpointId of chunk) {
      params.push(
        newId('delivery'),
        message.appId,
        message.id,
        endpointId,
        MessageStatus.pending,
        message.createdAt,
        message.createdAt,
        message.createdAt,
      );
    }
    await tx.run(
      `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      params,
    );
  }
  return { kind: 'created', message };
}
