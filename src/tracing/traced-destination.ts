import type { Destination } from '../delivery/destination.ts';
import type { Tracing } from './tracing.ts';

/**
 * Wraps a destination so that every send is an attempt span, and the message carries that span's
 * `traceparent` (an HTTP header; a broker's message property) so the receiver's trace joins. Composed
 * in main.ts only when tracing is on: off, the dispatcher talks to the destination itself.
 */
export function tracedDestination(destination: Destination, tracing: Tracing): Destination {
  return {
    async send(endpoint, message, options) {
      const span = tracing.startAttempt({
        traceContext: message.traceContext,
        msgId: message.msgId,
        endpointId: endpoint.id,
        appId: endpoint.appId,
      });
      const outcome = await destination.send(
        endpoint,
        { ...message, headers: { ...message.headers, traceparent: span.traceparent } },
        options,
      );
      span.end(outcome);
      return outcome;
    },
    close: () => destination.close(),
  };
}
