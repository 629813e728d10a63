import type { Config } from '../config/settings.ts';
import type { Destination, DestinationOutcome, Recorded } from '../delivery/destination.ts';
import { pauseUntil } from '../domain/endpoint-policy.ts';
import { newId } from '../domain/ids.ts';
import type { Classification } from '../domain/outcome-classification.ts';
import { type NextState, nextState } from '../domain/retry-policy.ts';
import {
  type AttemptOutcome,
  type AttemptSignal,
  type ClaimedTask,
  MessageStatus,
} from '../storage/contract.ts';
import { type EndpointLookup, prepare } from './prepare.ts';

/**
 * One attempt: prepare (endpoint, signature, headers) → send through the destination → classify the
 * destination's outcome into the delivery's next state and what it says about the endpoint.
 *
 *     task ──prepare──► unsendable ───────────────────────────────────────────► outcome (fail or retry)
 *              │
 *              └ready──► send ──response──► `responded()` (the endpoint slot frees) ──classify──► outcome
 *                          └──aborted (shutdown)──► nothing: the lease lapses and the task is claimed again
 *
 * The outcome (an `AttemptOutcome`, the storage contract's type) goes to the recorder; this stage
 * writes nothing. Which receiver answers mean what is the destination's business (for HTTP,
 * delivery/http-destination.ts); the retry schedule and backpressure pauses are decided here, from
 * the destination-neutral outcome.
 */
export type AttemptConfig = Pick<
  Config,
  'retrySchedule' | 'deliveryTimeout' | 'signatureHeaders' | 'backpressurePause' | 'backpressureMaxPause'
>;

export interface AttemptDeps {
  readonly endpoints: EndpointLookup;
  readonly destination: Destination;
  readonly config: AttemptConfig;
  readonly clock: () => number;
  readonly random: () => number;
  /** Aborted when close() gives up waiting for attempts in flight. */
  readonly signal: AbortSignal;
}

/** Runs the attempt; calls `responded` once the destination answered. Undefined: aborted, record nothing. */
export type RunAttempt = (task: ClaimedTask, responded: () => void) => Promise<AttemptOutcome | undefined>;

const NO_HOST_FACTS: AttemptSignal = { responded: false, unreachable: false, gone: false, pauseUntil: null };

export function createAttempt(deps: AttemptDeps): RunAttempt {
  const { config, clock } = deps;

  function decide(classification: Classification, task: ClaimedTask, retryAfterMs?: number): NextState {
    return nextState({
      classification,
      attemptsBefore: task.attempts,
      schedule: config.retrySchedule,
      now: clock(),
      retryAfterMs,
      random: deps.random,
    });
  }

  function classify(task: ClaimedTask, outcome: Exclude<DestinationOutcome, { kind: 'aborted' }>) {
    if (outcome.kind === 'success')
      return { state: SUCCEEDED, signal: { ...NO_HOST_FACTS, responded: true } };
    const { host } = outcome;
    const classification: Classification = {
      success: false,
      retryable: outcome.kind === 'retryable',
      slowDown: host.slowDown,
      gone: host.gone,
      unreachable: host.unreachable,
    };
    const retryAfterMs = outcome.kind === 'retryable' ? outcome.retryAfterMs : undefined;
    const signal: AttemptSignal = {
      responded: host.reached,
      unreachable: host.unreachable,
      gone: host.gone,
      pauseUntil: host.slowDown
        ? pauseUntil(retryAfterMs, clock(), {
            defaultPauseMs: config.backpressurePause,
            maxPauseMs: config.backpressureMaxPause,
          })
        : null,
    };
    return { state: decide(classification, task, retryAfterMs), signal };
  }

  return async (task, responded) => {
    const started = clock();
    const prepared = await prepare(task, deps.endpoints, config.signatureHeaders, started);
    if (prepared.kind === 'unsendable') {
      const recorded = { statusCode: 0, response: prepared.reason, durationMs: 0 };
      if (!prepared.retryable) return outcomeOf(task, started, prepared.url, recorded, FAILED);
      return outcomeOf(task, started, prepared.url, recorded, decide(RETRY, task), NO_HOST_FACTS);
    }
    const sent = await deps.destination.send(prepared.endpoint, prepared.message, {
      timeoutMs: config.deliveryTimeout,
      signal: deps.signal,
    });
    responded();
    if (sent.kind === 'aborted') return undefined;
    const { state, signal } = classify(task, sent);
    return outcomeOf(task, started, prepared.endpoint.url, sent.recorded, state, signal);
  };
}

const SUCCEEDED: NextState = { next: MessageStatus.success, nextAttemptAt: null };
const FAILED: NextState = { next: MessageStatus.fail, nextAttemptAt: null };
/** A failure that says nothing about the host (no secret to sign with): retried on the schedule. */
const RETRY: Classification = {
  success: false,
  retryable: true,
  slowDown: false,
  gone: false,
  unreachable: false,
};

function outcomeOf(
  task: ClaimedTask,
  started: number,
  url: string,
  recorded: Recorded,
  { next, nextAttemptAt }: NextState,
  signal?: AttemptSignal,
): AttemptOutcome {
  return {
    signal,
    attempt: {
      id: newId('attempt', started),
      appId: task.appId,
      msgId: task.msgId,
      endpointId: task.endpointId,
      deliveryId: task.deliveryId,
      url,
      status: next === MessageStatus.success ? MessageStatus.success : MessageStatus.fail,
      responseStatusCode: recorded.statusCode,
      response: recorded.response,
      ...(recorded.headers ? { responseHeaders: recorded.headers } : {}),
      responseDurationMs: recorded.durationMs,
      triggerType: task.triggerType,
      createdAt: started,
    },
    next,
    nextAttemptAt,
  };
}
