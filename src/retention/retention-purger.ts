/**
 * The retention purger: drops message payloads once their `payloadExpiresAt` has passed (set at
 * ingest from `payloadRetentionPeriod`, 90 days by default) and empties attempt response bodies older
 * than HOOKYARD_RESPONSE_RETENTION; those rows are kept, only their content goes, as with the expunge
 * endpoints. With `messageRetention` (HOOKYARD_MESSAGE_RETENTION) whole messages older than that go
 * with their deliveries and attempts: on PostgreSQL by dropping time partitions, which the purger also
 * creates ahead of time whatever the retention (storage/sql/partitions.ts), and row by row elsewhere.
 * With `statsRetention` it also deletes stats-rollup minutes older than that (HOOKYARD_STATS_RETENTION).
 *
 *     idle ──interval──► partitions ──► purging messages ──► purging payloads ──► purging responses
 *                        (create, drop)  │ each purge: batches until one is short, a pause after  │
 *                                        │ every full batch                          ──► stats ──► idle
 *
 * Each batch is one short transaction of at most `batchSize` rows, and a pause follows every full
 * batch, so on SQLite (one writer) ingest and delivery completions get the database between batches
 * and a backlog of millions drains over minutes without ever stalling delivery. Every worker process
 * of a fleet runs one; the store skips rows another process is purging, so they only share the work.
 */
import type { Config } from '../config/settings.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import type { PartitionReport, Storage } from '../storage/contract.ts';

export interface RetentionPurgerDeps {
  readonly storage: Storage;
  readonly config: Pick<Config, 'responseRetention'> &
    Partial<Pick<Config, 'statsRetention' | 'messageRetention'>>;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Between the end of one run and the start of the next; default 5 minutes. */
  readonly intervalMs?: number;
  /** Rows per transaction; default 500. */
  readonly batchSize?: number;
  /** After each full batch; default 100 ms. */
  readonly pauseMs?: number;
}

export interface PurgeCounts {
  /** Partitions (of each of messages, deliveries and attempts) created and dropped. */
  partitions: PartitionReport;
  /** Messages deleted row by row (with their deliveries and attempts). */
  messages: number;
  payloads: number;
  responses: number;
  /** Present when the purger was given a stats retention. */
  stats?: number;
}

export interface RetentionPurger {
  /** Runs once soon, then every interval. */
  start(): void;
  /** One full pass (every expired row), as the timer runs it; for tests and tools. */
  runOnce(): Promise<PurgeCounts>;
  /** Stops after the batch in progress. */
  close(): Promise<void>;
}

const FIRST_RUN_DELAY_MS = 1_000;

export function createRetentionPurger(deps: RetentionPurgerDeps): RetentionPurger {
  const { storage } = deps;
  const logger = deps.logger.child({ component: 'retention' });
  const clock = deps.clock ?? Date.now;
  const intervalMs = deps.intervalMs ?? 5 * 60_000;
  const batchSize = deps.batchSize ?? 500;
  const pauseMs = deps.pauseMs ?? 100;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<PurgeCounts> | undefined;

  async function drain(purge: () => Promise<number>): Promise<number> {
    let total = 0;
    while (!closed) {
      const count = await purge();
      total += count;
      if (count < batchSize) break;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return total;
  }

  async function pass(): Promise<PurgeCounts> {
    const messageRetention = deps.config.messageRetention ?? null;
    // First, so that the purges below never walk rows a partition drop removes at once.
    const partitions = await storage.retention.maintainPartitions(clock(), messageRetention ?? undefined);
    if (partitions.created + partitions.dropped > 0) logger.info(partitions, 'partitions maintained');
    const messages =
      messageRetention === null
        ? 0
        : await drain(() => storage.retention.purgeMessagesBefore(clock() - messageRetention, batchSize));
    const payloads = await drain(() => storage.retention.purgeExpiredPayloads(clock(), batchSize));
    const responses = await drain(() =>
      storage.retention.purgeResponsesBefore(clock() - deps.config.responseRetention, batchSize),
    );
    const statsRetention = deps.config.statsRetention;
    const counts: PurgeCounts = { partitions, messages, payloads, responses };
    if (statsRetention !== undefined)
      counts.stats = await drain(() => storage.stats.purgeBefore(clock() - statsRetention, batchSize));
    if (messages + payloads + responses + (counts.stats ?? 0) > 0)
      logger.info({ messages, payloads, responses, stats: counts.stats }, 'expired content purged');
    return counts;
  }

  function runOnce(): Promise<PurgeCounts> {
    // One pass at a time per process: a slow pass is joined, not doubled.
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delay: number): void {
    if (closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      runOnce()
        .catch((error: unknown) =>
          logger.warn({ err: toError(error) }, 'retention purge failed; retrying later'),
        )
        .finally(() => schedule(intervalMs));
    }, delay);
    timer.unref();
  }

  return {
    start() {
      if (timer || closed) return;
      schedule(FIRST_RUN_DELAY_MS);
    },
    runOnce,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => {});
    },
  };
}
