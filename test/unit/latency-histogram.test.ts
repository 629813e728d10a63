import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  histogramQuantile,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  latencyBucket,
} from '../../src/domain/latency-histogram.ts';
import { seriesOf, totalsOf } from '../../src/domain/stats-summary.ts';

test('latencies fall in the bucket whose upper bound holds them', () => {
  assert.equal(latencyBucket(0), 0);
  assert.equal(latencyBucket(10), 0);
  assert.equal(latencyBucket(11), 1);
  assert.equal(latencyBucket(1_000), 6);
  assert.equal(latencyBucket(10 * 3_600_000), LATENCY_BUCKETS - 1);
  assert.equal(LATENCY_BUCKETS, LATENCY_BOUNDS_MS.length + 1);
});

test('quantiles interpolate inside their bucket; empty is null', () => {
  const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
  assert.equal(histogramQuantile(counts, 0.5), null);
  counts[0] = 50; // 0..10 ms
  counts[6] = 50; // 500..1000 ms
  assert.equal(histogramQuantile(counts, 0.5), 10);
  assert.equal(histogramQuantile(counts, 0.99), 990);
  counts[LATENCY_BUCKETS - 1] = 1_000;
  assert.equal(histogramQuantile(counts, 0.99), LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]);
});

test('totals add minutes; series has one point per interval, empty ones included', () => {
  const latency = (bucket: number, count: number) => {
    const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
    counts[bucket] = count;
    return counts;
  };
  const minutes = [
    { minute: 60_000, succeeded: 3, failed: 1, durationMsSum: 400, latency: latency(2, 3) },
    { minute: 240_000, succeeded: 1, failed: 0, durationMsSum: 100, latency: latency(2, 1) },
  ];
  assert.deepEqual(totalsOf(minutes), {
    succeeded: 4,
    failed: 1,
    successRate: 0.8,
    p50LatencyMs: 38,
    p99LatencyMs: 50,
    avgResponseMs: 100,
  });
  const series = seriesOf(minutes, 0, 300_000, 120_000);
  assert.deepEqual(
    series.map((point) => [point.start, point.succeeded, point.failed]),
    [
      [0, 3, 1],
      [120_000, 0, 0],
      [240_000, 1, 0],
    ],
  );
  assert.equal(series[1]?.successRate, null);
});
