import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { CensusStates, type Storage } from '../storage/contract.ts';
import {
  type AttemptFinished,
  type CircuitChanged,
  type CommitBatch,
  type EndpointDisabled,
  events,
  type MessageIngested,
  type TasksClaimed,
  type TypedChannel,
  type WalFsync,
} from './events.ts';

/**
 * Prometheus metrics for `GET /metrics`, built on the events of observability/events.ts plus a periodic
 * census of the deliveries table (docs/operations.md lists every metric). Counters and histograms count
 * what this process did; the census gauges (`hookyard_deliveries`, `hookyard_oldest_due_seconds`,
 * `hookyard_endpoints_circuit_open`) describe the shared database, so every process of a fleet reports
 * the same values: aggregate them with `max`, not `sum`.
 *
 * A new metric goes here: an event to build it on (or a census column), a registration with a
 * `hookyard_` name in base units, labels of bounded values only (never an application or endpoint id),
 * and a row in docs/operations.md.
 *
 * The census runs every `censusIntervalMs`, not per scrape, so scrapes stay free whatever the backlog:
 * the earliest due time (one index probe) and the open circuits each time, and the grouped count of
 * unfinished deliveries by state, whose cost grows with the backlog, at most once per 100 times its last
 * duration (a count that took 300 ms over a large backlog waits 30 s), which keeps it under 1 % of the
 * time (on SQLite the count blocks the event loop). The gauges show the latest.
 */
export interface Metrics {
  /** The text exposition format. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Stops the census (waiting for one under way) and the subscriptions. */
  close(): Promise<void>;
}

export interface MetricsDeps {
  readonly storage: Storage;
  readonly logger: Logger;
  /** Default 10 s. */
  readonly censusIntervalMs?: number;
  readonly clock?: () => number;
}

const SECONDS = 1 / 1000;
/** The by-state count waits at least this many times its last duration before it runs again. */
const COUNT_SPACING = 100;

