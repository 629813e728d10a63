import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventLoopMonitor } from '../../src/lifecycle/event-loop-monitor.ts';

test('the event-loop monitor reports a loop held longer than its limit as stuck, and recovers', async () => {
  const monitor = createEventLoopMonitor({ intervalMs: 20, stuckAfterMs: 1_000 });
  try {
    await sleep(50);
    assert.equal(monitor.stuck(), false);
    // Hold the loop well past the limit, as a runaway synchronous loop would.
    const until = performance.now() + 1_500;
    while (performance.now() < until) {
      // busy
    }
    assert.equal(monitor.stuck(), true);
    assert.ok(monitor.lagMs() > 1_000);
    assert.ok(monitor.delay().maxMs >= 0);
    await sleep(100);
    assert.equal(monitor.stuck(), false, 'once the timer runs again the loop is live');
  } finally {
    monitor.close();
  }
});
