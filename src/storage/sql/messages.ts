import { newId } from '../../domain/ids.ts';
import { events } from '../../observability/events.ts';
import {
  type IngestResult,
  type MessageRecord,
  type MessageStore,
  type NewMessage,
  UniqueViolation,
} from '../contract.ts';
import { type BatchSource, columnList, queryBatch } from './batch.ts';
import type { SqlContext } from './context.ts';
import type { NewDelivery } from './delivery-transitions.ts';
import { first, placeholders, prepared, type SqlDialect, type SqlExecutor } from './driver.ts';
import type { EndpointPolicies } from './endpoint-state.ts';
import { createGroupCommit, type GroupCommit } from './group-commit.ts';
import { type IngestHandOff, startHandOff } from './ingest-hand-off.ts';
import { createOrderedTransitions, type OrderedTransitions, type QueuedRow } from './ordered-transitions.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import { columns, type MessageRow, messageValues, toMessage } from './rows.ts';

const COLUMNS = columns.messages.join(', ');
/**
 * Most payload characters in one batch statement: a typical batch is one statement, while a batch of
 * large payloads stays far from the string and parameter size limits of Node and PostgreSQL.
 */
const BATCH_PAYLOAD_BYTES = 16 * 1024 * 1024;

const MESSAGE: BatchSource = {
  alias: 'v',
  columns: [
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
    ['trace_context', 'text'],
  ],
};
const MESSAGE_KEY: BatchSource = {
  alias: 'k',
  columns: [
    ['app_id', 'text'],
    ['uid', 'text'],
  ],
};

export interface SqlMessageStore extends MessageStore {
  /** Lets pending ingests commit before the database closes. */
  drain(): Promise<void>;
}

