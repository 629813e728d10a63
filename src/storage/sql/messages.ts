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
import {
  type ArrayColumn,
  arrayParams,
  first,
  placeholders,
  type SqlDialect,
  type SqlExecutor,
  type SqlValue,
} from './driver.ts';
import { createGroupCommit, type GroupCommit } from './group-commit.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import { columns, type MessageRow, messageValues, toMessage } from './rows.ts';

const COLUMNS = columns.messages.join(', ');
/** Deliveries per INSERT: one round trip for a typical fan-out, well under Postgres' parameter limit. */
const DELIVERY_CHUNK = 200;
/**
 * Most payload characters in one set-based INSERT: a typical batch is one statement, while a batch of
 * large payloads stays far from the string and parameter size limits of Node and PostgreSQL.
 */
const SET_BASED_PAYLOAD_BYTES = 16 * 1024 * 1024;

const MESSAGE_ARRAYS: readonly ArrayColumn[] = [
  ['id', 'text'],
  ['app_id', 'text'],
  ['uid', 'text'],
  ['event_type', 'text'],
  ['channels', 'text'],
  ['payload', 'text'],
  ['payload_expires_at', 'bigint'],
  ['created_at', 'bigint'],
  ['tags', 'text'],
  ['deliver_at', 'bigint'],
];
const DELIVERY_ARRAYS: readonly ArrayColumn[] = [
  ['id', 'text'],
  ['app_id', 'text'],
  ['msg_id', 'text'],
  ['endpoint_id', 'text'],
  ['next_attempt_at', 'bigint'],
  ['created_at', 'bigint'],
];

/** A new delivery is first due at the message's `deliverAt` (scheduled delivery), else at once. */
function firstDueAt(message: MessageRecord): number {
  return message.deliverAt ?? message.createdAt;
}
const KEY_ARRAYS: readonly ArrayColumn[] = [
  ['app_id', 'text'],
  ['uid', 'text'],
];

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
        const out = driver.dialect.arrayRows
          ? await ingestSetBased(tx, items, driver.dialect.arrayRows)
          : await ingestRowByRow(tx, items);
        newWork = out.some(
          (result, index) => result.kind === 'created' && items[index]!.endpointIds.length > 0,
        );
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
      if (filter.tag !== undefined) add(where, driver.dialect.jsonArrayContains('tags'), filter.tag);
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

async function ingestRowByRow(tx: SqlExecutor, items: readonly NewMessage[]): Promise<IngestResult[]> {
  const out: IngestResult[] = [];
  for (const item of items) out.push(await ingestOne(tx, item));
  return out;
}

/**
 * The whole batch in a constant number of statements: one INSERT of the messages, one SELECT of the
 * existing rows behind any eventId that was already taken, one INSERT of the deliveries. Results are
 * those of `ingestOne` run item by item: the first of several items with one eventId wins (the batch is
 * inserted in a stable order), the others are its duplicates; an item whose id clashes without an
 * eventId match throws, failing the batch so that the group commit retries its items alone.
 */
async function ingestSetBased(
  tx: SqlExecutor,
  items: readonly NewMessage[],
  arrayRows: NonNullable<SqlDialect['arrayRows']>,
): Promise<IngestResult[]> {
  // Sorted by eventId, so concurrent batches (other flushes, other processes) wait for each other's
  // uncommitted eventIds in one order and cannot deadlock; the sort is stable, so among equal eventIds
  // the first submitted still wins.
  const order = items.map((_, index) => index).sort((a, b) => compareKeys(items[a]!, items[b]!) || a - b);
  const messages = order.map((index) => items[index]!.message);
  const insertedIds = new Set<string>();
  for (const chunk of byPayloadSize(messages)) {
    const inserted = await tx.query<{ id: string }>(
      `INSERT INTO messages (${COLUMNS}) SELECT ${COLUMNS} FROM ${arrayRows('v', MESSAGE_ARRAYS)}
       ON CONFLICT DO NOTHING RETURNING id`,
      arrayParams(chunk, MESSAGE_ARRAYS.length, messageValues),
    );
    for (const row of inserted) insertedIds.add(row.id);
  }
  const results: (IngestResult | undefined)[] = new Array(items.length);
  const skipped: number[] = [];
  for (const index of order) {
    const message = items[index]!.message;
    // `delete`: when two items carry one id, only the first was inserted.
    if (insertedIds.delete(message.id)) results[index] = { kind: 'created', message };
    else skipped.push(index);
  }

  if (skipped.length > 0) {
    const keyed = skipped.map((index) => items[index]!.message).filter((message) => message.uid !== null);
    const existing =
      keyed.length === 0
        ? []
        : await tx.query<MessageRow>(
            `SELECT ${COLUMNS} FROM messages WHERE (app_id, uid) IN
               (SELECT app_id, uid FROM ${arrayRows('k', KEY_ARRAYS)})`,
            arrayParams(keyed, KEY_ARRAYS.length, (message) => [message.appId, message.uid]),
          );
    const byKey = new Map(existing.map((row) => [messageKey(row.app_id, row.uid), row]));
    for (const index of skipped) {
      const message = items[index]!.message;
      const row = message.uid === null ? undefined : byKey.get(messageKey(message.appId, message.uid));
      if (!row) throw new UniqueViolation(`message id ${message.id} already exists`);
      results[index] = { kind: 'duplicate', message: toMessage(row) };
    }
  }

  const deliveries: SqlValue[][] = [];
  for (const [index, item] of items.entries()) {
    if (results[index]?.kind !== 'created') continue;
    const message = item.message;
    for (const endpointId of new Set(item.endpointIds))
      deliveries.push([
        newId('delivery'),
        message.appId,
        message.id,
        endpointId,
        firstDueAt(message),
        message.createdAt,
      ]);
  }
  if (deliveries.length > 0)
    await tx.run(
      `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
       SELECT id, app_id, msg_id, endpoint_id, ${MessageStatus.pending}, next_attempt_at, created_at, created_at
       FROM ${arrayRows('v', DELIVERY_ARRAYS)}`,
      arrayParams(deliveries, DELIVERY_ARRAYS.length, (row) => row),
    );
  return results as IngestResult[];
}

/** Splits a batch so no one statement carries more than SET_BASED_PAYLOAD_BYTES of payload. */
function byPayloadSize(messages: readonly MessageRecord[]): MessageRecord[][] {
  const chunks: MessageRecord[][] = [[]];
  let bytes = 0;
  for (const message of messages) {
    const size = message.payload?.length ?? 0;
    if (bytes + size > SET_BASED_PAYLOAD_BYTES && bytes > 0) {
      chunks.push([]);
      bytes = 0;
    }
    chunks.at(-1)?.push(message);
    bytes += size;
  }
  return chunks;
}

function messageKey(appId: string, uid: string | null): string {
  return `${appId}\u0000${uid}`;
}

function compareKeys(a: NewMessage, b: NewMessage): number {
  const x = a.message;
  const y = b.message;
  if (x.appId !== y.appId) return x.appId < y.appId ? -1 : 1;
  if (x.uid === y.uid) return 0;
  if (x.uid === null) return -1;
  if (y.uid === null) return 1;
  return x.uid < y.uid ? -1 : 1;
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
        firstDueAt(message),
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
