import { MessageStatus } from './delivery-status.ts';
import type { Classification } from './outcome-classification.ts';

/** ±20 %: retries of a burst that failed together spread out instead of arriving together again. */
export const JITTER = 0.2;
const RETRY_AFTER_MIN_MS = 1_000;
const RETRY_AFTER_MAX_MS = 24 * 3_600_000;

export interface RetryInput {
  readonly classification: Classification;
  /** Attempts made before the one just finished (`ClaimedTask.attempts`). */
  readonly attemptsBefore: number;
  /** Delays before each retry after the first, immediate attempt (`config.retrySchedule`). */
  readonly schedule: readonly number[];
  readonly now: number;
  /** The receiver's "not before" as a delay from `now`, consulted only when the classification says slow down. */
  readonly retryAfterMs?: number | undefined;
  /** [0, 1); injectable so tests are exact. */
  readonly random?: () => number;
}

export interface NextState {
  readonly next: MessageStatus;
  readonly nextAttemptAt: number | null;
}

/**
 * The delivery's state after an attempt. With a schedule of n delays a delivery gets n + 1 attempts;
 * after the last one fails it is `fail`. A receiver's Retry-After postpones the retry (never brings
 * it forward: it means "not before"), clamped to [1 s, 24 h] so a hostile value cannot park a
 * delivery for a year.
 */
export function nextState(input: RetryInput): NextState {
  if (input.classification.success) return { next: MessageStatus.success, nextAttemptAt: null };
  const delay = input.schedule[input.attemptsBefore];
  if (!input.classification.retryable || delay === undefined)
    return { next: MessageStatus.fail, nextAttemptAt: null };
  let wait = jittered(delay, input.random ?? Math.random);
  const asked = input.retryAfterMs;
  if (input.classification.slowDown && asked !== undefined)
    wait = Math.max(wait, Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, asked)));
  return { next: MessageStatus.sending, nextAttemptAt: input.now + wait };
}

export function jittered(delay: number, random: () => number): number {
  return Math.round(delay * (1 + JITTER * (2 * random() - 1)));
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - now);
}
