/**
 * What one attempt to hand a message to a destination came to, in terms every destination type
 * shares (HTTP status codes, AMQP replies and SQL states are translated before they get here):
 * - `success`: the destination took the message (an HTTP 2xx, a broker's confirmation, a commit);
 * - `retryable`: it did not, and a later attempt may succeed (the retry schedule applies;
 *   `retryAfterMs`, when the destination said when to come back, is a lower bound on the wait);
 * - `permanent`: it did not, and repeating the same message to the same config never will.
 * `response` / `error` is the text recorded with the attempt.
 */
export type DestinationOutcome =
  | { readonly kind: 'success'; readonly response: string; readonly durationMs: number }
  | {
      readonly kind: 'retryable';
      readonly error: string;
      readonly retryAfterMs?: number;
      readonly durationMs: number;
    }
  | { readonly kind: 'permanent'; readonly error: string; readonly durationMs: number };
