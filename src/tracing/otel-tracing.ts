/**
 * The OpenTelemetry SDK behind `Tracing`: loaded by tracing.ts only when tracing is on. Spans go through
 * a batch processor to the OTLP/HTTP (JSON) exporter. No global provider or context manager is
 * installed: every parent is passed explicitly, from a traceparent, so nothing else in the process is
 * instrumented by accident.
 */
import {
  type Context,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { type CommitBatch, events } from '../observability/events.ts';
import { version } from '../version.ts';
import type { AttemptSpan, AttemptSpanInput, Tracing } from './tracing.ts';
import type { SamplerName, TracingOptions } from './tracing-options.ts';

export function createOtelTracing(options: TracingOptions): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: version,
    }),
    sampler: samplerOf(options),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: options.url }),
        scheduledDelayMillis: options.scheduledDelayMs,
      }),
    ],
  });
  const tracer = provider.getTracer('hookyard', version);

  // A group-commit transaction serves many messages (of many traces), so its span is a root of its own.
  const onCommit = (batch: CommitBatch) => {
    tracer
      .startSpan(
        'hookyard.commit',
        {
          kind: SpanKind.INTERNAL,
          root: true,
          startTime: performance.timeOrigin + performance.now() - batch.durationMs,
          attributes: { 'hookyard.commit.kind': batch.kind, 'hookyard.commit.size': batch.size },
        },
        ROOT_CONTEXT,
      )
      .end();
  };
  events.commitBatch.subscribe(onCommit);

  return {
    async traceIngest(callerTraceparent, appId, run) {
      const parent = contextOf(callerTraceparent);
      const span = tracer.startSpan(
        'hookyard.ingest',
        { kind: SpanKind.SERVER, attributes: { 'hookyard.app.id': appId } },
        parent,
      );
      try {
        const message = await run(traceparentOf(span.spanContext()));
        span.setAttributes({ 'hookyard.message.id': message.id, 'hookyard.event_type': message.eventType });
        return message;
      } catch (error) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    },

    startAttempt(attempt: AttemptSpanInput): AttemptSpan {
      const ingest = attempt.traceContext === undefined ? null : parseTraceParent(attempt.traceContext);
      const links: Link[] = ingest ? [{ context: ingest }] : [];
      const span = tracer.startSpan(
        'hookyard.attempt',
        {
          kind: SpanKind.CLIENT,
          links,
          attributes: {
            'hookyard.app.id': attempt.appId,
            'hookyard.message.id': attempt.msgId,
            'hookyard.endpoint.id': attempt.endpointId,
          },
        },
        ingest ? trace.setSpanContext(ROOT_CONTEXT, ingest) : ROOT_CONTEXT,
      );
      return {
        traceparent: traceparentOf(span.spanContext()),
        end(outcome) {
          if (outcome.kind === 'aborted') {
            span.setAttribute('hookyard.attempt.outcome', 'aborted');
          } else {
            span.setAttributes({
              'hookyard.attempt.outcome': outcome.kind,
              'hookyard.attempt.duration_ms': outcome.recorded.durationMs,
              'http.response.status_code': outcome.recorded.statusCode,
            });
            if (outcome.kind !== 'success')
              span.setStatus({
                code: SpanStatusCode.ERROR,
                message: outcome.recorded.response.slice(0, 200),
              });
          }
          span.end();
        },
      };
    },

    async close() {
      events.commitBatch.unsubscribe(onCommit);
      await provider.shutdown();
    },
  };
}

function contextOf(traceparent: string | undefined): Context {
  const parent = traceparent === undefined ? null : parseTraceParent(traceparent.trim());
  return parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT;
}

function traceparentOf(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
}

function samplerOf(options: TracingOptions): Sampler {
  const base: Record<SamplerName, () => Sampler> = {
    always_on: () => new AlwaysOnSampler(),
    always_off: () => new AlwaysOffSampler(),
    traceidratio: () => new TraceIdRatioBasedSampler(options.ratio),
    parentbased_always_on: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    parentbased_always_off: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    parentbased_traceidratio: () =>
      new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.ratio) }),
  };
  return base[options.sampler]();
}
