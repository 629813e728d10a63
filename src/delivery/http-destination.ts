import { type Classification, classifyError, classifyStatus } from '../domain/outcome-classification.ts';
import { parseRetryAfter } from '../domain/retry-policy.ts';
import type { Destination, DestinationOutcome, HostFacts } from './destination.ts';
import type { HttpClient, SendResult } from './http-client.ts';

/**
 * HTTP endpoints: a signed POST through the HTTP client (keep-alive pools, address guard), its answer
 * classified by the status and errno tables of domain/outcome-classification.ts. A 2xx succeeds; every
 * other answer and every error is retryable (410 also says the endpoint is gone, 429/502/503/504 ask
 * to slow down, with `Retry-After` honoured).
 */
export function createHttpDestination(client: HttpClient, clock: () => number = Date.now): Destination {
  return {
    async send(endpoint, message, options) {
      const result = await client.send({
        url: endpoint.url,
        headers: message.headers,
        body: message.body,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        egress: endpoint.egress,
      });
      return outcomeOf(result, clock());
    },
    close: () => client.close(),
  };
}

export function outcomeOf(result: SendResult, now: number): DestinationOutcome {
  if (result.kind === 'error') {
    if (result.errno === 'ABORTED') return { kind: 'aborted' };
    const recorded = { statusCode: 0, response: result.reason, durationMs: result.durationMs };
    return { kind: 'retryable', recorded, host: hostFacts(classifyError(result.errno), false) };
  }
  const recorded = {
    statusCode: result.status,
    response: result.body,
    headers: result.headers,
    durationMs: result.durationMs,
  };
  const classification = classifyStatus(result.status);
  if (classification.success) return { kind: 'success', recorded };
  const host = hostFacts(classification, true);
  const retryAfterMs =
    host.slowDown && result.retryAfter !== undefined ? parseRetryAfter(result.retryAfter, now) : undefined;
  // The tables retry every failure (Svix does the same); a table row marked not retryable fails at once.
  if (!classification.retryable) return { kind: 'permanent', recorded, host };
  return { kind: 'retryable', recorded, host, retryAfterMs };
}

function hostFacts(classification: Classification, reached: boolean): HostFacts {
  return {
    reached,
    unreachable: classification.unreachable,
    gone: classification.gone,
    slowDown: classification.slowDown,
  };
}
