import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import {
  FAILING_AFTER_ATTEMPTS,
  type OperationalEvent,
  type OperationalSink,
} from '../operational/events.ts';
import {
  type AttemptOutcome,
  type ClaimedTask,
  type CompletionReport,
  MessageStatus,
} from '../storage/contract.ts';

/**
 * Which message event an attempt's outcome is: `failing` when it makes FAILING_AFTER_ATTEMPTS failures in
 * a row (unless it is also the last, which is `exhausted`), `recovered` when a delivery reported failing
 * succeeds. Attempts without an endpoint (deleted meanwhile) report nothing.
 */
export function eventFor(
  outcome: AttemptOutcome,
  task: Pick<ClaimedTask, 'failStreak'>,
): 'message.attempt.failing' | 'message.attempt.exhausted' | 'message.attempt.recovered' | undefined {
  if (outcome.attempt.url === '') return undefined;
  if (outcome.next === MessageStatus.success)
    return task.failStreak >= FAILING_AFTER_ATTEMPTS ? 'message.attempt.recovered' : undefined;
  if (outcome.next === MessageStatus.fail) return 'message.attempt.exhausted';
  return task.failStreak + 1 === FAILING_AFTER_ATTEMPTS ? 'message.attempt.failing' : undefined;
}

/** The operational events of one committed outcome, in the order they happened. */
export function operationalEvents(
  task: ClaimedTask,
  outcome: AttemptOutcome,
  report: CompletionReport,
): OperationalEvent[] {
  const out: OperationalEvent[] = report.disabled.map((disabled) => ({
    type: 'endpoint.disabled',
    data: {
      appId: disabled.appId,
      endpointId: disabled.endpointId,
      failSince: new Date(disabled.failSince).toISOString(),
    },
  }));
  const type = eventFor(outcome, task);
  if (type !== undefined) {
    out.push({
      type,
      data: {
        appId: task.appId,
        endpointId: task.endpointId,
        msgId: task.msgId,
        lastAttempt: {
          id: outcome.attempt.id,
          responseStatusCode: outcome.attempt.responseStatusCode,
          timestamp: new Date(outcome.attempt.createdAt).toISOString(),
        },
      },
    });
  }
  return out;
}

/** Emits them; an event that cannot be stored is logged, never retried. */
export async function emitAll(
  sink: OperationalSink,
  list: OperationalEvent[],
  logger: Logger,
): Promise<void> {
  if (list.length === 0) return;
  const results = await Promise.allSettled(list.map((event) => sink.emit(event)));
  results.forEach((result, index) => {
    if (result.status === 'rejected')
      logger.error({ err: toError(result.reason), type: list[index]?.type }, 'operational event lost');
  });
}
