import { lazy, Suspense } from 'react';
import type { StatsPointOut } from '../api/types.ts';
import { useHydrated } from './use-hydrated.ts';

const SeriesChart = lazy(() => import('./series-chart.tsx'));

/**
 * A time-series chart of attempts (succeeded/failed) and latency. uPlot and the chart code load on
 * demand after hydration; the server, a browser without JavaScript and a screen reader get the
 * numbers as a compact table summary instead.
 */
export function Chart(props: { series: StatsPointOut[]; label: string; kind: 'volume' | 'latency' }) {
  const hydrated = useHydrated();
  const fallback = <ChartSummary {...props} />;
  if (!hydrated) return fallback;
  return (
    <Suspense fallback={fallback}>
      <SeriesChart {...props} />
    </Suspense>
  );
}

function ChartSummary({
  series,
  label,
  kind,
}: {
  series: StatsPointOut[];
  label: string;
  kind: 'volume' | 'latency';
}) {
  const active = series.filter((point) => point.succeeded + point.failed > 0);
  const sum = (pick: (point: StatsPointOut) => number) =>
    active.reduce((total, point) => total + pick(point), 0);
  const worst = active.reduce<number | null>(
    (max, point) => (point.p99LatencyMs === null ? max : Math.max(max ?? 0, point.p99LatencyMs)),
    null,
  );
  return (
    <div className="chart chart-summary" role="img" aria-label={label}>
      {kind === 'volume' ? (
        <p>
          {sum((p) => p.succeeded)} succeeded, {sum((p) => p.failed)} failed over {series.length} intervals (
          {active.length} with attempts).
        </p>
      ) : (
        <p>Highest p99 latency in an interval: {worst === null ? 'no deliveries' : `${worst} ms`}.</p>
      )}
    </div>
  );
}
