import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import type { ClaimAdmission, ClaimedTask, DeliveryStore } from '../storage/contract.ts';

/**
 * Admission: the concurrency slots, and where each claimed task goes.
 *
 *     claimed ──endpoint below its cap, a slot free──► running ──response──► endpoint slot frees
 *        │                                                │                     (queued tasks start,
 *        ├──endpoint at its cap, queues not full──► queued locally              unpark tops up)
 *        │     (leased, in memory) ──a request of its endpoint ends──► running
 *        │                                                └──outcome committed──► global slot frees
 *        └──beyond the queues' bounds──► parked (leased to this owner, out of the due range)
 *              ──a quarter of the endpoint's queue drained──► unparked: leased again, into the queue
 *
 * Fairness: at most `endpointCap` requests per endpoint are in flight here (a request's endpoint slot
 * frees when its response arrives; its global slot when its outcome commits). A task whose endpoint is
 * at the cap waits in that endpoint's local queue and starts the moment one of the endpoint's requests
 * ends, with no database round trip: that keeps one hot endpoint at full speed. Queued tasks hold no
 * request slot, so a dead or slow endpoint holds at most `endpointCap` of them and cannot starve the
 * others. The queues are bounded (per endpoint and in all); a round's `gate()` answers the claim (or
 * the ingest hand-off) for each task it leased, and beyond those bounds a claimed task is parked (a
 * handed-off one given back), so a saturated endpoint's backlog is claimed once, not over and over. Should this process die, parked
 * tasks come back when their lease runs out (on SQLite, at the next start), like any lease.
 *
 * Slots can be reserved (`reserve`) by an ingest transaction that leases new deliveries to this
 * process (IngestTaker): they count as taken until `release`, so a claim running meanwhile cannot
 * ask for the same slots.
 */
export interface AdmissionDeps {
  readonly deliveries: Pick<DeliveryStore, 'unpark'>;
  readonly owner: string;
  readonly concurrency: number;
  readonly endpointCap: number;
  /** How long a task taken back from parking is leased for (as a claim's). */
  readonly leaseMs: number;
  /** Tasks claimed per round: a hot endpoint keeps two rounds' worth queued locally. */
  readonly claimBatch: number;
  readonly clock: () => number;
  readonly logger: Logger;
  /** The attempt and its recording; its promise settles when the outcome is committed (or given up). */
  readonly run: (task: ClaimedTask, responded: () => void) => Promise<void>;
  /** A global slot freed. */
  readonly slotFreed: () => void;
  /** A request ended: its endpoint may take another. */
  readonly requestEnded: () => void;
}

/** One claim's (or hand-off's) say on each task it leased, counted apart from other rounds'. */
export interface AdmissionRound {
  readonly admit: ClaimAdmission;
  /** Tasks this round parked. */
  parked(): number;
}

export interface Admission {
  /** Global slots free (neither running nor reserved): the most the next claim may ask for. */
  free(): number;
  /** Takes up to `max` free slots for a hand-off in progress; returns how many it got. */
  reserve(max: number): number;
  /** Gives back `count` reserved slots (the hand-off's tasks were accepted, or it failed). */
  release(count: number): void;
  /**
   * A new round of counting for one claim or hand-off. Beyond the queues' bounds a claim's tasks are
   * parked; a hand-off's (`overflow: 'give back'`) are given back due now instead, so that a claim
   * (which then parks them and waits for the endpoint) takes the backlog from there.
   */
  gate(overflow?: 'park' | 'give back'): AdmissionRound;
  /** Starts the task, or queues it while its endpoint is at its cap. */
  accept(task: ClaimedTask): void;
  /** Stops starting queued tasks and unparking (close()). */
  stop(): void;
  /** Every running attempt, recording included. */
  running(): ReadonlySet<Promise<void>>;
  /** Resolves once no slot is reserved (close(): a hand-off in progress has accepted its tasks). */
  unreserved(): Promise<void>;
  /** Tasks wait in a local queue, or are parked: some endpoint has more work than it takes. */
  backlogged(): boolean;
}

