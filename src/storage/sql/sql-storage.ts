import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log/logger.ts';
import { type ChangeEvent, type IngestTaker, type Storage, StorageFull } from '../contract.ts';
import { PLAINTEXT, type Sealer } from '../sealing.ts';
import { createApplicationStore } from './applications.ts';
import { createAttemptStore } from './attempts.ts';
import { createBackgroundTaskStore } from './background-tasks.ts';
import { createBulkOperationStore } from './bulk-operations.ts';
import { createCensusStore } from './census.ts';
import { CHANGES_CHANNEL, type SqlContext, WORK_CHANNEL } from './context.ts';
import { createDeliveryStore } from './deliveries.ts';
import { createDeliveryTransitions } from './delivery-transitions.ts';
import type { SqlDriver } from './driver.ts';
import type { EndpointPolicies } from './endpoint-state.ts';
import { createEndpointStore } from './endpoints.ts';
import { createEventTypeStore } from './event-types.ts';
import { createExploreStore } from './explore.ts';
import { createIdempotencyStore } from './idempotency.ts';
import { createMessageStore } from './messages.ts';
import { createMetaStore } from './meta.ts';
import { createOrderedStore } from './ordered.ts';
import { createOrderedTransitions } from './ordered-transitions.ts';
import { createPollingStore } from './polling.ts';
import { createReplayStore } from './replay.ts';
import { createRetentionStore } from './retention.ts';
import { createStatsStore } from './stats.ts';

export interface SqlStorageOptions {
  /** Extra wait before a group commit flushes (`HOOKYARD_INGEST_BATCH_WINDOW`). */
  ingestBatchWindowMs?: number;
  /** Most ingests (or completions) in one transaction. */
  maxBatch?: number;
  logger?: Logger | undefined;
  /** Auto-disable and circuit-breaker settings (docs/delivery-policies.md); defaults as in settings.ts. */
  policies?: EndpointPolicies | undefined;
  /** Encryption at rest of endpoint credentials (`HOOKYARD_ENCRYPTION_KEY`); default none. */
  sealer?: Sealer | undefined;
  /** Runs after the driver closed (e.g. releasing a data-dir lock). */
  onClose?: () => Promise<void> | void;
}

const DEFAULT_POLICIES: EndpointPolicies = {
  health: { disableAfterMs: 5 * 86_400_000, circuitThreshold: 5, probeIntervalMs: 30_000 },
};

/** The one `Storage` implementation; the driver decides which database it talks to. */
export async function createSqlStorage(driver: SqlDriver, options: SqlStorageOptions = {}): Promise<Storage> {
  const logger = options.logger;
  const origin = randomUUID();
  const changeListeners = new Set<(event: ChangeEvent) => void>();
  const workListeners = new Set<() => void>();
  const orderedListeners = new Set<() => void>();
  // Ordered work travels on the work channel too, told apart by this prefix to the origin.
  const orderedOrigin = `ordered:${origin}`;
  let ingestTaker: IngestTaker | undefined;

  function emit<A extends unknown[]>(listeners: Iterable<(...args: A) => void>, ...args: A): void {
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        logger?.error({ err: error }, 'storage listener threw');
      }
    }
  }

  const ctx: SqlContext = {
    driver,
    sealer: options.sealer ?? PLAINTEXT,
    transitions: createDeliveryTransitions(driver),
    async mutate(fn, options) {
      let events: ChangeEvent[] = [];
      const result = await driver.transaction(async (tx) => {
        events = [];
        const value = await fn(tx, (event) => events.push(event));
        for (const event of events) await tx.notify(CHANGES_CHANNEL, JSON.stringify({ ...event, origin }));
        return value;
      }, options);
      for (const event of events) emit(changeListeners, event);
      return result;
    },
    announceWork: (tx) => tx.notify(WORK_CHANNEL, origin),
    wakeLocal: () => emit(workListeners),
    announceOrderedWork: (tx) => tx.notify(WORK_CHANNEL, orderedOrigin),
    wakeOrderedLocal: () => emit(orderedListeners),
    async makeDue(fn) {
      const { changed, value } = await driver.transaction(async (tx) => {
        const result = await fn(tx);
        if (result.changed > 0) await tx.notify(WORK_CHANNEL, origin);
        return result;
      });
      if (changed > 0) emit(workListeners);
      return value;
    },
    ingestTaker: () => ingestTaker,
    groupCommit: {
      windowMs: options.ingestBatchWindowMs ?? 0,
      maxBatch: options.maxBatch ?? 1000,
      // Parallel flushes only help where the database accepts parallel writers, and each holds a pooled
      // connection: ingest and completions take at most half the pool between them, claims and reads
      // keep the rest.
      maxInFlight: driver.capabilities.multipleWriters ? Math.max(1, Math.floor(driver.connections / 4)) : 1,
    },
  };

  // Our own NOTIFYs come back through LISTEN; local listeners already heard them at commit.
  const unlisten = [
    await driver.listen(CHANGES_CHANNEL, (payload) => {
      const { origin: from, ...event } = parseChange(payload);
      if (from !== origin && event.id) emit(changeListeners, event as ChangeEvent);
    }),
    await driver.listen(WORK_CHANNEL, (payload) => {
      if (payload.startsWith('ordered:')) {
        if (payload !== orderedOrigin) emit(orderedListeners);
      } else if (payload !== origin) emit(workListeners);
    }),
  ];

  const policies = options.policies ?? DEFAULT_POLICIES;
  const messages = createMessageStore(ctx, policies);
  const deliveries = createDeliveryStore(ctx, policies);
  let closing: Promise<void> | undefined;

  return {
    capabilities: driver.capabilities,
    description: driver.description,
    applications: createApplicationStore(ctx),
    eventTypes: createEventTypeStore(ctx),
    endpoints: createEndpointStore(ctx),
    messages,
    deliveries,
    ordered: createOrderedStore(ctx, createOrderedTransitions(driver)),
    attempts: createAttemptStore(ctx),
    idempotency: createIdempotencyStore(ctx),
    meta: createMetaStore(ctx),
    replay: createReplayStore(ctx),
    retention: createRetentionStore(ctx),
    stats: createStatsStore(ctx),
    explore: createExploreStore(ctx),
    backgroundTasks: createBackgroundTaskStore(ctx),
    bulk: createBulkOperationStore(ctx),
    census: createCensusStore(ctx),
    polling: createPollingStore(ctx),
    subscribe(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    subscribeWork(listener) {
      workListeners.add(listener);
      return () => workListeners.delete(listener);
    },
    takeIngested(taker) {
      ingestTaker = taker;
      return () => {
        if (ingestTaker === taker) ingestTaker = undefined;
      };
    },
    subscribeOrderedWork(listener) {
      orderedListeners.add(listener);
      return () => orderedListeners.delete(listener);
    },
    async ping() {
      await driver.query('SELECT 1 AS ok');
      if (driver.diskFull?.())
        throw new StorageFull(
          'the disk of the data directory is full: new writes are refused until space is freed',
        );
    },
    close() {
      closing ??= (async () => {
        await Promise.all([messages.drain(), deliveries.drain()]);
        for (const stop of unlisten) stop();
        changeListeners.clear();
        workListeners.clear();
        orderedListeners.clear();
        ingestTaker = undefined;
        await driver.close();
        await options.onClose?.();
      })();
      return closing;
    },
  };
}

function parseChange(payload: string): Partial<ChangeEvent> & { origin?: string } {
  try {
    return JSON.parse(payload) as Partial<ChangeEvent> & { origin?: string };
  } catch {
    return {};
  }
}
