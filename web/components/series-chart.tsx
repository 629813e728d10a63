import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { StatsPointOut } from '../api/types.ts';

/** The uPlot chart itself (its own chunk, loaded by chart.tsx). Colours come from the CSS theme. */
export default function SeriesChart(props: {
  series: StatsPointOut[];
  label: string;
  kind: 'volume' | 'latency';
}) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const style = getComputedStyle(element);
    const color = (name: string) => style.getPropertyValue(name).trim() || '#888';
    const times = props.series.map((point) => Date.parse(point.time) / 1000);
    const data: uPlot.AlignedData =
      props.kind === 'volume'
        ? [times, props.series.map((p) => p.succeeded), props.series.map((p) => p.failed)]
        : [times, props.series.map((p) => p.p50LatencyMs), props.series.map((p) => p.p99LatencyMs)];
    const names =
      props.kind === 'volume' ? ['Succeeded', 'Failed'] : ['p50 latency (ms)', 'p99 latency (ms)'];
    const strokes =
      props.kind === 'volume' ? [color('--ok'), color('--bad')] : [color('--accent'), color('--warn')];
    const axis = {
      stroke: color('--muted'),
      grid: { stroke: color('--grid') },
      ticks: { stroke: color('--grid') },
    };
    const plot = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 180,
        // Latency exists only where something was delivered: isolated intervals are drawn as points
        // (uPlot hides points on dense axes and draws no line through gaps).
        series: [
          {},
          ...names.map((label, index) => ({
            label,
            stroke: strokes[index] ?? '#888',
            width: 2,
            ...(props.kind === 'latency'
              ? { points: { show: true, size: 6, fill: strokes[index] ?? '#888' } }
              : {}),
          })),
        ],
        axes: [axis, axis],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      element,
    );
    const observer = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, element.clientWidth), height: 180 }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [props.series, props.kind]);
  return <div ref={container} className="chart" role="img" aria-label={props.label} />;
}
