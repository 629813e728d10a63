/**
 * What one publish to a broker came to, in terms every broker shares (AMQP replies, NATS acks, MQTT
 * reason codes and SQL states are translated before they get here); `broker-destination.ts` maps it
 * onto the dispatcher's `DestinationOutcome`:
 * - `success`: the broker took the message (a confirmation, an ack, a commit);
 * - `retryable`: it did not, and a later attempt may succeed (the retry schedule applies;
 *   `retryAfterMs`, when the destination said when to come back, is a lower bound on the wait);
 * - `permanent`: it did not, and repeating the same message to the same config never will.
 * `response` / `error` is the text recorded with the attempt.
 */
export type PublishOutcome =
  | { readonly kind: 'success'; readonly response: string; readonly durationMs: number }
  | {
      readonly kind: 'retryable';
      readonly error: string;
      readonly retryAfterMs?: number;
      readonly durationMs: number;
    }
  | { readonly kind: 'permanent'; readonly error: string; readonly durationMs: number };
