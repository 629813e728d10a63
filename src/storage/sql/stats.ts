import { idTime } from '../../domain/ids.ts';
import { LATENCY_BUCKETS, latencyBucket } from '../../domain/latency-histogram.ts';
import {
  type AttemptOutcome,
  type EndpointAlert,
  type EndpointStatsSummary,
  MessageStatus,
  type StatsPoint,
  type StatsStore,
} from '../contract.ts';
import { type BatchSource, columnList, runBatch } from './batch.ts';
import type { SqlContext } from './context.ts';
import { prepared, type SqlDialect, type SqlExecutor, type SqlValue } from './driver.ts';

/**
 * The stats rollup (migration 0006): attempts counted per endpoint per minute by outcome, with a
 * histogram of accepted-to-delivered latency for the successes. `rollUpAttempts` runs inside the
 * completion transaction, so the counts and the attempts they count commit together; it adds a
 * batch's outcomes up in memory first, so a batch costs one upsert row per (endpoint, minute) it
 * touched, in one batch statement (`runBatch`), never a statement per attempt. Readers SUM rows.
 */
const BUCKET_COLUMNS = Array.from({ length: LATENCY_BUCKETS }, (_, index) => `l${index}`);
const VALUE_COLUMNS = ['succeeded', 'failed', 'duration_ms_sum', ...BUCKET_COLUMNS];
const ALL_COLUMNS = ['endpoint_id', 'app_id', 'minute', 'last_attempt_at', ...VALUE_COLUMNS];
const ROLLUP: BatchSource = {
  alias: 'v',
  columns: ALL_COLUMNS.map((name) => [name, name.endsWith('_id') ? 'text' : 'bigint'] as const),
};
const UPSERT_TAIL = `ON CONFLICT (endpoint_id, minute) DO UPDATE SET
  ${VALUE_COLUMNS.map((name) => `${name} = endpoint_stats.${name} + excluded.${name}`).join(', ')},
  last_attempt_at = CASE WHEN excluded.last_attempt_at > endpoint_stats.last_attempt_at
                    THEN excluded.last_attempt_at ELSE endpoint_stats.last_attempt_at END`;
const SUMS = VALUE_COLUMNS.map((name) => `SUM(${name}) AS ${name}`).join(', ');

const MINUTE_MS = 60_000;

interface Rollup {
  endpointId: string;
  appId: string;
  minute: number;
  lastAttemptAt: number;
  values: number[];
}

