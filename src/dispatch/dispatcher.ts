/**
 * The dispatcher: claims due deliveries from storage and makes their attempts, in four stages with
 * typed hand-offs, each in its own file (new deliveries may skip the first, see ingest-taker.ts):
 *
 *     claim loop ──ClaimedTask[]──► admission ──ClaimedTask + slot──► attempt ──AttemptOutcome──► recorder
 *     (claim-loop.ts)              (admission.ts: caps,             (attempt.ts: prepare,        (outcome-recorder.ts:
 *      when and how many            local queues, parking)           send via a Destination,      commit, events,
 *                                                                    classify)                    operational events)
 *
 * The dispatcher's own modes:
 *
 *     new ──start()──► running ──close()──► closing ──drained or drainTimeoutMs──► closed
 *
 * start(): on a single-writer backend every lease left in the database belongs to a dead process and is
 * released; then the claim loop runs, and ingest in this process hands new deliveries straight to
 * admission while the dispatcher has no backlog (ingest-taker.ts). An attempt keeps its concurrency slot until
 * its completion commits, and a task stays leased until then; a process that dies mid-attempt lets the
 * lease lapse and the task is claimed again (at-least-once delivery; receivers de-duplicate on
 * webhook-id). The other endpoint policies (disable, circuit, pause, throttle) are decided by storage
 * in the same claim (or ingest); outcomes carry what each attempt says about its endpoint (`signal`) to
 * the completion.
 *
 * close(): no more hand-offs or claims (one already under way delivers its tasks) → in-flight attempts
 * get up to `drainTimeoutMs` → the rest are aborted and not recorded (their leases lapse, or
 * releaseLeases frees them at the next start); every attempt that finished has its outcome committed
 * before close() resolves.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/settings.ts';
import type { Destination } from '../delivery/destination.ts';
import type { Logger } from '../log/logger.ts';
import type { OperationalSink } from '../operational/events.ts';
import type { Storage } from '../storage/contract.ts';
import { createAdmission } from './admission.ts';
import { createAttempt } from './attempt.ts';
import { createClaimLoop } from './claim-loop.ts';
import { createIngestTaker } from './ingest-taker.ts';
import { createOrderedLoop } from './ordered-loop.ts';
import { createOutcomeRecorder } from './outcome-recorder.ts';
import type { EndpointLookup } from './prepare.ts';

export type { EndpointLookup } from './prepare.ts';

export type DispatcherConfig = Pick<
  Config,
  | 'retrySchedule'
  | 'deliveryTimeout'
  | 'deliveryConcurrency'
  | 'signatureHeaders'
  | 'leaseDuration'
  | 'endpointConcurrency'
  | 'backpressurePause'
  | 'backpressureMaxPause'
>;

export interface DispatcherDeps {
  readonly storage: Storage;
  readonly endpointCache: EndpointLookup;
  /** Where attempts go (delivery/destinations.ts; HTTP endpoints today). */
  readonly destination: Destination;
  readonly config: DispatcherConfig;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
  /** [0, 1) for retry jitter. */
  readonly random?: () => number;
  /** Lease owner name; defaults to host:pid:random. */
  readonly owner?: string;
  /** Fallback poll; defaults to 5 s with cross-process notifications, 1 s without. */
  readonly pollIntervalMs?: number;
  /** How long close() lets in-flight attempts finish; defaults to deliveryTimeout + 1 s. */
  readonly drainTimeoutMs?: number;
  /** Receives message.attempt.failing/exhausted/recovered and endpoint.disabled; none when absent. */
  readonly operational?: OperationalSink | undefined;
}

export interface Dispatcher {
  start(): Promise<void>;
  close(): Promise<void>;
}

