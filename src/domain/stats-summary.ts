import { histogramQuantile } from './latency-histogram.ts';

/** A minute of the stats rollup, as counted (the shape of the storage's StatsPoint). */
export interface MinuteCounts {
  minute: number;
  succeeded: number;
  failed: number;
  durationMsSum: number;
  latency: readonly number[];
}

export interface Totals {
  succeeded: number;
  failed: number;
  successRate: number | null;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  avgResponseMs: number | null;
}

/** Adds minutes together and reads rate, percentiles and mean response time off the sum. */
export function totalsOf(points: readonly Omit<MinuteCounts, 'minute'>[]): Totals {
  let succeeded = 0;
  let failed = 0;
  let durationMsSum = 0;
  const latency: number[] = [];
  for (const point of points) {
    succeeded += point.succeeded;
    failed += point.failed;
    durationMsSum += point.durationMsSum;
    point.latency.forEach((count, index) => {
      latency[index] = (latency[index] ?? 0) + count;
    });
  }
  const attempts = succeeded + failed;
  return {
    succeeded,
    failed,
    successRate: attempts === 0 ? null : succeeded / attempts,
    p50LatencyMs: histogramQuantile(latency, 0.5),
    p99LatencyMs: histogramQuantile(latency, 0.99),
    avgResponseMs: attempts === 0 ? null : Math.round(durationMsSum / attempts),
  };
}

/**
 * Groups minutes into intervals of `intervalMs` covering [since, until), one entry per interval
 * including the empty ones, so a chart's x axis is continuous.
 */
export function seriesOf(
  minutes: readonly MinuteCounts[],
  since: number,
  until: number,
  intervalMs: number,
): Array<{ start: number } & Totals> {
  const first = Math.floor(since / intervalMs) * intervalMs;
  const groups = new Map<number, MinuteCounts[]>();
  for (const minute of minutes) {
    const start = Math.floor(minute.minute / intervalMs) * intervalMs;
    let group = groups.get(start);
    if (!group) {
      group = [];
      groups.set(start, group);
    }
    group.push(minute);
  }
  const out: Array<{ start: number } & Totals> = [];
  for (let start = first; start < until; start += intervalMs) {
    out.push({ start, ...totalsOf(groups.get(start) ?? []) });
  }
  return out;
}