export function createMessageStore(ctx: SqlContext, policies: EndpointPolicies): SqlMessageStore {
  const { driver } = ctx;
  const ordered = createOrderedTransitions(driver);

  const batcher: GroupCommit<NewMessage, IngestResult> = createGroupCommit({
    ...ctx.groupCommit,
    kind: 'ingest',
    async commit(items) {
      let newWork = false;
      let newOrdered = false;
      const taker = ctx.ingestTaker();
      const handOff = taker && startHandOff(ctx, policies, taker, items, Date.now());
      let committed = false;
      try {
        const results = await driver.transaction(async (tx) => {
          const { results: out, queued } = await ingestBatch(ctx, ordered, tx, items, handOff);
          // Deliveries handed off and admitted need no claim; any other new one (queued, or postponed
          // or held by the gate) is work for the claim loops.
          newWork = queued;
          newOrdered = out.some(
            (result, index) => result.kind === 'created' && (items[index]!.ordered?.length ?? 0) > 0,
          );
          if (newWork) await ctx.announceWork(tx);
          if (newOrdered) await ctx.announceOrderedWork(tx);
          return out;
        });
        committed = true;
        if (newWork) ctx.wakeLocal();
        if (newOrdered) ctx.wakeOrderedLocal();
        if (events.messageIngested.hasSubscribers) publishIngested(items, results);
        return results;
      } finally {
        handOff?.settle(committed);
      }
    },
  });

  return {
    ingest: (item) => batcher.submit(item),
    drain: () => batcher.drain(),

    async get(appId, idOrUid) {
      // By id first, then by eventId: each lookup names one partition on PostgreSQL, where an
      // `id = ? OR uid = ?` would probe every partition.
      const byId = await first<MessageRow>(
        driver,
        `SELECT ${COLUMNS} FROM messages WHERE app_id = ? AND id = ?`,
        [appId, idOrUid],
      );
      if (byId) return toMessage(byId);
      const [byUid] = await byEventIds(driver, driver.dialect, [[appId, idOrUid]]);
      return byUid && toMessage(byUid);
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

/**
 * The whole batch, the same way on every backend: insert the messages (a taken id or eventId is
 * skipped), read the rows behind any eventId that was already taken, insert the new messages'
 * deliveries. The result is that of ingesting the items one by one: the first of several items with
 * one eventId wins (the batch is inserted in a stable order), the others are its duplicates; an item
 * whose id clashes without an eventId match throws, failing the batch so that the group commit
 * retries its items alone. `ON CONFLICT DO NOTHING` makes the eventId check race-free across
 * processes: a concurrent insert of the same uid waits for the other transaction, then finds its row.
 */
async function ingestBatch(
  ctx: SqlContext,
  ordered: OrderedTransitions,
  tx: SqlExecutor,
  items: readonly NewMessage[],
  handOff: IngestHandOff | undefined,
): Promise<{ results: IngestResult[]; queued: boolean }> {
  const { dialect } = ctx.driver;
  // Sorted by eventId, so concurrent batches (other flushes, other processes) wait for each other's
  // uncommitted eventIds in one order and cannot deadlock; the sort is stable, so among equal eventIds
  // the first submitted still wins.
  const order = items.map((_, index) => index).sort((a, b) => compareKeys(items[a]!, items[b]!) || a - b);
  const messages = order.map((index) => items[index]!.message);
  const insertedIds = new Set<string>();
  for (const chunk of byPayloadSize(messages)) {
    const inserted = await queryBatch<{ id: string }>(
      tx,
      dialect,
      MESSAGE,
      chunk.map(messageValues),
      (rows) =>
        prepared(
          `INSERT INTO messages (${columnList(MESSAGE)}) ${rows.insert} ON CONFLICT DO NOTHING RETURNING id`,
        ),
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
    const existing = await byEventIds(
      tx,
      dialect,
      keyed.map((message) => [message.appId, message.uid]),
    );
    const byKey = new Map(existing.map((row) => [messageKey(row.app_id, row.uid), row]));
    for (const index of skipped) {
      const message = items[index]!.message;
      const row = message.uid === null ? undefined : byKey.get(messageKey(message.appId, message.uid));
      if (!row) throw new UniqueViolation(`message id ${message.id} already exists`);
      results[index] = { kind: 'duplicate', message: toMessage(row) };
    }
  }

  const deliveries: NewDelivery[] = [];
  for (const [index, item] of items.entries()) {
    if (results[index]?.kind !== 'created') continue;
    const { appId, id: msgId, createdAt, deliverAt } = item.message;
    // A scheduled message (deliverAt) has its deliveries first due then rather than at once.
    const dueAt = deliverAt ?? createdAt;
    for (const endpointId of new Set(item.endpointIds))
      deliveries.push({ id: newId('delivery'), appId, msgId, endpointId, createdAt, dueAt });
  }
  handOff?.lease(deliveries);
  await ctx.transitions.insertPending(tx, deliveries);
  const admitted = handOff ? await handOff.gate(tx) : 0;
  if (items.some((item) => (item.ordered?.length ?? 0) > 0)) await queueOrdered(ordered, tx, items, results);
  return { results: results as IngestResult[], queued: deliveries.length > admitted };
}

/**
 * The created messages queued for their ordered destinations, numbered in submission order. Each
 * destination's numbers come from one upsert of its `fifo_state` row, in endpoint-id order so that
 * concurrent batches lock those rows in one order and cannot deadlock.
 */
async function queueOrdered(
  ordered: OrderedTransitions,
  tx: SqlExecutor,
  items: readonly NewMessage[],
  results: readonly (IngestResult | undefined)[],
): Promise<void> {
  // An endpoint belongs to one application, so its entry takes the app of its first message.
  const byEndpoint = new Map<string, { appId: string; batchSize: number; msgIds: string[] }>();
  for (const [index, item] of items.entries()) {
    if (results[index]?.kind !== 'created') continue;
    for (const target of item.ordered ?? []) {
      const entry = byEndpoint.get(target.endpointId) ?? {
        appId: item.message.appId,
        batchSize: target.batchSize,
        msgIds: [],
      };
      if (!entry.msgIds.includes(item.message.id)) entry.msgIds.push(item.message.id);
      byEndpoint.set(target.endpointId, entry);
    }
  }
  const rows: QueuedRow[] = [];
  // Due from the batch's acceptance time (the clock the messages were stamped with).
  const now = Math.max(...items.map((item) => item.message.createdAt));
  for (const endpointId of [...byEndpoint.keys()].sort()) {
    const { appId, batchSize, msgIds } = byEndpoint.get(endpointId)!;
    const last = await ordered.allocate(tx, { appId, endpointId }, msgIds.length, batchSize, now);
    msgIds.forEach((msgId, index) => {
      rows.push({ endpointId, appId, seq: last - msgIds.length + 1 + index, msgId });
    });
  }
  await ordered.enqueue(tx, rows);
}

/**
 * The messages with these (app_id, uid) keys. Where eventIds live in message_uids (partitioned
 * history), their ids come from there and the messages by id, pruned to their partitions; a join of
 * the keys against messages would be planned against every partition.
 */
async function byEventIds(
  tx: SqlExecutor,
  dialect: SqlDialect,
  keys: readonly (readonly [string, string | null])[],
): Promise<MessageRow[]> {
  if (keys.length === 0) return [];
  if (!dialect.timePartitions)
    return queryBatch<MessageRow>(
      tx,
      dialect,
      MESSAGE_KEY,
      keys,
      (rows) =>
        `SELECT ${COLUMNS} FROM messages WHERE (app_id, uid) IN (SELECT app_id, uid FROM ${rows.from})`,
    );
  const ids = await queryBatch<{ msg_id: string }>(
    tx,
    dialect,
    MESSAGE_KEY,
    keys,
    (rows) => `SELECT msg_id FROM message_uids WHERE (app_id, uid) IN (SELECT app_id, uid FROM ${rows.from})`,
  );
  if (ids.length === 0) return [];
  const rows = await tx.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE ${dialect.anyOf('id')}`, [
    dialect.anyOfParam(ids.map((row) => row.msg_id)),
  ]);
  // Only a message that carries the eventId: an insert whose id clashed with another message's
  // claimed its eventId for that id until its transaction rolls back, and must not find that message.
  const wanted = new Set(keys.map(([appId, uid]) => messageKey(appId, uid)));
  return rows.filter((row) => wanted.has(messageKey(row.app_id, row.uid)));
}

/** Splits a batch so no one statement carries more than BATCH_PAYLOAD_BYTES of payload. */
function byPayloadSize(messages: readonly MessageRecord[]): MessageRecord[][] {
  const chunks: MessageRecord[][] = [[]];
  let bytes = 0;
  for (const message of messages) {
    const size = message.payload?.length ?? 0;
    if (bytes + size > BATCH_PAYLOAD_BYTES && bytes > 0) {
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

function publishIngested(items: readonly NewMessage[], results: readonly IngestResult[]): void {
  results.forEach((result, index) => {
    if (result.kind !== 'created') return;
    const { message } = result;
    const deliveries = items[index]?.endpointIds.length ?? 0;
    events.messageIngested.publish({ appId: message.appId, msgId: message.id, deliveries });
  });
}
