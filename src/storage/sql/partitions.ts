import { idBoundary, idTime } from '../../domain/ids.ts';
import { errorCodeOf } from '../../errors/coerce.ts';
import type { PartitionReport } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, type SqlExecutor } from './driver.ts';

/**
 * The message history's life cycle: on PostgreSQL (`dialect.timePartitions`, migration 0009)
 * messages, deliveries and attempts are RANGE partitions by message id, which is a range of time, and
 * retention drops whole partitions; on SQLite it deletes expired messages row by row.
 *
 *     partitions of messages (deliveries and attempts alike, same bounds and suffix):
 *       messages_history   MINVALUE … migration day    rows older than schema 9
 *       messages_pYYYYMMDD day … day + span            made ahead, spanning retention / 15, ≥ 1 day
 *       messages_default   everything else             an insert never fails for want of a partition
 *
 * `maintain` (one process at a time, under an advisory lock) creates partitions until AHEAD_MS past
 * now, and drops each partition whose upper bound is past the retention cutoff, its attempts' and
 * deliveries' partitions first (they reference it), then its eventIds (message_uids, by msg_id range),
 * then the partition. Rows in history and default partitions that are older than the cutoff while the
 * partition as a whole is not are deleted by `purgeMessagesBefore`, as SQLite's rows are. A day whose
 * messages already landed in the default partition (no worker ran for AHEAD_MS) gets no partition of
 * its own: new ranges start after the newest id there.
 *
 * DDL on a partitioned table takes an ACCESS EXCLUSIVE lock on it. Each step (one new range, or one
 * dropped range, on the three tables) is a transaction that first locks the three tables with a short
 * lock_timeout, below PostgreSQL's deadlock_timeout: behind a long transaction it gives up and retries
 * at the next run rather than queueing ingest and claims behind it, and it cannot hold one table long
 * enough for a transaction waiting on it to be picked as a deadlock victim.
 */

const DAY_MS = 86_400_000;
/**
 * Partitions exist at least this far ahead of now: days without any worker still miss none (and the
 * default partition takes what comes later). Not more, since statements that cannot name a partition
 * visit the empty future ones too.
 */
export const AHEAD_MS = 3 * DAY_MS;
/**
 * Retention / PARTITIONS_PER_RETENTION is a partition's span: about 15 partitions in the window, so a
 * message outlives its retention by at most a fifteenth of it (90 days: 6-day partitions, kept up to
 * 96 days), while the claim and the other statements that visit every partition visit about 20.
 */
const PARTITIONS_PER_RETENTION = 15;
/** The span without a retention (history kept forever): 30 days, 12 partitions a year. */
const MAX_SPAN_DAYS = 30;
/** "Hookyard maintaining partitions" among the database's advisory locks (7206201 is migrating). */
const MAINTENANCE_LOCK = 7206202;
const LOCK_TIMEOUT = '250ms';
const LOCK_NOT_AVAILABLE = '55P03';
const TABLES = ['messages', 'deliveries', 'attempts'] as const;

/** One partition of messages as the catalog describes it; bounds in ms, null for MINVALUE / default. */
export interface PartitionInfo {
  name: string;
  suffix: string;
  from: number | null;
  to: number | null;
  isDefault: boolean;
}

/** Days in one new partition for a retention of `keepMs` (undefined: kept forever). */
export function spanDays(keepMs: number | undefined): number {
  if (keepMs === undefined) return MAX_SPAN_DAYS;
  return Math.min(MAX_SPAN_DAYS, Math.max(1, Math.floor(keepMs / DAY_MS / PARTITIONS_PER_RETENTION)));
}

