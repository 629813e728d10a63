import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyError, classifyStatus } from '../../src/domain/outcome-classification.ts';
import { jittered, nextState, parseRetryAfter } from '../../src/domain/retry-policy.ts';
import { MessageStatus } from '../../src/storage/contract.ts';

const SCHEDULE = [5_000, 300_000, 1_800_000];
const NOW = 1_700_000_000_000;
const middle = () => 0.5;

describe('outcome classification', () => {
  it('treats 2xx as success and everything else as a retryable failure', () => {
    for (const status of [200, 201, 204, 299])
      assert.equal(classifyStatus(status).success, true, String(status));
    for (const status of [100, 199, 300, 301, 302, 304, 400, 401, 404, 410, 429, 500, 503]) {
      const c = classifyStatus(status);
      assert.equal(c.success, false, String(status));
      assert.equal(c.retryable, true, String(status));
    }
    assert.equal(classifyStatus(410).gone, true);
    for (const status of [429, 502, 503, 504]) assert.equal(classifyStatus(status).slowDown, true);
    assert.equal(classifyStatus(500).slowDown, false);
  });

  it('retries every error with no response, known or not', () => {
    for (const errno of ['ECONNREFUSED', 'ETIMEDOUT', 'EADDRBLOCKED', 'SOMETHING_NEW']) {
      const { unreachable: _, ...rest } = classifyError(errno);
      assert.deepEqual(rest, { success: false, retryable: true, slowDown: false, gone: false });
    }
  });

  it('marks only the errors that say the host is down as unreachable (circuit breaker)', () => {
    for (const errno of ['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT'])
      assert.equal(classifyError(errno).unreachable, true, errno);
    for (const errno of ['ECONNRESET', 'EADDRBLOCKED', 'ENOSECRET', 'SOMETHING_NEW'])
      assert.equal(classifyError(errno).unreachable, false, errno);
    for (const status of [200, 410, 500, 503]) assert.equal(classifyStatus(status).unreachable, false);
  });
});

describe('retry policy', () => {
  it('walks the schedule after the immediate first attempt, then fails', () => {
    const failure = classifyStatus(500);
    SCHEDULE.forEach((delay, attemptsBefore) => {
      assert.deepEqual(
        nextState({ classification: failure, attemptsBefore, schedule: SCHEDULE, now: NOW, random: middle }),
        {
          next: MessageStatus.sending,
          nextAttemptAt: NOW + delay,
        },
      );
    });
    assert.deepEqual(
      nextState({ classification: failure, attemptsBefore: SCHEDULE.length, schedule: SCHEDULE, now: NOW }),
      { next: MessageStatus.fail, nextAttemptAt: null },
    );
  });

  it('succeeds whatever the attempt count', () => {
    assert.deepEqual(
      nextState({ classification: classifyStatus(204), attemptsBefore: 99, schedule: SCHEDULE, now: NOW }),
      {
        next: MessageStatus.success,
        nextAttemptAt: null,
      },
    );
  });

  it('applies ±20 % jitter', () => {
    assert.equal(
      jittered(10_000, () => 0),
      8_000,
    );
    assert.equal(
      jittered(10_000, () => 0.999999),
      12_000,
    );
    assert.equal(jittered(10_000, middle), 10_000);
  });

  it('honours Retry-After on slow-down statuses, as a floor, clamped to [1 s, 24 h]', () => {
    const at = (status: number, retryAfter: string, attemptsBefore = 0) =>
      nextState({
        classification: classifyStatus(status),
        attemptsBefore,
        schedule: SCHEDULE,
        now: NOW,
        retryAfterMs: parseRetryAfter(retryAfter, NOW),
        random: middle,
      }).nextAttemptAt;
    assert.equal(at(429, '120'), NOW + 120_000);
    assert.equal(at(503, '1'), NOW + 5_000, 'never earlier than the schedule');
    assert.equal(at(503, '0', 0), NOW + 5_000);
    assert.equal(at(429, String(10 * 86_400)), NOW + 86_400_000);
    assert.equal(at(500, '120'), NOW + 5_000, 'ignored on a plain failure');
    assert.equal(at(429, 'soon'), NOW + 5_000);
    assert.equal(at(429, new Date(NOW + 600_000).toUTCString()), NOW + 600_000);
    // Retry-After never adds attempts beyond the schedule.
    assert.equal(at(429, '60', SCHEDULE.length), null);
  });

  it('parses both Retry-After forms', () => {
    assert.equal(parseRetryAfter(' 30 ', NOW), 30_000);
    assert.equal(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')),
      60_000,
    );
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2016-01-01T00:00:00Z')), 0);
    assert.equal(parseRetryAfter('-5', NOW), undefined);
    assert.equal(parseRetryAfter('2020', NOW), 2_020_000);
  });
});
