import type { DestinationOutcome } from '../delivery/destination.ts';
import type { Logger } from '../log/logger.ts';
import type { MessageRecord } from '../storage/contract.ts';
import { tracingOptions } from './tracing-options.ts';

/**
 * OpenTelemetry tracing, off unless the standard `OTEL_*` variables ask for it (tracing-options.ts).
 * Off, nothing of the SDK is loaded and the hot path only tests whether a `Tracing` was passed; on, the
 * SDK is imported here, once, at start-up (otel-tracing.ts).
 *
 * The spans of a message: `hookyard.ingest` continues the caller's `traceparent`; its own traceparent is
 * stored with the message (`traceContext`), so each `hookyard.attempt`, in whichever worker process,
 * is a child of (and linked to) the ingest span and sends its own traceparent to the receiver;
 * `hookyard.commit` spans, one per group-commit transaction, come from the commit-batch events.
 */
export interface Tracing {
  /**
   * Runs one ingest inside its span: `run` gets the traceparent to store with the message. A child of
   * `callerTraceparent` when that is a valid W3C traceparent, else a new trace.
   */
  traceIngest(
    callerTraceparent: string | undefined,
    appId: string,
    run: (traceContext: string) => Promise<MessageRecord>,
  ): Promise<MessageRecord>;
  /** Starts the span of one attempt, in the trace of the message's ingest span when it has one. */
  startAttempt(attempt: AttemptSpanInput): AttemptSpan;
  /** Exports what is still buffered and stops. */
  close(): Promise<void>;
}

export interface AttemptSpanInput {
  readonly traceContext: string | undefined;
  readonly msgId: string;
  readonly endpointId: string;
  readonly appId: string;
}

export interface AttemptSpan {
  /** The traceparent the destination sends with the attempt (the attempt span's own). */
  readonly traceparent: string;
  end(outcome: DestinationOutcome): void;
}

/** The tracing the environment asks for, or undefined (off: the SDK is never loaded). */
export async function startTracing(env: NodeJS.ProcessEnv, logger: Logger): Promise<Tracing | undefined> {
  const options = tracingOptions(env);
  if (!options) return undefined;
  const { createOtelTracing } = await import('./otel-tracing.ts');
  const tracing = createOtelTracing(options);
  logger.info({ endpoint: options.url, serviceName: options.serviceName }, 'tracing on (OTLP/HTTP)');
  return tracing;
}
