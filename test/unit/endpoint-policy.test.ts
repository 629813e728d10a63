import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applySignals,
  type EndpointSignal,
  healthyEndpoint,
  pauseUntil,
  throttle,
} from '../../src/domain/endpoint-policy.ts';
import { parseRetryAfter } from '../../src/domain/retry-policy.ts';

const POLICY = { disableAfterMs: 5 * 86_400_000, circuitThreshold: 3, probeIntervalMs: 30_000 };
const NOW = 1_700_000_000_000;
const signal = (at: number, overrides: Partial<EndpointSignal> = {}): EndpointSignal => ({
  at,
  success: false,
  responded: false,
  unreachable: true,
  gone: false,
  pauseUntil: null,
  ...overrides,
});

describe('endpoint health', () => {
  it('opens the circuit after the threshold of unreachable attempts and closes it on any response', () => {
    const two = applySignals(healthyEndpoint, [signal(NOW), signal(NOW + 1)], POLICY);
    assert.equal(two.health.circuit, 'closed');
    const three = applySignals(two.health, [signal(NOW + 2)], POLICY);
    assert.deepEqual(
      [three.opened, three.health.circuit, three.health.nextProbeAt],
      [true, 'open', NOW + 30_002],
    );
    const answered = applySignals(
      three.health,
      [signal(NOW + 40_000, { unreachable: false, responded: true })],
      POLICY,
    );
    assert.deepEqual(
      [answered.closed, answered.health.circuit, answered.health.unreachableCount],
      [true, 'closed', 0],
    );
    assert.notEqual(answered.health.failSince, null, 'a 500 answers but is still a failure');
  });

  it('disables after failing for disableAfter, or at once on 410; a success resets the clock', () => {
    const start = applySignals(healthyEndpoint, [signal(NOW, { unreachable: false })], POLICY);
    assert.equal(start.health.failSince, NOW);
    assert.equal(
      applySignals(start.health, [signal(NOW + POLICY.disableAfterMs - 1)], POLICY).disable,
      false,
    );
    assert.equal(applySignals(start.health, [signal(NOW + POLICY.disableAfterMs)], POLICY).disable, true);
    const recovered = applySignals(
      start.health,
      [signal(NOW + 1, { success: true, responded: true })],
      POLICY,
    );
    assert.equal(recovered.health.failSince, null);
    assert.equal(
      applySignals(healthyEndpoint, [signal(NOW, { gone: true, responded: true })], POLICY).disable,
      true,
    );
  });

  it('pauses for Retry-After within bounds, or the default', () => {
    const policy = { defaultPauseMs: 60_000, maxPauseMs: 3_600_000 };
    assert.equal(pauseUntil(undefined, NOW, policy), NOW + 60_000);
    assert.equal(pauseUntil(parseRetryAfter('7', NOW), NOW, policy), NOW + 7_000);
    assert.equal(pauseUntil(parseRetryAfter('0', NOW), NOW, policy), NOW + 1_000);
    assert.equal(pauseUntil(parseRetryAfter('999999', NOW), NOW, policy), NOW + 3_600_000);
    assert.equal(pauseUntil(parseRetryAfter('soon', NOW), NOW, policy), NOW + 60_000);
  });
});

describe('throttle (GCRA)', () => {
  it('admits a burst of one second, then one interval at a time, spreading the rest', () => {
    const first = throttle(null, NOW, 4, 10);
    assert.equal(first.admitted, 4);
    assert.deepEqual(first.later.slice(0, 3), [NOW + 250, NOW + 500, NOW + 750]);
    const soon = throttle(first.tat, NOW + 100, 4, 10);
    assert.equal(soon.admitted, 0);
    const later = throttle(first.tat, NOW + 250, 4, 10);
    assert.equal(later.admitted, 1);
  });

  it('never admits more than rate * window + burst', () => {
    let tat: number | null = null;
    let sent = 0;
    for (let now = NOW; now < NOW + 10_000; now += 7) {
      const decision = throttle(tat, now, 3, 5);
      tat = decision.tat;
      sent += decision.admitted;
    }
    assert.ok(sent <= 3 * 10 + 3, `${sent}`);
    assert.ok(sent >= 3 * 10 - 1, `${sent}`);
  });
});
