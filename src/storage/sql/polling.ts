import type { PollingConsumerRecord, PollingPage, PollingRead, PollingStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, conditions } from './paging.ts';
import { columns, type MessageRow, toMessage } from './rows.ts';

const COLUMNS = columns.messages.join(', ');

interface CommitPlace {
  tx: bigint;
  /** '' = before every message of the transaction. */
  id: string;
}

/** A place this store returned (`<tx>/<id>`); the caller checked its form. */
function parsePlace(place: string): CommitPlace {
  const slash = place.indexOf('/');
  return { tx: BigInt(place.slice(0, slash)), id: place.slice(slash + 1) };
}

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
 * Polling endpoints read the application's messages directly; consumers' positions live in
 * `polling_consumers`. Nothing here touches deliveries.
 *
 * Where rows record their transaction (`dialect.transactionIds`, PostgreSQL's migration 0015) the read
 * is in commit order: by (tx, id) over `messages_commit_order (app_id, tx, id)`, only rows whose
 * transaction is below the oldest one still running (`pg_snapshot_xmin`), taken before the read.
 * Every transaction below that bound has ended, so the read's snapshot holds all their rows, and one
 * that commits later has an id at or above it: nothing can appear before a place already read. The
 * bound is read in its own statement and passed in, which keeps it a plain parameter; an older bound
 * is only more cautious. A transaction that writes and stays open anywhere in the cluster (any
 * database) holds the bound back: reads wait for it, they never pass it.
 *
 * Elsewhere (SQLite: one writing process) the read is by id over `messages_app (app_id, id)`, below
 * the caller's `before` (the ingests this process has in flight).
 */
export function createPollingStore(ctx: SqlContext): PollingStore {
  const { driver } = ctx;

  function filters(appId: string, read: PollingRead) {
    const where = conditions();
    add(where, 'app_id = ?', appId);
    add(where, 'id > ?', read.floor);
    if (read.eventTypes !== null)
      add(where, `event_type IN (${placeholders(read.eventTypes.length)})`, ...read.eventTypes);
    if (read.channel !== undefined) add(where, driver.dialect.jsonArrayContains('channels'), read.channel);
    return where;
  }

  async function byId(appId: string, read: PollingRead): Promise<PollingPage> {
    const where = filters(appId, read);
    if (read.after !== null) add(where, 'id > ?', read.after);
    if (read.before !== null) add(where, 'id < ?', read.before);
    const rows = await driver.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE ${where.where.join(' AND ')} ORDER BY id LIMIT ?`,
      [...where.params, read.limit],
    );
    return { rows: rows.map((row) => ({ message: toMessage(row), place: row.id })), end: null };
  }

  async function byCommit(appId: string, read: PollingRead): Promise<PollingPage> {
    const snapshot = await first<{ xmin: string; xmax: string }>(
      driver,
      `SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax
         FROM (SELECT pg_current_snapshot() AS s) AS current`,
    );
    if (!snapshot) throw new Error('pg_current_snapshot() answered no row');
    const where = filters(appId, read);
    let after: CommitPlace | undefined;
    if (read.after !== null) {
      after = parsePlace(read.after);
      // Every place this database hands out is below the next transaction id.
      if (after.tx > BigInt(snapshot.xmax)) return { rows: [], end: null, unknownPlace: true };
      add(where, '(tx, id) > (?::xid8, ?)', after.tx.toString(), after.id);
    }
    add(where, 'tx < ?::xid8', snapshot.xmin);
    const rows = await driver.query<MessageRow & { tx: string }>(
      `SELECT ${COLUMNS}, tx::text AS tx FROM messages WHERE ${where.where.join(' AND ')}
        ORDER BY tx, id LIMIT ?`,
      [...where.params, read.limit],
    );
    const horizon = BigInt(snapshot.xmin);
    // The bound only grows, so a place above it was not made by this database's reads (a made-up
    // iterator below the next transaction id): the end never moves a read back from it.
    const end =
      rows.length < read.limit && (after === undefined || after.tx < horizon) ? `${horizon}/` : null;
    return {
      rows: rows.map((row) => ({ message: toMessage(row), place: `${row.tx}/${row.id}` })),
      end,
    };
  }

  return {
    order: driver.dialect.transactionIds ? 'commit' : 'id',

    async messagesAfter(appId, read) {
      if (read.eventTypes !== null && read.eventTypes.length === 0) return { rows: [], end: null };
      return driver.dialect.transactionIds ? byCommit(appId, read) : byId(appId, read);
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
        // The row carries its endpoint's application (migration 0016).
        `INSERT INTO polling_consumers
           (endpoint_id, app_id, consumer_id, position, committed_offset, handed, lease_expires_at, updated_at)
         VALUES (?, (SELECT app_id FROM endpoints WHERE id = ?), ?, ?, ?, ?, ?, ?)
         ON CONFLICT (endpoint_id, consumer_id) DO UPDATE SET
           position = excluded.position, committed_offset = excluded.committed_offset,
           handed = excluded.handed, lease_expires_at = excluded.lease_expires_at,
           updated_at = excluded.updated_at`,
        [
          record.endpointId,
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