export function createAdmission(deps: AdmissionDeps): Admission {
  const { concurrency, endpointCap, logger } = deps;
  /**
   * A hot endpoint keeps two claims' worth queued locally, so its requests never wait on the database:
   * the next unpark and claim (two round trips) happen while the queue still has work.
   */
  const queuePerEndpoint = Math.max(endpointCap, 2 * deps.claimBatch);
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  /** Requests in flight per endpoint: what the cap counts. */
  const perEndpoint = new Map<string, number>();
  const requestsTo = (endpointId: string) => perEndpoint.get(endpointId) ?? 0;
  /** Leased tasks waiting for a slot of their endpoint, and how many there are in all. */
  const waiting = new Map<string, ClaimedTask[]>();
  let waitingTotal = 0;
  let reserved = 0;
  let whenUnreserved: (() => void)[] = [];
  /**
   * Endpoints with tasks parked by this process, each with a count of parks: an unpark that found
   * fewer rows than it asked for proves nothing is left only if no claim parked more meanwhile.
   */
  const parked = new Map<string, number>();
  const unparking = new Set<string>();

  /**
   * A round's say: start (its endpoint is below the cap), queue locally (the queues have room), or
   * park. Each round counts what it admitted, so one round never admits past a bound; rounds running
   * side by side (a claim and an ingest hand-off) may, and `accept` then queues the excess locally.
   */
  function gate(overflow: 'park' | 'give back' = 'park'): AdmissionRound {
    const admittedToStart = new Map<string, number>();
    const admittedToQueue = new Map<string, number>();
    let admittedToQueueTotal = 0;
    let parkedNow = 0;
    const admit: ClaimAdmission = ({ endpointId }) => {
      const toStart = admittedToStart.get(endpointId) ?? 0;
      if (requestsTo(endpointId) + toStart < endpointCap) {
        admittedToStart.set(endpointId, toStart + 1);
        return undefined;
      }
      const queued = waiting.get(endpointId)?.length ?? 0;
      const toQueue = admittedToQueue.get(endpointId) ?? 0;
      if (queued + toQueue < queuePerEndpoint && waitingTotal + admittedToQueueTotal < concurrency) {
        admittedToQueue.set(endpointId, toQueue + 1);
        admittedToQueueTotal++;
        return undefined;
      }
      if (overflow === 'give back') return deps.clock();
      parkedNow++;
      parked.set(endpointId, (parked.get(endpointId) ?? 0) + 1);
      return 'park';
    };
    return { admit, parked: () => parkedNow };
  }

  /** Tops the endpoint's local queue up from its parked tasks once a quarter of it has drained. */
  function maybeUnpark(endpointId: string): void {
    if (!parked.has(endpointId) || unparking.has(endpointId) || stopped) return;
    const queued = waiting.get(endpointId)?.length ?? 0;
    if (queued > (queuePerEndpoint * 3) / 4) return;
    const limit = queuePerEndpoint - queued;
    const parks = parked.get(endpointId);
    unparking.add(endpointId);
    deps.deliveries
      .unpark(deps.owner, endpointId, deps.clock(), deps.leaseMs, limit)
      .then(
        ({ taken, tasks }) => {
          if (taken < limit && parked.get(endpointId) === parks) parked.delete(endpointId);
          // Leased to this owner again: straight into the endpoint's queue (or started, a slot free).
          if (!stopped) for (const task of tasks) accept(task);
        },
        (error: unknown) => logger.error({ err: toError(error), endpointId }, 'unparking deliveries failed'),
      )
      .finally(() => {
        unparking.delete(endpointId);
        // Rows parked while this unpark ran may have no response left to trigger the next one.
        if (parked.get(endpointId) !== parks) maybeUnpark(endpointId);
      });
  }

  /** Starts queued tasks whose endpoint has a free request slot, while global slots remain. */
  function startWaiting(): void {
    for (const [endpointId, queue] of waiting) {
      while (queue.length > 0 && inFlight.size < concurrency && requestsTo(endpointId) < endpointCap) {
        waitingTotal--;
        start(queue.shift()!);
      }
      if (queue.length === 0) waiting.delete(endpointId);
      if (inFlight.size >= concurrency) return;
    }
  }

  function accept(task: ClaimedTask): void {
    if (requestsTo(task.endpointId) < endpointCap && inFlight.size < concurrency) {
      start(task);
      return;
    }
    const queue = waiting.get(task.endpointId);
    if (queue) queue.push(task);
    else waiting.set(task.endpointId, [task]);
    waitingTotal++;
  }

  function start(task: ClaimedTask): void {
    perEndpoint.set(task.endpointId, requestsTo(task.endpointId) + 1);
    let requesting = true;
    /** The request is over (its outcome may still be committing): the endpoint slot frees. */
    const responded = () => {
      if (!requesting) return;
      requesting = false;
      const left = requestsTo(task.endpointId) - 1;
      if (left > 0) perEndpoint.set(task.endpointId, left);
      else perEndpoint.delete(task.endpointId);
      if (stopped) return;
      startWaiting();
      maybeUnpark(task.endpointId);
      deps.requestEnded();
    };
    const running: Promise<void> = deps
      .run(task, responded)
      .catch((error: unknown) => {
        // Not recorded: the lease lapses and the task is claimed again.
        logger.error({ err: toError(error), deliveryId: task.deliveryId }, 'delivery attempt crashed');
      })
      .finally(() => {
        responded();
        inFlight.delete(running);
        if (!stopped) startWaiting();
        deps.slotFreed();
      });
    inFlight.add(running);
  }

  const free = () => concurrency - inFlight.size - reserved;

  return {
    free,
    reserve(max) {
      const taken = Math.max(0, Math.min(max, free()));
      reserved += taken;
      return taken;
    },
    release(count) {
      reserved -= count;
      if (reserved === 0) {
        const waiters = whenUnreserved;
        whenUnreserved = [];
        for (const resolve of waiters) resolve();
      }
      // A claim that found every slot taken waits for one to free: a reserved one left unused may have.
      if (count > 0) deps.slotFreed();
    },
    gate,
    accept,
    stop() {
      stopped = true;
    },
    running: () => inFlight,
    unreserved() {
      if (reserved === 0) return Promise.resolve();
      return new Promise((resolve) => whenUnreserved.push(resolve));
    },
    backlogged: () => waitingTotal > 0 || parked.size > 0,
  };
}
