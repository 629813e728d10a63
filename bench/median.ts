/**
 * `npm run bench -- --median a.json,b.json,c.json`: one report from several runs of the same command.
 *
 * Runs on a shared machine vary, so figures are stated as the median of three. For each contender and
 * scenario this picks the run whose headline number (deliveries/s; p99 sent→delivered for the latency
 * scenario; peak RSS for the million) is the median, and keeps that run's whole result, so every
 * figure in a row (latency, CPU, cost per delivery) comes from one real run rather than a mix. Ratios
 * and targets are then computed on those median rows as in any report. The runs must have the same
 * scenarios (a quick and a full run are not mixed).
 */
import { readFile } from 'node:fs/promises';
import type { Report } from './report.ts';
import type { ScenarioResult } from './scenarios.ts';

/** The figure a result is judged by: deliveries/s, or p99 sent→delivered (latency), or peak RSS (million). */
export function headline(result: ScenarioResult): number {
  if (result.scenario === 'million') return result.peakRssMb ?? 0;
  if (result.scenario === 'latency') return result.endToEndMs?.p99 ?? Number.POSITIVE_INFINITY;
  return result.deliveriesPerSec;
}

/** Deliveries/s: higher is better; the latency scenario's p99 and the million's RSS: lower. */
export function higherIsBetter(scenario: string): boolean {
  return scenario !== 'latency' && scenario !== 'million';
}

/** Which side of a before/after comparison, if any, won every one of its runs. */
export type Verdict = 'better' | 'worse' | 'within noise' | 'too few runs';

/** Fewer runs a side cannot tell a change from the machine's spread (docs/performance.md). */
const VERDICT_RUNS = 3;

function medianOf(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/**
 * `after` against `before` (headline figures of alternating runs): better when every run of `after`
 * beats the median of `before`, worse when every run of `before` beats the median of `after`, and
 * otherwise within the noise of the machine; no verdict with fewer than three runs a side.
 */
export function verdict(
  before: readonly number[],
  after: readonly number[],
  higherBetter: boolean,
): { verdict: Verdict; medianBefore: number; medianAfter: number } {
  const beats = (a: number, b: number) => (higherBetter ? a > b : a < b);
  const medians = { medianBefore: medianOf(before), medianAfter: medianOf(after) };
  if (before.length < VERDICT_RUNS || after.length < VERDICT_RUNS)
    return { verdict: 'too few runs', ...medians };
  const won = (runs: readonly number[], other: number) => runs.every((x) => beats(x, other));
  if (won(after, medians.medianBefore)) return { verdict: 'better', ...medians };
  if (won(before, medians.medianAfter)) return { verdict: 'worse', ...medians };
  return { verdict: 'within noise', ...medians };
}

/** A result with figures to judge (not unavailable, not failed). */
export const measured = (r: ScenarioResult) => r.status === 'ok' || r.status === 'incomplete';

/** The result holding the median headline among those measured (the lower middle of an even count). */
export function medianResult(results: readonly ScenarioResult[]): ScenarioResult | undefined {
  const candidates = results.filter(measured).sort((a, b) => headline(a) - headline(b));
  if (candidates.length === 0) return results[0];
  return candidates[Math.floor((candidates.length - 1) / 2)];
}

export function medianReport(reports: readonly Report[], command: string): Report {
  const first = reports[0];
  if (!first) throw new Error('--median needs at least one report');
  const names = (r: Report) => r.scenarios.map((s) => s.name).join(',');
  const mismatch = reports.find((r) => names(r) !== names(first) || r.info.quick !== first.info.quick);
  if (mismatch)
    throw new Error(
      `the runs differ: ${first.info.command} vs ${mismatch.info.command} (same command needed)`,
    );
  const contenders = first.contenders.filter((c) =>
    reports.every((r) => r.contenders.some((o) => o.name === c.name)),
  );
  const results: ScenarioResult[] = [];
  for (const contender of contenders) {
    for (const scenario of first.scenarios) {
      const runs = reports.flatMap((r) =>
        r.results.filter((x) => x.contender === contender.name && x.scenario === scenario.name),
      );
      const chosen = medianResult(runs);
      if (chosen) results.push(chosen);
    }
  }
  const load = reports.map((r) => r.info.loadAverage);
  return {
    info: {
      startedAt: first.info.startedAt,
      command,
      medianOf: { command: first.info.command, startedAt: reports.map((r) => r.info.startedAt) },
      quick: first.info.quick,
      machine: first.info.machine,
      durationSeconds: reports.reduce((sum, r) => sum + r.info.durationSeconds, 0),
      loadAverage: [Math.max(...load.map((l) => l[0])), Math.max(...load.map((l) => l[1]))],
    },
    scenarios: first.scenarios,
    contenders,
    results,
  };
}

export async function readReports(paths: readonly string[]): Promise<Report[]> {
  return Promise.all(paths.map(async (path) => JSON.parse(await readFile(path, 'utf8')) as Report));
}
