/**
 * Turns a run's results into the three files people read: a Markdown report (tables, targets, the
 * durability promise of each contender), the raw JSON, and an SVG chart with one panel per scenario.
 */
import type { ContenderDef } from './contenders.ts';
import type { ScenarioDef, ScenarioName, ScenarioResult } from './scenarios.ts';

export interface RunInfo {
  readonly startedAt: string;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: string;
  readonly durationSeconds: number;
  /** 1-minute load average at the start and at the end: other work on the machine skews the numbers. */
  readonly loadAverage: readonly [number, number];
}

export interface Report {
  readonly info: RunInfo;
  readonly scenarios: readonly ScenarioDef[];
  readonly contenders: readonly Pick<ContenderDef, 'name' | 'description' | 'durability' | 'isHookyard'>[];
  readonly results: readonly ScenarioResult[];
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined) => (n === undefined ? '–' : n < 10 ? n.toFixed(1) : int(n));
const mb = (n: number | undefined) => (n === undefined ? '–' : int(n));
const cpu = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));

function find(report: Report, contender: string, scenario: ScenarioName): ScenarioResult | undefined {
  return report.results.find((r) => r.contender === contender && r.scenario === scenario);
}

function measured(
  result: ScenarioResult | undefined,
): result is ScenarioResult & { status: 'ok' | 'incomplete' } {
  return result !== undefined && (result.status === 'ok' || result.status === 'incomplete');
}

/** The number each scenario is judged by. */
function headline(result: ScenarioResult): number {
  return result.scenario === 'million' ? (result.peakRssMb ?? 0) : result.deliveriesPerSec;
}

function ratio(report: Report, contender: string, baseline: string, scenario: ScenarioName): string {
  const a = find(report, contender, scenario);
  const b = find(report, baseline, scenario);
  if (!measured(a) || !measured(b) || headline(b) === 0) return '–';
  return `${(headline(a) / headline(b)).toFixed(2)}×`;
}

interface Target {
  readonly text: string;
  readonly verdict: 'met' | 'missed' | 'not measured';
  readonly detail: string;
}

function targets(report: Report): Target[] {
  const hy = 'hookyard-sqlite';
  const steady = find(report, hy, 'steady');
  const out: Target[] = [];
  const judge = (text: string, value: number | undefined, ok: (v: number) => boolean, detail: string) =>
    out.push({
      text,
      verdict: value === undefined ? 'not measured' : ok(value) ? 'met' : 'missed',
      detail: value === undefined ? '' : detail,
    });
  const vs = (baseline: string) => {
    const a = find(report, hy, 'steady');
    const b = find(report, baseline, 'steady');
    return measured(a) && measured(b) && b.deliveriesPerSec > 0
      ? a.deliveriesPerSec / b.deliveriesPerSec
      : undefined;
  };
  const ceilingRatio = vs('ceiling');
  judge('(a) Hookyard SQLite ≥ 0.6 × ceiling', ceilingRatio, (v) => v >= 0.6, `${ceilingRatio?.toFixed(2)}×`);
  const bullRatio = vs('bullmq');
  judge('(a) Hookyard SQLite ≥ 1.0 × BullMQ', bullRatio, (v) => v >= 1.0, `${bullRatio?.toFixed(2)}×`);
  const latency = find(report, hy, 'latency');
  const p99 = measured(latency) ? latency.latencyMs?.p99 : undefined;
  judge('(b) p99 accepted→delivered ≤ 25 ms at 1,000 msg/s', p99, (v) => v <= 25, `p99 ${ms(p99)} ms`);
  const backlog = find(report, hy, 'backlog');
  const drainRatio =
    measured(backlog) && measured(steady) && steady.deliveriesPerSec > 0
      ? backlog.deliveriesPerSec / steady.deliveriesPerSec
      : undefined;
  judge(
    '(d) drain ≥ ½ × steady throughput (a)',
    drainRatio,
    (v) => v >= 0.5,
    `${int(backlog?.deliveriesPerSec ?? 0)}/s = ${drainRatio?.toFixed(2)}× of (a)`,
  );
  const million = find(report, hy, 'million');
  const rss = measured(million) ? million.peakRssMb : undefined;
  judge('RSS < 300 MB with 1,000,000 queued', rss, (v) => v < 300, `${mb(rss)} MB`);
  return out;
}

