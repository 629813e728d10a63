import { idTime } from '../domain/ids.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { events, statusClassOf } from '../observability/events.ts';
import type { OperationalSink } from '../operational/events.ts';
import {
  type AttemptOutcome,
  type ClaimedTask,
  type CompletionReport,
  MessageStatus,
  type Storage,
  TriggerType,
} from '../storage/contract.ts';
import { emitAll, operationalEvents } from './operational-events.ts';

/**
 * Outcome recording, the last stage: writes one attempt's outcome and tells whoever listens.
 *
 *     outcome ──deliveries.complete──► committed ──► retry timer armed, events published, operational
 *        ▲                 │                          events emitted; the attempt's slot frees
 *        └──wait, retry────┘ failed (up to COMPLETE_TRIES) ──► given up: the lease lapses, the task is
 *                                                                attempted again (a duplicate, never a loss)
 *
 * Batching is storage's: `deliveries.complete` is group-committed, so the outcomes of every attempt that
 * finishes while a commit runs share the next transaction. The caller holds the attempt's concurrency
 * slot until `record` resolves, so the attempts made but not yet recorded never exceed the slots: that
 * bounds what a crash can redeliver.
 */
export interface OutcomeRecorderDeps {
  readonly storage: Storage;
  readonly logger: Logger;
  readonly clock: () => number;
  /** A retry was committed: the claim loop's timer should fire by then. */
  readonly retryAt: (at: number) => void;
  readonly operational?: OperationalSink | undefined;
}

export type RecordOutcome = (task: ClaimedTask, outcome: AttemptOutcome) => Promise<void>;

const COMPLETE_TRIES = 5;

export function createOutcomeRecorder(deps: OutcomeRecorderDeps): RecordOutcome {
  const { storage, logger, operational } = deps;

  async function write(outcome: AttemptOutcome): Promise<CompletionReport | undefined> {
    for (let tries = 1; ; tries++) {
      try {
        return await storage.deliveries.complete([outcome]);
      } catch (error) {
        const err = toError(error);
        if (tries >= COMPLETE_TRIES) {
          logger.error(
            { err, deliveryId: outcome.attempt.deliveryId },
            'recording a delivery attempt failed; giving up',
          );
          return undefined;
        }
        logger.warn(
          { err, deliveryId: outcome.attempt.deliveryId, tries },
          'recording a delivery attempt failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, 200 * tries));
      }
    }
  }

  return async (task, outcome) => {
    if (logger.isLevelEnabled('debug')) {
      const { next, nextAttemptAt, attempt } = outcome;
      logger.debug(
        {
          deliveryId: task.deliveryId,
          msgId: task.msgId,
          url: attempt.url,
          status: attempt.responseStatusCode,
          next,
          nextAttemptAt,
        },
        'delivery attempt finished',
      );
    }
    const report = await write(outcome);
    if (!report) return;
    if (outcome.nextAttemptAt !== null) deps.retryAt(outcome.nextAttemptAt);
    if (events.attemptFinished.hasSubscribers) publishFinished(task, outcome, deps.clock());
    if (events.endpointDisabled.hasSubscribers)
      for (const disabled of report.disabled) events.endpointDisabled.publish(disabled);
    if (operational) await emitAll(operational, operationalEvents(task, outcome, report), logger);
  };
}

function publishFinished(task: ClaimedTask, outcome: AttemptOutcome, now: number): void {
  const { attempt, next } = outcome;
  const succeeded = next === MessageStatus.success;
  const accepted = succeeded && task.triggerType === TriggerType.scheduled ? idTime(task.msgId) : undefined;
  events.attemptFinished.publish({
    appId: task.appId,
    msgId: task.msgId,
    endpointId: task.endpointId,
    deliveryId: task.deliveryId,
    result: succeeded ? 'success' : next === MessageStatus.fail ? 'fail' : 'retry',
    statusCode: attempt.responseStatusCode,
    statusClass: statusClassOf(attempt.responseStatusCode),
    durationMs: attempt.responseDurationMs,
    latencyMs: accepted === undefined ? undefined : Math.max(0, now - accepted),
  });
}
