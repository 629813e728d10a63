/**
 * The fixed latency buckets the stats rollup counts into (upper bounds in milliseconds, the last one
 * open). Fixed bounds make histograms of different minutes and endpoints addable column by column, so
 * a chart over a day is a SUM, never a scan of attempts. Log-spaced from 10 ms to 2 h: a percentile
 * read from them is exact to the bucket, which is what an operator's "p99 is around 2.5 s" needs.
 */
export const LATENCY_BOUNDS_MS = [
  10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 1_800_000, 7_200_000,
] as const;
/** One more bucket than bounds: everything above the last bound. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export function latencyBucket(ms: number): number {
  for (let index = 0; index < LATENCY_BOUNDS_MS.length; index++) {
    if (ms <= (LATENCY_BOUNDS_MS[index] as number)) return index;
  }
  return LATENCY_BOUNDS_MS.length;
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram, interpolated linearly inside the bucket it falls in
 * (the open last bucket reports its lower bound). null for an empty histogram.
 */
export function histogramQuantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index] ?? 0;
    if (count > 0 && seen + count >= rank) {
      const lower = index === 0 ? 0 : (LATENCY_BOUNDS_MS[index - 1] as number);
      const upper = LATENCY_BOUNDS_MS[index];
      if (upper === undefined) return lower;
      return Math.round(lower + ((upper - lower) * (rank - seen)) / count);
    }
    seen += count;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] as number;
}
