import type { Destination, DestinationOutcome } from '../delivery/destination.ts';
import type { Tracing } from './tracing.ts';

/**
 * Wraps a destination so that every send is an attempt span, and the message carries that span's
 * `traceparent` (an HTTP header; a broker's message property) so the receiver's trace joins. Composed
 * in main.ts only when tracing is on: off, the dispatcher talks to the destination itself.
 */
const THREW: DestinationOutcome = {
  kind: 'permanent',
  recorded: { statusCode: 0, response: 'the destination threw', durationMs: 0 },
  host: { reached: false, unreachable: false, gone: false, slowDown: false },
};

export function tracedDestination(destination: Destination, tracing: Tracing): Destination {
  type Message = Parameters<Destination['send']>[1];
  const startSpan = (endpoint: Parameters<Destination['send']>[0], message: Message) =>
    tracing.startAttempt({
      traceContext: message.traceContext,
      msgId: message.msgId,
      endpointId: endpoint.id,
      appId: endpoint.appId,
    });
  return {
    async send(endpoint, message, options) {
      const span = startSpan(endpoint, message);
      let outcome: DestinationOutcome | undefined;
      try {
        outcome = await destination.send(
          endpoint,
          { ...message, headers: { ...message.headers, traceparent: span.traceparent } },
          options,
        );
        return outcome;
      } finally {
        // A destination answers with an outcome rather than throwing; if one throws all the same, its
        // span still ends (as a failure without a response).
        span.end(outcome ?? THREW);
      }
    },
    // An ordered broker batch: a span per message, each message carrying its own traceparent.
    ...(destination.sendEach
      ? {
          async sendEach(endpoint, messages, options) {
            const spans = messages.map((message) => startSpan(endpoint, message));
            let outcome: DestinationOutcome | undefined;
            try {
              outcome = await destination.sendEach!(
                endpoint,
                messages.map((message, index) => ({
                  ...message,
                  headers: { ...message.headers, traceparent: spans[index]!.traceparent },
                })),
                options,
              );
              return outcome;
            } finally {
              for (const span of spans) span.end(outcome ?? THREW);
            }
          },
        }
      : {}),
    close: () => destination.close(),
  };
}
