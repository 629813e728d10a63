import { events } from '../observability/events.ts';
import type { IngestTaker } from '../storage/contract.ts';
import type { Admission } from './admission.ts';

/**
 * The dispatcher's side of ingest's hand-off (IngestTaker in the storage contract): new deliveries
 * leased in the ingest transaction go straight to admission, skipping the claim loop's stage.
 *
 *     ingest batch ──reserve──► slots (none: the claim loop is claiming, or no slot is free)
 *        transaction ──admission()──► the round's say per delivery (start, queue, park)
 *        after it ──settle──► tasks accepted (started or queued), slots given back
 *
 * Hand-offs happen only while the claim loop rests, having found nothing more due: then the new
 * deliveries are the oldest due work there is, so taking them first keeps delivery oldest-first, and
 * a backlog (the claim loop busy or saturated) is always claimed in order.
 */
export interface IngestTakerDeps {
  readonly owner: string;
  readonly leaseMs: number;
  /** Most slots one batch may take (as one claim's). */
  readonly batch: number;
  readonly admission: Admission;
  /** Whether the dispatcher runs and its claim loop rests (ClaimLoop.resting). */
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
      let parked = 0;
      return {
        slots,
        admission() {
          // A fresh round each time the transaction runs; parks of a rolled-back run do not count.
          const round = admission.gate();
          parked = 0;
          return (task) => {
            const say = round.admit(task);
            if (say === 'park') parked++;
            return say;
          };
        },
        settle(tasks, committed) {
          // Accepted first: the slots pass from reserved to running, so free() never counts them free
          // and the wake in release sees what is really left.
          for (const task of tasks) admission.accept(task);
          admission.release(slots);
          if (committed && events.tasksClaimed.hasSubscribers && tasks.length + parked > 0)
            events.tasksClaimed.publish({
              count: tasks.length,
              parked,
              durationMs: clock() - started,
              via: 'ingest',
            });
        },
      };
    },
  };
}