/** Adds a completion batch's attempts to the rollup, in the caller's transaction. */
export async function rollUpAttempts(
  tx: SqlExecutor,
  dialect: SqlDialect,
  outcomes: readonly AttemptOutcome[],
): Promise<void> {
  const rows = new Map<string, Rollup>();
  for (const { attempt } of outcomes) {
    const finishedAt = attempt.createdAt + attempt.responseDurationMs;
    const minute = Math.floor(finishedAt / MINUTE_MS) * MINUTE_MS;
    const key = `${attempt.endpointId}:${minute}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        endpointId: attempt.endpointId,
        appId: attempt.appId,
        minute,
        lastAttemptAt: finishedAt,
        values: new Array<number>(VALUE_COLUMNS.length).fill(0),
      };
      rows.set(key, row);
    }
    row.lastAttemptAt = Math.max(row.lastAttemptAt, finishedAt);
    const values = row.values;
    values[2] = (values[2] ?? 0) + attempt.responseDurationMs;
    if (attempt.status === MessageStatus.success) {
      values[0] = (values[0] ?? 0) + 1;
      const accepted = idTime(attempt.msgId) ?? attempt.createdAt;
      const bucket = 3 + latencyBucket(Math.max(0, finishedAt - accepted));
      values[bucket] = (values[bucket] ?? 0) + 1;
    } else {
      values[1] = (values[1] ?? 0) + 1;
    }
  }
  if (rows.size === 0) return;
  // Key order: concurrent batches on a multi-writer database take the row locks in the same order.
  const sorted = [...rows.values()].sort((a, b) =>
    a.endpointId === b.endpointId ? a.minute - b.minute : a.endpointId < b.endpointId ? -1 : 1,
  );
  const valuesOf = (row: Rollup): SqlValue[] => [
    row.endpointId,
    row.appId,
    row.minute,
    row.lastAttemptAt,
    ...row.values,
  ];
  await runBatch(tx, dialect, ROLLUP, sorted.map(valuesOf), (rows) =>
    prepared(`INSERT INTO endpoint_stats (${columnList(ROLLUP)}) ${rows.insert} ${UPSERT_TAIL}`),
  );
}

type SumRow = Record<string, number | string | null>;

function sums(row: SumRow): Omit<StatsPoint, 'minute'> {
  const n = (name: string) => Number(row[name] ?? 0);
  return {
    succeeded: n('succeeded'),
    failed: n('failed'),
    durationMsSum: n('duration_ms_sum'),
    latency: BUCKET_COLUMNS.map(n),
  };
}

export function createStatsStore(ctx: SqlContext): StatsStore {
  const { driver } = ctx;

  return {
    async series(scope, since, until, intervalMs = MINUTE_MS) {
      if (!Number.isInteger(intervalMs / MINUTE_MS) || intervalMs <= 0)
        throw new RangeError(`a stats interval is a whole number of minutes, not ${intervalMs} ms`);
      // Grouped by interval here rather than by minute: a day by 15 minutes is 96 rows to hand to
      // JavaScript instead of 1,440, which cost more than the sums themselves.
      const start = intervalMs === MINUTE_MS ? 'minute' : `(minute / ${intervalMs}) * ${intervalMs}`;
      const where = ['minute >= ?', 'minute < ?'];
      const params: SqlValue[] = [since, until];
      if (scope.endpointId !== undefined) {
        where.push('endpoint_id = ?');
        params.push(scope.endpointId);
      } else if (scope.appId !== undefined) {
        where.push('app_id = ?');
        params.push(scope.appId);
      }
      const rows = await driver.query<SumRow>(
        `SELECT ${start} AS start, ${SUMS} FROM endpoint_stats WHERE ${where.join(' AND ')}
         GROUP BY ${start} ORDER BY ${start}`,
        params,
      );
      return rows.map((row) => ({ minute: Number(row['start']), ...sums(row) }));
    },

    async totals(since, until) {
      // Summed along the primary key (endpoint_id, minute), where each endpoint's minutes lie together:
      // through the minute index a day of every endpoint is a row fetch per endpoint-minute, out of
      // order (about 4x slower at 20 endpoints). The recursive part lists the endpoints that have rows,
      // one index seek each (a loose index scan), so deleted endpoints' minutes still count.
      const rows = await driver.query<SumRow>(
        `WITH RECURSIVE e (id) AS (
           SELECT MIN(endpoint_id) FROM endpoint_stats
           UNION ALL
           SELECT (SELECT MIN(endpoint_id) FROM endpoint_stats WHERE endpoint_id > e.id) FROM e WHERE e.id IS NOT NULL
         )
         SELECT ${SUMS} FROM e JOIN endpoint_stats s ON s.endpoint_id = e.id WHERE s.minute >= ? AND s.minute < ?`,
        [since, until],
      );
      return sums(rows[0] ?? {});
    },

    async byEndpoint(appId, since, until) {
      const rows = await driver.query<SumRow>(
        `SELECT endpoint_id, MAX(last_attempt_at) AS last_attempt_at, ${SUMS} FROM endpoint_stats
         WHERE app_id = ? AND minute >= ? AND minute < ? GROUP BY endpoint_id`,
        [appId, since, until],
      );
      return rows.map(
        (row): EndpointStatsSummary => ({
          endpointId: String(row['endpoint_id']),
          lastAttemptAt: row['last_attempt_at'] === null ? null : Number(row['last_attempt_at']),
          ...sums(row),
        }),
      );
    },

    async backlog(now, limit) {
      // Two ranges of deliveries_due (its predicate verbatim), each stopped after `limit` rows.
      const unfinished = `status IN (${MessageStatus.pending}, ${MessageStatus.sending})`;
      const rows = await driver.query<{ due: number | string | null; retries: number | string | null }>(
        `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE ${unfinished} AND next_attempt_at <= ?
                                       LIMIT ?) AS due_rows) AS due,
                (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE ${unfinished} AND next_attempt_at > ?
                                       AND status = ${MessageStatus.sending} LIMIT ?) AS retry_rows) AS retries`,
        [now, limit, now, limit],
      );
      return { due: Number(rows[0]?.due ?? 0), scheduledRetries: Number(rows[0]?.retries ?? 0) };
    },

    async attention(limit) {
      type AlertRow = { id: string; app_id: string; url: string; since: number | string | null };
      const toAlert = (row: AlertRow): EndpointAlert => ({
        appId: row.app_id,
        endpointId: row.id,
        url: row.url,
        since: row.since === null ? null : Number(row.since),
      });
      const [failing, openCircuits, disabled] = await Promise.all([
        driver.query<AlertRow>(
          `SELECT e.id, e.app_id, e.url, s.fail_since AS since FROM endpoint_state s
           JOIN endpoints e ON e.id = s.endpoint_id
           WHERE s.fail_since IS NOT NULL AND e.disabled = 0 ORDER BY s.fail_since LIMIT ?`,
          [limit],
        ),
        driver.query<AlertRow>(
          `SELECT e.id, e.app_id, e.url, s.fail_since AS since FROM endpoint_state s
           JOIN endpoints e ON e.id = s.endpoint_id
           WHERE s.circuit = 'open' AND e.disabled = 0 ORDER BY e.id LIMIT ?`,
          [limit],
        ),
        driver.query<AlertRow>(
          `SELECT id, app_id, url, updated_at AS since FROM endpoints WHERE disabled = 1
           ORDER BY updated_at DESC LIMIT ?`,
          [limit],
        ),
      ]);
      return {
        failing: failing.map(toAlert),
        openCircuits: openCircuits.map(toAlert),
        disabled: disabled.map(toAlert),
      };
    },

    purgeBefore(cutoff, limit) {
      // endpoint_stats has no single-column key: the purge walks (endpoint_id, minute) pairs found
      // through the minute index, at most `limit` per statement.
      return driver.run(
        `DELETE FROM endpoint_stats WHERE (endpoint_id, minute) IN
           (SELECT endpoint_id, minute FROM endpoint_stats WHERE minute < ? ORDER BY minute LIMIT ?)`,
        [cutoff, limit],
      );
    },
  };
}