/** `messages_p20261201` for a partition starting at that UTC day. */
export function partitionSuffix(dayMs: number): string {
  return `p${new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export interface PartitionMaintainer {
  maintain(now: number, keepMs: number | undefined): Promise<PartitionReport>;
  purgeMessagesBefore(cutoff: number, limit: number): Promise<number>;
  /** The partitions of messages, oldest first, default last (for tests and operators). */
  list(): Promise<PartitionInfo[]>;
}

export function createPartitionMaintainer(ctx: SqlContext): PartitionMaintainer {
  const { driver } = ctx;

  async function list(executor: SqlExecutor = driver): Promise<PartitionInfo[]> {
    const rows = await executor.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'messages'::regclass`,
    );
    return rows
      .map((row) => parsePartition(row.name, row.bound))
      .sort((a, b) => Number(a.isDefault) - Number(b.isDefault) || (a.from ?? -1) - (b.from ?? -1));
  }

  /**
   * One step in its own transaction, if this process holds the maintenance lock and gets the tables'
   * locks in time; false when it did not run.
   */
  async function step(fn: (tx: SqlExecutor, partitions: PartitionInfo[]) => Promise<boolean>) {
    try {
      return await driver.transaction(async (tx) => {
        const lock = await first<{ locked: boolean }>(
          tx,
          // Per schema: deployments (and tests) sharing a database in different schemas do not wait.
          `SELECT pg_try_advisory_xact_lock(${MAINTENANCE_LOCK}, hashtext(current_schema())) AS locked`,
        );
        if (!lock?.locked) return false;
        await tx.run(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        await tx.run(`LOCK TABLE ${TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE`);
        return fn(tx, await list(tx));
      });
    } catch (error) {
      if (errorCodeOf(error) === LOCK_NOT_AVAILABLE) return false;
      throw error;
    }
  }

  async function createNext(now: number, keepMs: number | undefined): Promise<boolean> {
    return step(async (tx, partitions) => {
      const ranged = partitions.filter((partition) => !partition.isDefault);
      let start = Math.max(...ranged.map((partition) => partition.to ?? 0), startOfDay(now));
      if (start >= now + AHEAD_MS) return false;
      // A range must not take rows the default partition holds already.
      const newest = await first<{ id: string | null }>(tx, 'SELECT MAX(id) AS id FROM messages_default');
      const newestMs = newest?.id ? idTime(newest.id) : undefined;
      if (newestMs !== undefined && newestMs >= start) start = startOfDay(newestMs) + DAY_MS;
      const end = start + spanDays(keepMs) * DAY_MS;
      const suffix = partitionSuffix(start);
      for (const table of TABLES)
        await tx.run(
          `CREATE TABLE ${table}_${suffix} PARTITION OF ${table}
           FOR VALUES FROM ('${idBoundary('message', start)}') TO ('${idBoundary('message', end)}')`,
        );
      return true;
    });
  }

  async function dropOldest(cutoff: number): Promise<boolean> {
    return step(async (tx, partitions) => {
      const expired = partitions.find(
        (partition) => !partition.isDefault && partition.to !== null && partition.to <= cutoff,
      );
      if (!expired) return false;
      // Attempts, deliveries, eventIds, then the messages: never a delivery without its message.
      for (const table of ['attempts', 'deliveries'] as const) {
        await tx.run(`ALTER TABLE ${table} DETACH PARTITION ${table}_${expired.suffix}`);
        await tx.run(`DROP TABLE ${table}_${expired.suffix}`);
      }
      const to = idBoundary('message', expired.to ?? cutoff);
      if (expired.from === null) await tx.run('DELETE FROM message_uids WHERE msg_id < ?', [to]);
      else
        await tx.run('DELETE FROM message_uids WHERE msg_id >= ? AND msg_id < ?', [
          idBoundary('message', expired.from),
          to,
        ]);
      await tx.run(`ALTER TABLE messages DETACH PARTITION ${expired.name}`);
      await tx.run(`DROP TABLE ${expired.name}`);
      return true;
    });
  }

  return {
    list: () => list(),

    async maintain(now, keepMs) {
      const report: PartitionReport = { created: 0, dropped: 0 };
      if (!driver.dialect.timePartitions) return report;
      // Bounded loops: a step that could not run (lock taken, tables busy) ends the call.
      for (let i = 0; i < 64 && (await createNext(now, keepMs)); i++) report.created++;
      if (keepMs !== undefined)
        for (let i = 0; i < 64 && (await dropOldest(now - keepMs)); i++) report.dropped++;
      return report;
    },

    async purgeMessagesBefore(cutoff, limit) {
      const bound = idBoundary('message', cutoff);
      if (!driver.dialect.timePartitions)
        return driver.run(
          'DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE id < ? ORDER BY id LIMIT ?)',
          [bound, limit],
        );
      // Only the partitions no drop removes while they also hold newer rows. A message's deliveries
      // and attempts are in the partitions of the same suffix (same bounds); no foreign key cascades
      // to them (migration 0009), so the statement deletes them, and the eventIds.
      let total = 0;
      for (const partition of await list()) {
        if (partition.from !== null && !partition.isDefault) continue;
        const { suffix } = partition;
        const row = await first<{ count: number | string }>(
          driver,
          `WITH gone AS (
             DELETE FROM messages_${suffix} WHERE id IN (
               SELECT id FROM messages_${suffix} WHERE id < ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
             RETURNING id),
           d AS (DELETE FROM deliveries_${suffix} WHERE msg_id IN (SELECT id FROM gone)),
           a AS (DELETE FROM attempts_${suffix} WHERE msg_id IN (SELECT id FROM gone)),
           u AS (DELETE FROM message_uids WHERE msg_id IN (SELECT id FROM gone))
           SELECT COUNT(*) AS count FROM gone`,
          [bound, limit - total],
        );
        total += Number(row?.count ?? 0);
        if (total >= limit) break;
      }
      return total;
    },
  };
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `FOR VALUES FROM ('msg_…') TO ('msg_…')`, `FROM (MINVALUE) …`, or `DEFAULT`. */
export function parsePartition(name: string, bound: string): PartitionInfo {
  const suffix = name.slice('messages_'.length);
  if (bound === 'DEFAULT') return { name, suffix, from: null, to: null, isDefault: true };
  const match = /FROM \((.+?)\) TO \((.+?)\)/.exec(bound);
  const time = (value: string | undefined) =>
    value === undefined || value === 'MINVALUE' || value === 'MAXVALUE'
      ? null
      : (idTime(value.replace(/^'|'$/g, '')) ?? null);
  return { name, suffix, from: time(match?.[1]), to: time(match?.[2]), isDefault: false };
}