export function createMetrics(deps: MetricsDeps): Metrics {
  const { storage } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger.child({ component: 'metrics' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const ingested = new Counter({
    name: 'hookyard_messages_ingested_total',
    help: 'Messages accepted and committed (duplicates of an eventId not counted).',
    registers,
  });
  const fannedOut = new Counter({
    name: 'hookyard_deliveries_created_total',
    help: 'Deliveries created by ingested messages (one per message and endpoint it fans out to).',
    registers,
  });
  const attempts = new Counter({
    name: 'hookyard_attempts_total',
    help: 'Delivery attempts recorded, by what they left the delivery as (success, retry, fail) and the receiver status class.',
    labelNames: ['outcome', 'status_class'] as const,
    registers,
  });
  const attemptDuration = new Histogram({
    name: 'hookyard_attempt_duration_seconds',
    help: 'Time a destination took for one attempt (for HTTP: connect, request, response body).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const latency = new Histogram({
    name: 'hookyard_delivery_latency_seconds',
    help: 'Accepted to delivered: from ingest to the committed success of a scheduled delivery (retries included).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21_600, 86_400],
    registers,
  });
  const claimed = new Counter({
    name: 'hookyard_tasks_claimed_total',
    help: 'Deliveries claimed (leased) by this process, parked ones included, and those ingest handed it leased.',
    registers,
  });
  const parked = new Counter({
    name: 'hookyard_tasks_parked_total',
    help: 'Claimed deliveries parked at once because their endpoint was saturated in this process.',
    registers,
  });
  const batchSize = new Histogram({
    name: 'hookyard_commit_batch_size',
    help: 'Submissions sharing one group-commit transaction, by kind (ingest, completion).',
    labelNames: ['kind'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers,
  });
  const commitDuration = new Histogram({
    name: 'hookyard_commit_duration_seconds',
    help: 'Time one group-commit transaction took, by kind (ingest includes its fsync).',
    labelNames: ['kind'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const fsync = new Histogram({
    name: 'hookyard_fsync_seconds',
    help: 'SQLite: one fsync of the WAL file, shared by every durable commit waiting for it.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const circuitChanges = new Counter({
    name: 'hookyard_circuit_changes_total',
    help: "Endpoint circuit breakers opened or closed by this process's completions.",
    labelNames: ['circuit'] as const,
    registers,
  });
  const disabled = new Counter({
    name: 'hookyard_endpoints_disabled_total',
    help: 'Endpoints disabled by their failures (410 Gone, or failing for HOOKYARD_DISABLE_AFTER).',
    registers,
  });
  const deliveries = new Gauge({
    name: 'hookyard_deliveries',
    help: 'Unfinished deliveries by state (pending, sending, leased, parked, held), from the latest census.',
    labelNames: ['state'] as const,
    registers,
  });
  const oldestDue = new Gauge({
    name: 'hookyard_oldest_due_seconds',
    help: 'How long the longest-waiting due delivery had been due at the latest census (0: none is overdue).',
    registers,
  });
  const circuitsOpen = new Gauge({
    name: 'hookyard_endpoints_circuit_open',
    help: 'Endpoints whose circuit breaker is open, from the latest census.',
    registers,
  });
  new Gauge({
    name: 'hookyard_census_timestamp_seconds',
    help: 'When hookyard_deliveries was last counted (Unix time); 0 before the first count.',
    registers,
    collect() {
      this.set(lastCountAt * SECONDS);
    },
  });
  if (storage.census.pool()) {
    const pool = () => storage.census.pool() ?? { total: 0, idle: 0, waiting: 0 };
    new Gauge({
      name: 'hookyard_db_pool_connections',
      help: 'PostgreSQL connections open in the pool (in use or idle).',
      registers,
      collect() {
        this.set(pool().total);
      },
    });
    new Gauge({
      name: 'hookyard_db_pool_idle_connections',
      help: 'PostgreSQL connections idle in the pool.',
      registers,
      collect() {
        this.set(pool().idle);
      },
    });
    new Gauge({
      name: 'hookyard_db_pool_waiting_requests',
      help: 'Queries waiting for a pooled PostgreSQL connection (sustained > 0: the pool is too small).',
      registers,
      collect() {
        this.set(pool().waiting);
      },
    });
  }

  // Labelled children resolved once: the attempt path runs for every delivery.
  const attemptSeries = new Map<string, Counter.Internal>();
  const subscriptions: Array<() => void> = [];
  function on<T>(channel: TypedChannel<T>, listener: (message: T) => void): void {
    channel.subscribe(listener);
    subscriptions.push(() => channel.unsubscribe(listener));
  }
  on(events.messageIngested, (event: MessageIngested) => {
    ingested.inc();
    fannedOut.inc(event.deliveries);
  });
  on(events.tasksClaimed, (event: TasksClaimed) => {
    claimed.inc(event.count + event.parked);
    if (event.parked > 0) parked.inc(event.parked);
  });
  on(events.attemptFinished, (event: AttemptFinished) => {
    const key = `${event.result}:${event.statusClass}`;
    let series = attemptSeries.get(key);
    if (!series) {
      series = attempts.labels(event.result, event.statusClass);
      attemptSeries.set(key, series);
    }
    series.inc();
    attemptDuration.observe(event.durationMs * SECONDS);
    if (event.latencyMs !== undefined) latency.observe(event.latencyMs * SECONDS);
  });
  on(events.commitBatch, (event: CommitBatch) => {
    batchSize.labels(event.kind).observe(event.size);
    commitDuration.labels(event.kind).observe(event.durationMs * SECONDS);
  });
  on(events.walFsync, (event: WalFsync) => fsync.observe(event.durationMs * SECONDS));
  on(events.circuitChanged, (event: CircuitChanged) => circuitChanges.labels(event.circuit).inc());
  on(events.endpointDisabled, (_event: EndpointDisabled) => disabled.inc());

  let lastCountAt = 0;
  let nextCountAt = 0;
  let closed = false;
  let taking: Promise<void> | undefined;
  async function takeCensus(): Promise<void> {
    try {
      const [due, open] = await Promise.all([storage.deliveries.nextDueAt(), storage.census.circuitsOpen()]);
      if (closed) return;
      oldestDue.set((due === null ? 0 : Math.max(0, clock() - due)) * SECONDS);
      circuitsOpen.set(open);
      if (clock() < nextCountAt) return;
      const started = performance.now();
      const counts = await storage.census.countByState();
      if (closed) return;
      lastCountAt = clock();
      nextCountAt = lastCountAt + COUNT_SPACING * (performance.now() - started);
      for (const state of CensusStates) deliveries.labels(state).set(counts[state]);
    } catch (error) {
      logger.warn({ err: toError(error) }, 'counting deliveries for the metrics failed');
    }
  }
  const census = () => {
    taking ??= takeCensus().finally(() => {
      taking = undefined;
    });
  };
  census();
  const timer = setInterval(census, deps.censusIntervalMs ?? 10_000);
  timer.unref();

  return {
    async render() {
      return registry.metrics();
    },
    contentType: registry.contentType,
    async close() {
      closed = true;
      clearInterval(timer);
      for (const unsubscribe of subscriptions) unsubscribe();
      await taking;
    },
  };
}
