import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { events } from '../observability/events.ts';
import type { ClaimedTask, Storage } from '../storage/contract.ts';
import type { Admission } from './admission.ts';

/**
 * The claim loop: when to claim due deliveries, and how many.
 *
 *     idle ──wake──► claiming ──tasks──► admission (start, queue locally, or park)
 *      ▲               │  a full batch and free slots: claim again at once
 *      │               │  every slot busy: wait for one to free ("saturated")
 *      │               │  the claim parked tasks at their endpoint's cap: wait for a request to end ("capped")
 *      └───────────────┘  a short batch: sleep until the next due time (storage.nextDueAt)
 *
 * Wakes come from `storage.subscribeWork` (ingest, resend, recover), a timer at the earliest known due
 * time (from nextDueAt after a short claim, and from our own retries once their completion is
 * committed), a freed slot while saturated, an ended request while capped, and a slow poll that catches
 * work other processes made due without a notification. One claim runs at a time; a wake during a
 * claim sets `again`, so the loop claims once more instead of losing it.
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
  /** No more claims; resolves once the one running (if any) has handed its tasks over. */
  stop(): Promise<void>;
}

/** Floor between timer-driven claims, so due-but-locked rows (another worker's claim) cannot spin us. */
const MIN_SLEEP_MS = 10;
const STORAGE_RETRY_MS = 1_000;

export function createClaimLoop(deps: ClaimLoopDeps): ClaimLoop {
  const { storage, admission, clock, logger, pollIntervalMs } = deps;
  let running = false;
  let claiming: Promise<void> | undefined;
  let again = false;
  let saturated = false;
  /** The last claim parked tasks of an endpoint at its cap: claim again when a request ends. */
  let capped = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let poll: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  function wake(): void {
    if (!running) return;
    if (claiming) {
      again = true;
      return;
    }
    if (admission.free() <= 0) {
      saturated = true;
      return;
    }
    claiming = loop().finally(() => {
      claiming = undefined;
    });
  }

  async function loop(): Promise<void> {
    while (running) {
      again = false;
      const free = admission.free();
      if (free <= 0) {
        saturated = true;
        return;
      }
      const limit = Math.min(deps.claimBatch, free);
      let tasks: ClaimedTask[];
      const now = clock();
      const gate = admission.gate();
      try {
        tasks = await storage.deliveries.claim(deps.owner, limit, now, deps.leaseMs, gate);
      } catch (error) {
        logger.error({ err: toError(error) }, 'claiming deliveries failed; retrying');
        armTimer(clock() + STORAGE_RETRY_MS);
        return;
      }
      const parked = admission.parkedThisRound();
      if (events.tasksClaimed.hasSubscribers)
        events.tasksClaimed.publish({ count: tasks.length, parked, durationMs: clock() - now });
      // Tasks claimed while close() began are still ours: deliver them as part of the drain.
      for (const task of tasks) admission.accept(task);
      if (parked > 0) {
        // The cap is what limits us now, not the backlog: claim again once a request ends.
        capped = true;
        return;
      }
      if (tasks.length === limit) continue;
      try {
        const due = await storage.deliveries.nextDueAt();
        if (due !== null) armTimer(due);
      } catch (error) {
        logger.error({ err: toError(error) }, 'reading the next due time failed');
        armTimer(clock() + STORAGE_RETRY_MS);
      }
      if (!again) return;
    }
  }

  function armTimer(at: number): void {
    if (!running || at >= timerAt) return;
    // Beyond the poll interval the poll wakes us anyway (and setTimeout cannot wait past ~24.8 days).
    const delay = Math.min(Math.max(at - clock(), MIN_SLEEP_MS), pollIntervalMs);
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      wake();
    }, delay);
  }

  return {
    start() {
      running = true;
      unsubscribe = storage.subscribeWork(wake);
      poll = setInterval(wake, pollIntervalMs);
      wake();
    },
    wake,
    armTimer,
    slotFreed() {
      if (!saturated) return;
      saturated = false;
      wake();
    },
    requestEnded() {
      if (!capped) return;
      capped = false;
      wake();
    },
    async stop() {
      running = false;
      unsubscribe?.();
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      await claiming;
    },
  };
}
