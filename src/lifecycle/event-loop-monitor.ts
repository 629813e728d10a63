import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Liveness: a timer ticks every `intervalMs`; when the time since its last tick exceeds the interval
 * by more than `stuckAfterMs`, something has held the event loop that long (a synchronous loop, a
 * blocking call) and the process no longer serves anyone in time. `/livez` answers 503 then, so an
 * orchestrator restarts a process that is wedged rather than merely busy. The delay histogram is
 * reported alongside for a human reading the probe.
 */
export interface EventLoopMonitor {
  /** How far the loop is behind right now, in milliseconds. */
  lagMs(): number;
  stuck(): boolean;
  /** Event-loop delay since the previous call (p99 and max, milliseconds), then starts a new window. */
  delay(): { p99Ms: number; maxMs: number };
  close(): void;
}

export interface EventLoopMonitorOptions {
  readonly intervalMs?: number;
  readonly stuckAfterMs?: number;
}

export function createEventLoopMonitor(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const intervalMs = options.intervalMs ?? 500;
  const stuckAfterMs = options.stuckAfterMs ?? 10_000;
  let lastTick = performance.now();
  const timer = setInterval(() => {
    lastTick = performance.now();
  }, intervalMs);
  // Never keeps the process alive on its own.
  timer.unref();
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();

  const lagMs = () => Math.max(0, performance.now() - lastTick - intervalMs);
  return {
    lagMs,
    stuck: () => lagMs() > stuckAfterMs,
    delay() {
      const nsToMs = (ns: number) => Math.round(ns / 1e4) / 100;
      const result =
        histogram.count === 0
          ? { p99Ms: 0, maxMs: 0 }
          : { p99Ms: nsToMs(histogram.percentile(99)), maxMs: nsToMs(histogram.max) };
      histogram.reset();
      return result;
    },
    close() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
