import { events } from '../observability/events.ts';
import type { IngestTaker } from '../storage/contract.ts';
import type { Admission } from './admission.ts';

/**
 * The dispatcher's side of ingest's hand-off (IngestTaker in the storage contract): new deliveries
 * leased in the ingest transaction go straight to admission, skipping the claim loop's stage.
 *
 *     ingest batch ──reserve──► slots (none: the dispatcher has a backlog, or no slot is free)
 *        transaction ──admission()──► the round's say per delivery (start, queue, or give back)
 *        after it ──settle──► tasks accepted (started or queued), slots given back
 *
 * Hand-offs happen only while the dispatcher has no backlog: its claim loop rests, having found
 * nothing more due, and no task waits in a local queue or is parked. Then the new deliveries are the
 * oldest due work there is, so taking them first keeps delivery oldest-first, and a backlog is always
 * claimed (and queued, parked and unparked) in order, as if there were no hand-off: a saturated
 * endpoint's new deliveries are not leased, given back and claimed again one batch at a time.
 */
export interface IngestTakerDeps {
  readonly owner: string;
  readonly leaseMs: number;
  /** Most slots one batch may take (as one claim's). */
  readonly batch: number;
  readonly admission: Admission;
  /** Whether the dispatcher runs, its claim loop rests (ClaimLoop.resting) and nothing is queued or parked. */
  readonly taking: () => boolean;
  readonly clock: () => number;
}

export function createIngestTaker(deps: IngestTakerDeps): IngestTaker {
  const { admission, clock } = deps;
  return {
    owner: deps.owner,
    leaseMs: deps.leaseMs,
    reserve(max) {
      if (!deps.taking()) return undefined;
      const slots = admission.reserve(Math.min(max, deps.batch));
      if (slots === 0) return undefined;
      const started = clock();
      return {
        slots,
        // A fresh round each time the transaction runs. Never parks: parking new deliveries would
        // keep them from every other worker until their lease ran out, and would go on for as long as
        // the endpoint is saturated, since the claim loop would go on resting. Given back due now,
        // they wake it, and it parks them and waits for the endpoint, as for any backlog.
        admission: () => admission.gate('give back').admit,
        settle(tasks, committed) {
          // Accepted first: the slots pass from reserved to running, so free() never counts them free
          // and the wake in release sees what is really left.
          for (const task of tasks) admission.accept(task);
          admission.release(slots);
          if (committed && events.tasksClaimed.hasSubscribers && tasks.length > 0)
            events.tasksClaimed.publish({
              count: tasks.length,
              parked: 0,
              durationMs: clock() - started,
              via: 'ingest',
            });
        },
      };
    },
  };
}