const CLAIM_BATCH = 100;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { storage, config } = deps;
  const logger = deps.logger.child({ component: 'dispatcher' });
  const clock = deps.clock ?? Date.now;
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const drainTimeoutMs = deps.drainTimeoutMs ?? config.deliveryTimeout + 1_000;
  const concurrency = config.deliveryConcurrency;
  // Half the slots by default: a hot endpoint keeps enough requests in flight to hide event-loop
  // latency, and one that hangs still leaves the other half to everyone else.
  const endpointCap = Math.min(
    config.endpointConcurrency || Math.max(1, Math.floor(concurrency / 2)),
    concurrency,
  );
  const abort = new AbortController();
  let state: 'new' | 'running' | 'closing' | 'closed' = 'new';

  const attempt = createAttempt({
    endpoints: deps.endpointCache,
    destination: deps.destination,
    config,
    clock,
    random: deps.random ?? Math.random,
    signal: abort.signal,
  });
  const record = createOutcomeRecorder({
    storage,
    logger,
    clock,
    retryAt: (at) => claims.armTimer(at),
    operational: deps.operational,
  });
  const admission = createAdmission({
    deliveries: storage.deliveries,
    owner,
    concurrency,
    endpointCap,
    leaseMs: config.leaseDuration,
    claimBatch: CLAIM_BATCH,
    clock,
    logger,
    async run(task, responded) {
      const outcome = await attempt(task, responded);
      if (outcome) await record(task, outcome);
    },
    slotFreed: () => claims.slotFreed(),
    requestEnded: () => claims.requestEnded(),
  });
  const pollIntervalMs = deps.pollIntervalMs ?? (storage.capabilities.listenNotify ? 5_000 : 1_000);
  const claims = createClaimLoop({
    storage,
    admission,
    owner,
    leaseMs: config.leaseDuration,
    claimBatch: CLAIM_BATCH,
    pollIntervalMs,
    clock,
    logger,
  });
  const taker = createIngestTaker({
    owner,
    leaseMs: config.leaseDuration,
    batch: CLAIM_BATCH,
    admission,
    taking: () => state === 'running' && claims.resting() && !admission.backlogged(),
    clock,
  });
  let stopTaking: (() => void) | undefined;
  // Ordered destinations (fifoEndpoint) have a loop of their own, so the claim loop's hot path is unchanged.
  const ordered = createOrderedLoop({
    storage,
    endpoints: deps.endpointCache,
    destination: deps.destination,
    config,
    owner,
    concurrency,
    pollIntervalMs,
    clock,
    random: deps.random ?? Math.random,
    logger,
    signal: abort.signal,
  });

  return {
    async start() {
      if (state !== 'new') throw new Error('the dispatcher was already started');
      // A leased task may wait in its endpoint's local queue for one attempt, then take one itself; an
      // attempt is at most two timeouts (waiting for a free connection, then the receiver).
      if (4 * config.deliveryTimeout > config.leaseDuration) {
        logger.warn(
          { deliveryTimeout: config.deliveryTimeout, leaseDuration: config.leaseDuration },
          'HOOKYARD_LEASE_DURATION should be at least four times HOOKYARD_DELIVERY_TIMEOUT: slow attempts may be delivered twice',
        );
      }
      if (!storage.capabilities.multipleWriters) {
        // Only this process writes, so every lease left in the database belongs to a dead one.
        const released = await storage.deliveries.releaseLeases(clock());
        if (released > 0) logger.info({ released }, 'resumed deliveries leased by a previous run');
        const resumed = await storage.ordered.releaseLeases(clock());
        if (resumed > 0) logger.info({ resumed }, 'resumed ordered destinations leased by a previous run');
      }
      state = 'running';
      claims.start();
      ordered.start();
      stopTaking = storage.takeIngested(taker);
    },

    async close() {
      if (state === 'closed' || state === 'closing') return;
      state = 'closing';
      stopTaking?.();
      admission.stop();
      await Promise.all([claims.stop(), ordered.stop(), admission.unreserved()]);
      const inFlight = new Set([...admission.running(), ...ordered.running()]);
      if (inFlight.size > 0) {
        let bound: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          bound = setTimeout(() => resolve('expired'), drainTimeoutMs);
        });
        const outcome = await Promise.race([Promise.all(inFlight).then(() => 'drained' as const), expired]);
        clearTimeout(bound);
        if (outcome === 'expired') {
          logger.warn(
            { inFlight: inFlight.size },
            'delivery attempts still running at shutdown were abandoned',
          );
          abort.abort();
          await Promise.all(inFlight);
        }
      }
      state = 'closed';
    },
  };
}