export function renderMarkdown(report: Report, chartFile: string): string {
  const { info } = report;
  const lines: string[] = [
    `# Hookyard benchmark, ${info.startedAt}`,
    '',
    `Command: \`${info.command}\` (${info.quick ? 'quick: small counts' : 'full counts'}), ${info.durationSeconds.toFixed(0)} s.`,
    `Machine: ${info.machine}; load average ${info.loadAverage[0].toFixed(1)} at the start, ${info.loadAverage[1].toFixed(1)} at the end. Everything on 127.0.0.1; the bench (load generator and receivers) shares the machine with the system under test.`,
    '',
    '## Summary',
    '',
    'Deliveries per second (latency: p99 accepted→delivered in ms; million: peak RSS in MB).',
    '',
    `| Contender | ${report.scenarios.map((s) => s.title).join(' | ')} |`,
    `| --- | ${report.scenarios.map(() => '---:').join(' | ')} |`,
    ...report.contenders.map(
      (c) =>
        `| ${c.name} | ${report.scenarios
          .map((s) => {
            const r = find(report, c.name, s.name);
            if (!measured(r)) return r ? r.status : '';
            const value =
              s.name === 'latency'
                ? `${ms(r.latencyMs?.p99)} ms`
                : s.name === 'million'
                  ? `${mb(r.peakRssMb)} MB`
                  : int(r.deliveriesPerSec);
            return r.status === 'ok' ? value : `${value} (incomplete)`;
          })
          .join(' | ')} |`,
    ),
    '',
    `![deliveries per second by scenario](${chartFile})`,
    '',
    '## Targets (Hookyard on SQLite, this run)',
    '',
    '| Target | Result | |',
    '| --- | --- | --- |',
    ...targets(report).map((t) => `| ${t.text} | **${t.verdict}** | ${t.detail} |`),
    '',
    '## Contenders and what they promise',
    '',
    '| Contender | What it is | Durability of an accepted event |',
    '| --- | --- | --- |',
    ...report.contenders.map((c) => `| ${c.name} | ${c.description} | ${c.durability} |`),
    '',
  ];

  for (const scenario of report.scenarios) {
    const isMillion = scenario.name === 'million';
    lines.push(`## ${scenario.title}`, '', scenarioBlurb(scenario), '');
    lines.push(
      isMillion
        ? '| Contender | Status | Accepted | Ingest/s | CPU s | Peak RSS MB | vs ceiling | vs BullMQ |'
        : '| Contender | Status | Deliveries/s | Latency p50 / p99 / max ms | Ingest/s | Delivered | CPU s | Peak RSS MB | vs ceiling | vs BullMQ |',
      isMillion
        ? '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |'
        : '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    const notes: string[] = [];
    for (const contender of report.contenders) {
      const r = find(report, contender.name, scenario.name);
      if (!r) continue;
      const status = r.status === 'ok' ? 'ok' : r.status;
      if (r.note) notes.push(`- ${contender.name}: ${r.note}`);
      const vsCeiling = contender.isHookyard ? ratio(report, contender.name, 'ceiling', scenario.name) : '';
      const vsBull = contender.isHookyard ? ratio(report, contender.name, 'bullmq', scenario.name) : '';
      if (!measured(r)) {
        lines.push(`| ${contender.name} | ${status} | ${isMillion ? '| | | | |' : '| | | | | | | |'}`);
        continue;
      }
      if (isMillion) {
        lines.push(
          `| ${contender.name} | ${status} | ${int(r.accepted)} | ${int(r.ingestPerSec)} | ${cpu(r.cpuSeconds)} | ${mb(r.peakRssMb)} | ${vsCeiling} | ${vsBull} |`,
        );
        continue;
      }
      const latency = r.latencyMs
        ? `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} / ${ms(r.latencyMs.max)}`
        : '–';
      lines.push(
        `| ${contender.name} | ${status} | ${int(r.deliveriesPerSec)} | ${latency} | ${int(r.ingestPerSec)} | ${int(r.delivered)} / ${int(r.expectedDeliveries)}${r.duplicates ? ` (+${int(r.duplicates)} dup)` : ''} | ${cpu(r.cpuSeconds)} | ${mb(r.peakRssMb)} | ${vsCeiling} | ${vsBull} |`,
      );
    }
    if (scenario.name === 'latency') {
      const e2e = report.results
        .filter((r) => r.scenario === 'latency' && r.endToEndMs)
        .map((r) => `${r.contender} p99 ${ms(r.endToEndMs!.p99)} ms`);
      if (e2e.length > 0)
        lines.push('', `Sent→delivered (includes the ingest round trip): ${e2e.join(', ')}.`);
    }
    if (notes.length > 0) lines.push('', ...notes);
    lines.push('');
  }
  lines.push(
    '## How to read this',
    '',
    '- Deliveries/s: distinct deliveries (per endpoint) divided by the time from the first event sent to the last delivery; for the backlog, from the receiver coming up to the last delivery.',
    '- Latency: from the 202 reaching the load generator to the request reaching the receiver, over every delivery (fan-out: every endpoint; flaky: including retries).',
    '- CPU s: user + system CPU of the contender’s processes (Node, Redis for BullMQ, the PostgreSQL backends of its database), from after set-up to the last delivery. PostgreSQL’s shared background processes (WAL writer, checkpointer) are not included.',
    '- Peak RSS: the sum of VmHWM of the contender’s processes (Node, plus Redis for BullMQ: Redis memory is where its queue lives). PostgreSQL server memory is not included.',
    '- vs ceiling / vs BullMQ: the Hookyard contender’s headline number (deliveries/s; RSS for the million) over theirs.',
  );
  return `${lines.join('\n')}\n`;
}

function scenarioBlurb(s: ScenarioDef): string {
  const n = s.messages.toLocaleString('en-US');
  switch (s.name) {
    case 'steady':
      return `${n} events of 1 KB to one endpoint, ${s.concurrency} ingest requests in flight.`;
    case 'latency':
      return `${n} events sent at a fixed ${s.rate} per second (open loop) to one endpoint.`;
    case 'fanout':
      return `${n} events, each delivered to 10 endpoints on 10 ports (${(s.messages * 10).toLocaleString('en-US')} deliveries), ${s.concurrency} ingest requests in flight.`;
    case 'backlog':
      return `${n} events accepted while the receiver holds every request unanswered (each contender keeps its bounded number of attempts in flight, the rest waits in its queue); then the receiver answers and the queue drains. Deliveries/s is the drain rate.`;
    case 'flaky':
      return `${n} events to one endpoint that answers 500 to 20 % of requests (at most 3 times per event); retries after ${s.retryDelaysMs.join(', ')} ms for every contender. Deliveries/s counts each event once, when it finally succeeds.`;
    case 'million':
      return `${n} events accepted while the receiver never answers; peak RSS of the system under test with all of them queued.`;
  }
}

// ---------------------------------------------------------------------------------------------------
// SVG chart: one panel per scenario, one bar per contender, Hookyard bars in one colour family.

const colours: Record<string, string> = {
  ceiling: '#9aa0a6',
  bullmq: '#d9534f',
  pgqueue: '#5b8def',
  'hookyard-sqlite': '#1b7f3b',
  'hookyard-pg': '#3fae5f',
  'hookyard-pg-split': '#8fd19e',
};

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function renderSvg(report: Report): string {
  const panelWidth = 430;
  const labelWidth = 130;
  const barHeight = 18;
  const gap = 6;
  const names = report.contenders.map((c) => c.name);
  const panelHeight = 40 + names.length * (barHeight + gap) + 10;
  const columns = 2;
  const rows = Math.ceil(report.scenarios.length / columns);
  const width = columns * panelWidth + 20;
  const height = 50 + rows * panelHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">${escapeXml(`Hookyard bench ${report.info.startedAt}${report.info.quick ? ' (quick)' : ''}: longer is better except where noted`)}</text>`,
  ];
  report.scenarios.forEach((scenario, index) => {
    const x0 = 10 + (index % columns) * panelWidth;
    const y0 = 40 + Math.floor(index / columns) * panelHeight;
    const isLatency = scenario.name === 'latency';
    const isMillion = scenario.name === 'million';
    const value = (r: ScenarioResult) =>
      isLatency ? (r.latencyMs?.p99 ?? 0) : isMillion ? (r.peakRssMb ?? 0) : r.deliveriesPerSec;
    const unit = isLatency
      ? 'ms p99 (shorter is better)'
      : isMillion
        ? 'MB peak RSS (shorter is better)'
        : 'deliveries/s';
    const results = names.map((name) => find(report, name, scenario.name));
    const max = Math.max(1, ...results.map((r) => (measured(r) ? value(r) : 0)));
    parts.push(
      `<text x="${x0}" y="${y0 + 14}" font-weight="bold">${escapeXml(scenario.title)}</text>`,
      `<text x="${x0}" y="${y0 + 28}" fill="#555">${escapeXml(unit)}</text>`,
    );
    names.forEach((name, i) => {
      const y = y0 + 36 + i * (barHeight + gap);
      const r = results[i];
      parts.push(
        `<text x="${x0 + labelWidth - 6}" y="${y + 13}" text-anchor="end">${escapeXml(name)}</text>`,
      );
      if (!measured(r)) {
        const why = r ? r.status : 'not run';
        parts.push(`<text x="${x0 + labelWidth}" y="${y + 13}" fill="#999">${escapeXml(why)}</text>`);
        return;
      }
      const v = value(r);
      const barWidth = Math.max(1, ((panelWidth - labelWidth - 80) * v) / max);
      const label = isLatency ? `${ms(v)} ms` : isMillion ? `${mb(v)} MB` : int(v);
      parts.push(
        `<rect x="${x0 + labelWidth}" y="${y}" width="${barWidth.toFixed(1)}" height="${barHeight}" fill="${colours[name] ?? '#777'}"/>`,
        `<text x="${x0 + labelWidth + barWidth + 4}" y="${y + 13}">${escapeXml(label + (r.status === 'incomplete' ? ' (incomplete)' : ''))}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
