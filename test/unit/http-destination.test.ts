import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf } from '../../src/delivery/http-destination.ts';

const NOW = 1_700_000_000_000;
const response = (status: number, retryAfter?: string) =>
  ({
    kind: 'response',
    status,
    body: 'answer',
    durationMs: 12,
    waitMs: 0,
    retryAfter,
    headers: { 'x-served-by': 'edge-1' },
  }) as const;
const error = (errno: string) =>
  ({ kind: 'error', reason: `failed (${errno})`, errno, durationMs: 7, waitMs: 0 }) as const;

describe('the HTTP destination maps answers onto destination-neutral outcomes', () => {
  it('2xx succeeds, with the response recorded', () => {
    assert.deepEqual(outcomeOf(response(204), NOW), {
      kind: 'success',
      recorded: { statusCode: 204, response: 'answer', headers: { 'x-served-by': 'edge-1' }, durationMs: 12 },
    });
  });

  it('any other status is retryable, and says the host answered', () => {
    const outcome = outcomeOf(response(500), NOW);
    assert.equal(outcome.kind, 'retryable');
    assert.deepEqual(outcome.kind === 'retryable' && outcome.host, {
      reached: true,
      unreachable: false,
      gone: false,
      slowDown: false,
    });
    assert.equal(outcome.kind === 'retryable' && outcome.retryAfterMs, undefined);
  });

  it('410 says gone; 429 and 503 ask to slow down, with Retry-After as milliseconds', () => {
    const gone = outcomeOf(response(410, '30'), NOW);
    assert.ok(gone.kind === 'retryable' && gone.host.gone && gone.retryAfterMs === undefined);
    const limited = outcomeOf(response(429, '7'), NOW);
    assert.ok(limited.kind === 'retryable' && limited.host.slowDown);
    assert.equal(limited.kind === 'retryable' && limited.retryAfterMs, 7_000);
    const unavailable = outcomeOf(response(503, new Date(NOW + 60_000).toUTCString()), NOW);
    assert.equal(unavailable.kind === 'retryable' && unavailable.retryAfterMs, 60_000);
  });

  it('no response: retryable, unreachable when the host looks down, and nothing at all on shutdown', () => {
    const refused = outcomeOf(error('ECONNREFUSED'), NOW);
    assert.ok(refused.kind === 'retryable' && !refused.host.reached && refused.host.unreachable);
    assert.deepEqual(refused.kind === 'retryable' && refused.recorded, {
      statusCode: 0,
      response: 'failed (ECONNREFUSED)',
      durationMs: 7,
    });
    const reset = outcomeOf(error('ECONNRESET'), NOW);
    assert.ok(reset.kind === 'retryable' && !reset.host.unreachable);
    assert.deepEqual(outcomeOf(error('ABORTED'), NOW), { kind: 'aborted' });
    // Never sent (no pooled connection freed up in time): a retry, but no sign the host is down.
    const unsent = outcomeOf(error('EPOOLWAIT'), NOW);
    assert.ok(unsent.kind === 'retryable' && !unsent.host.reached && !unsent.host.unreachable);
  });
});
