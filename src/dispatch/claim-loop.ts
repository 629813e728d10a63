import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { events } from '../observability/events.ts';
import type { ClaimedTask, Storage } from '../storage/contract.ts';
import type { Admission } from './admission.ts';
import { createClaimPump, type PassResult, STORAGE_RETRY_MS } from './claim-pump.ts';

/**
 * The claim loop: when to claim due deliveries, and how many.
 *
 *     idle ──wake──► claiming ──tasks──► admission (start, queue locally, or park)
 *      ▲               │  a full batch and free slots: claim again at once
 *      │               │  every slot busy: wait for one to free ("saturated")
 *      │               │  the claim parked tasks at their endpoint's cap: wait for a request to end ("capped")
 *      └───────────────┘  a short batch: sleep until the next due time (storage.nextDueAt)
 *
 * Wakes (claim-pump.ts) come from `storage.subscribeWork` (ingest, resend, recover), a timer at the
 * earliest known due time (from nextDueAt after a short claim, and from our own retries once their
 * completion is committed), a freed slot while saturated, an ended request while capped, and a slow
 * poll that catches work other processes made due without a notification.
 */
export interface ClaimLoopDeps {
  readonly storage: Storage;
  readonly admission: Admission;
  readonly owner: string;
  readonly leaseMs: number;
  readonly claimBatch: number;
  readonly pollIntervalMs: number;
  readonly clock: () => number;
  readonly logger: Logger;
}

export interface ClaimLoop {
  start(): void;
  /** New work may be due. */
  wake(): void;
  /** Work becomes due at `at`: claim by then. */
  armTimer(at: number): void;
  /** A slot freed (admission). */
  slotFreed(): void;
  /** A request ended (admission). */
  requestEnded(): void;
  /** Nothing was due at the last look and no claim is under way (see ClaimPump.resting). */
  resting(): boolean;
  /** No more claims; resolves once the one running (if any) has handed its tasks over. */
  stop(): Promise<void>;
}

export function createClaimLoop(deps: ClaimLoopDeps): ClaimLoop {
  const { storage, admission, clock, logger } = deps;
  let saturated = false;
  /** The last claim parked tasks of an endpoint at its cap: claim again when a request ends. */
  let capped = false;
  const pump = createClaimPump({
    clock,
    pollIntervalMs: deps.pollIntervalMs,
    subscribe: (wake) => storage.subscribeWork(wake),
    ready() {
      if (admission.free() > 0) return true;
      saturated = true;
      return false;
    },
    pass,
    logger,
  });

  async function pass(): Promise<PassResult> {
    const free = admission.free();
    if (free <= 0) {
      saturated = true;
      return 'stop';
    }
    const limit = Math.min(deps.claimBatch, free);
    let tasks: ClaimedTask[];
    const now = clock();
    const round = admission.gate();
    try {
      tasks = await storage.deliveries.claim(deps.owner, limit, now, deps.leaseMs, round.admit);
    } catch (error) {
      logger.error({ err: toError(error) }, 'claiming deliveries failed; retrying');
      pump.armTimer(clock() + STORAGE_RETRY_MS);
      return 'stop';
    }
    const parked = round.parked();
    if (events.tasksClaimed.hasSubscribers)
      events.tasksClaimed.publish({ count: tasks.length, parked, durationMs: clock() - now, via: 'claim' });
    // Tasks claimed while close() began are still ours: deliver them as part of the drain.
    for (const task of tasks) admission.accept(task);
    if (parked > 0) {
      // The cap is what limits us now, not the backlog: claim again once a request ends.
      capped = true;
      return 'stop';
    }
    if (tasks.length === limit) return 'more';
    return pump.restUntilDue(() => storage.deliveries.nextDueAt(), 'delivery');
  }

  return {
    start: pump.start,
    wake: pump.wake,
    armTimer: pump.armTimer,
    slotFreed() {
      if (!saturated) return;
      saturated = false;
      pump.wake();
    },
    requestEnded() {
      if (!capped) return;
      capped = false;
      pump.wake();
    },
    resting: () => pump.resting,
    stop: pump.stop,
  };
}
