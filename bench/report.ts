/**
 * Turns a run's results into the three files people read: a Markdown report (tables, targets, the
 * durability promise of each contender), the raw JSON, and an SVG chart with one panel per scenario.
 */
import type { ContenderDef } from './contenders.ts';
import type { ScenarioDef, ScenarioName, ScenarioResult } from './scenarios.ts';

/** A report's file name stem: the time to the second, with no characters a file system refuses. */
export function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

export interface RunInfo {
  readonly startedAt: string;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: string;
  readonly durationSeconds: number;
  /** 1-minute load average at the start and at the end: other work on the machine skews the numbers. */
  readonly loadAverage: readonly [number, number];
  /** A median report (bench/median.ts): the command of the runs, and when each started. */
  readonly medianOf?: { readonly command: string; readonly startedAt: readonly string[] };
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

/**
 * The number each scenario is judged by: deliveries/s; for the latency scenario (where every contender
 * delivers the offered 1,000/s) p99 sent→delivered; for the million, peak RSS.
 */
function headline(result: ScenarioResult): number {
  if (result.scenario === 'million') return result.peakRssMb ?? 0;
  if (result.scenario === 'latency') return result.endToEndMs?.p99 ?? 0;
  return result.deliveriesPerSec;
}

/** The reference points every contender is compared with, in the order of the report's columns. */
const baselines = ['bare', 'ceiling', 'bullmq'] as const;

function ratio(report: Report, contender: string, baseline: string, scenario: ScenarioName): string {
  if (contender === baseline) return '';
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
  const out: Target[] = [];
  const judge = (text: string, value: number | undefined, ok: (v: number) => boolean, detail: string) =>
    out.push({
      text,
      verdict: value === undefined ? 'not measured' : ok(value) ? 'met' : 'missed',
      detail: value === undefined ? '' : detail,
    });
  const vs = (contender: string, baseline: string, scenario: ScenarioName) => {
    const a = find(report, contender, scenario);
    const b = find(report, baseline, scenario);
    return measured(a) && measured(b) && b.deliveriesPerSec > 0
      ? a.deliveriesPerSec / b.deliveriesPerSec
      : undefined;
  };
  const p99 = (contender: string) => {
    const r = find(report, contender, 'latency');
    return measured(r) ? r.endToEndMs?.p99 : undefined;
  };
  // Issue 15: against the bare forwarder, in the same run.
  for (const [contender, label, steadyMin, p99Max] of [
    ['hookyard-sqlite', 'SQLite', 0.6, 25],
    ['hookyard-pg', 'PostgreSQL', 0.4, 40],
  ] as const) {
    const steady = vs(contender, 'bare', 'steady');
    judge(
      `(a) Hookyard ${label} ≥ ${steadyMin} × bare`,
      steady,
      (v) => v >= steadyMin,
      `${steady?.toFixed(2)}×`,
    );
    const latency = p99(contender);
    judge(
      `(b) Hookyard ${label}: p99 sent→delivered ≤ ${p99Max} ms at 1,000 msg/s`,
      latency,
      (v) => v <= p99Max,
      `p99 ${ms(latency)} ms`,
    );
    const fanout = vs(contender, 'bare', 'fanout');
    judge(`(c) Hookyard ${label} fan-out ≥ 0.6 × bare's`, fanout, (v) => v >= 0.6, `${fanout?.toFixed(2)}×`);
  }
  const hy = 'hookyard-sqlite';
  const ceilingRatio = vs(hy, 'ceiling', 'steady');
  judge('(a) Hookyard SQLite ≥ 0.6 × ceiling', ceilingRatio, (v) => v >= 0.6, `${ceilingRatio?.toFixed(2)}×`);
  const bullRatio = vs(hy, 'bullmq', 'steady');
  judge('(a) Hookyard SQLite ≥ 1.0 × BullMQ', bullRatio, (v) => v >= 1.0, `${bullRatio?.toFixed(2)}×`);
  for (const contender of ['hookyard-sqlite', 'hookyard-pg']) {
    const steady = find(report, contender, 'steady');
    const backlog = find(report, contender, 'backlog');
    const drainRatio =
      measured(backlog) && measured(steady) && steady.deliveriesPerSec > 0
        ? backlog.deliveriesPerSec / steady.deliveriesPerSec
        : undefined;
    judge(
      `(d) ${contender}: drain ≥ ½ × its steady throughput (a)`,
      drainRatio,
      (v) => v >= 0.5,
      `${int(backlog?.deliveriesPerSec ?? 0)}/s = ${drainRatio?.toFixed(2)}× of (a)`,
    );
  }
  const million = find(report, hy, 'million');
  const rss = measured(million) ? million.peakRssMb : undefined;
  judge('RSS < 300 MB with 1,000,000 queued', rss, (v) => v < 300, `${mb(rss)} MB`);
  return out;
}

/** Per-delivery costs of one result, from its CPU, bytes written and SQL counters. */
export interface DeliveryCost {
  readonly ownCpuUs: number;
  readonly databaseCpuUs: number;
  /** PostgreSQL's shared processes (WAL writer, checkpointer…): cluster-wide. */
  readonly sharedCpuUs?: number;
  readonly sqlCalls?: number;
  readonly sqlStatements?: number;
  readonly transactions?: number;
  readonly walBytes?: number;
  readonly ownWriteBytes: number;
  readonly databaseWriteBytes: number;
  /** Own CPU per delivery of each process role, when there is more than one role. */
  readonly cpuUsByProcess?: Readonly<Record<string, number>>;
}

export function costPerDelivery(r: ScenarioResult): DeliveryCost | undefined {
  if (!measured(r) || r.delivered === 0 || r.ownCpuSeconds === undefined) return undefined;
  const per = (n: number) => n / r.delivered;
  const c = r.cost;
  const calls = c ? (c.pgRoundTrips ?? 0) + (c.sqliteCalls ?? 0) : undefined;
  const statements = c ? (c.pgStatements ?? 0) + (c.sqliteStatements ?? 0) : undefined;
  return {
    ownCpuUs: per(r.ownCpuSeconds * 1e6),
    databaseCpuUs: per((r.databaseCpuSeconds ?? 0) * 1e6),
    ...(calls !== undefined && c?.pgRoundTrips !== undefined ? { sqlCalls: per(calls) } : {}),
    ...(statements !== undefined && c?.pgStatements !== undefined ? { sqlStatements: per(statements) } : {}),
    ...(c?.database
      ? {
          transactions: per(c.database.xacts),
          walBytes: per(c.database.walBytes),
          sharedCpuUs: per(c.database.sharedCpuSeconds * 1e6),
        }
      : {}),
    ownWriteBytes: per(r.ownWriteBytes ?? 0),
    databaseWriteBytes: per(r.databaseWriteBytes ?? 0),
    ...(r.cpuByProcess && Object.keys(r.cpuByProcess).length > 1
      ? {
          cpuUsByProcess: Object.fromEntries(
            Object.entries(r.cpuByProcess).map(([name, seconds]) => [name, per(seconds * 1e6)]),
          ),
        }
      : {}),
  };
}

function costTable(report: Report): string[] {
  const rows: string[] = [];
  const busy: string[] = [];
  for (const scenario of report.scenarios) {
    if (scenario.name === 'million') continue;
    for (const contender of report.contenders) {
      const r = find(report, contender.name, scenario.name);
      const c = r && costPerDelivery(r);
      if (!r || !c) continue;
      const other = r.cost?.database?.otherXacts ?? 0;
      if (other > 0) busy.push(`${contender.name} · ${scenario.name} (${int(other)})`);
      const opt = (n: number | undefined, digits = 1) => (n === undefined ? '–' : n.toFixed(digits));
      const byProcess = c.cpuUsByProcess
        ? ` (${Object.entries(c.cpuUsByProcess)
            .map(([name, us]) => `${name.replace(/^hookyard-/, '')} ${int(us)}`)
            .join(', ')})`
        : '';
      rows.push(
        `| ${contender.name} | ${scenario.name} | ${int(r.delivered)} | ${int(c.ownCpuUs)}${byProcess} | ${c.databaseCpuUs > 0 ? int(c.databaseCpuUs) : '–'}${c.sharedCpuUs === undefined ? '' : ` + ${int(c.sharedCpuUs)}`} | ${opt(c.sqlCalls)} | ${opt(c.sqlStatements)} | ${opt(c.transactions, 2)} | ${c.walBytes === undefined ? '–' : int(c.walBytes)} | ${int(c.ownWriteBytes)} | ${c.walBytes === undefined ? '–' : int(c.databaseWriteBytes)} |`,
      );
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Cost per delivery',
    '',
    'Everything the contender used in the measured window divided by the deliveries in it (so ingest is included: it is part of what a delivery costs). Own CPU: its Node processes (and Redis for BullMQ; for a Hookyard layout of several processes, split by role in brackets); PostgreSQL CPU: the backends serving its database, + the shared processes (WAL writer, checkpointer, background writer: cluster-wide, like WAL). SQL calls: round trips to PostgreSQL, or calls into SQLite (in-process); statements count each `;`-separated statement of a script. Transactions and WAL from `pg_stat_database` and `pg_current_wal_lsn()`. Bytes written: `write_bytes` (/proc/<pid>/io) of the contender’s processes (for SQLite: its WAL, checkpoints and database file) and of its PostgreSQL backends (the WAL they flush at commit, pages they evict; the WAL writer and checkpointer are shared and not counted).',
    '',
    '| Contender | Scenario | Deliveries | Own CPU µs | PostgreSQL CPU µs | SQL calls | SQL statements | Transactions | WAL bytes | Bytes written | PostgreSQL bytes written |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    ...(busy.length > 0
      ? [
          '',
          `WAL and the shared processes' CPU are cluster-wide, so figures taken while other databases were busy are upper bounds. Transactions in other databases during the window: ${busy.join(', ')}.`,
        ]
      : []),
    '',
  ];
}

export function renderMarkdown(report: Report, chartFile: string): string {
  const { info } = report;
  const lines: string[] = [
    `# Hookyard benchmark, ${info.startedAt}`,
    '',
    `Command: \`${info.command}\` (${info.quick ? 'quick: small counts' : 'full counts'}), ${info.durationSeconds.toFixed(0)} s.`,
    ...(info.medianOf
      ? [
          `Median of ${info.medianOf.startedAt.length} runs of \`${info.medianOf.command}\` (started ${info.medianOf.startedAt.join(', ')}): for each contender and scenario, the run with the median headline figure, whole; ratios and targets computed on those rows. Load average: the highest of the runs.`,
        ]
      : []),
    `Machine: ${info.machine}; load average ${info.loadAverage[0].toFixed(1)} at the start, ${info.loadAverage[1].toFixed(1)} at the end. Everything on 127.0.0.1; the bench (load generator and receivers) shares the machine with the system under test.`,
    '',
    '## Summary',
    '',
    'Deliveries per second (latency: p99 sent→delivered in ms, which includes the ingest round trip; million: peak RSS in MB).',
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
                ? `${ms(r.endToEndMs?.p99)} ms`
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
    '## Targets (this run)',
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
    ...costTable(report),
  ];

  for (const scenario of report.scenarios) {
    const isMillion = scenario.name === 'million';
    lines.push(`## ${scenario.title}`, '', scenarioBlurb(scenario), '');
    const vsHeader = baselines.map((b) => `vs ${b}`).join(' | ');
    const vsAlign = baselines.map(() => '---:').join(' | ');
    lines.push(
      isMillion
        ? `| Contender | Status | Accepted | Ingest/s | CPU s | Peak RSS MB | ${vsHeader} |`
        : `| Contender | Status | Deliveries/s | Accepted→delivered p50 / p99 / max ms | Sent→delivered p50 / p99 / max ms | Ingest/s | Delivered | CPU s | Peak RSS MB | ${vsHeader} |`,
      isMillion
        ? `| --- | --- | ---: | ---: | ---: | ---: | ${vsAlign} |`
        : `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ${vsAlign} |`,
    );
    const notes: string[] = [];
    for (const contender of report.contenders) {
      const r = find(report, contender.name, scenario.name);
      if (!r) continue;
      const status = r.status === 'ok' ? 'ok' : r.status;
      if (r.note) notes.push(`- ${contender.name}: ${r.note}`);
      const vs = baselines.map((b) => ratio(report, contender.name, b, scenario.name)).join(' | ');
      if (!measured(r)) {
        const empty = ' |'.repeat((isMillion ? 4 : 7) + baselines.length);
        lines.push(`| ${contender.name} | ${status} |${empty}`);
        continue;
      }
      if (isMillion) {
        lines.push(
          `| ${contender.name} | ${status} | ${int(r.accepted)} | ${int(r.ingestPerSec)} | ${cpu(r.cpuSeconds)} | ${mb(r.peakRssMb)} | ${vs} |`,
        );
        continue;
      }
      const spread = (p: ScenarioResult['latencyMs']) =>
        p ? `${ms(p.p50)} / ${ms(p.p99)} / ${ms(p.max)}` : '–';
      lines.push(
        `| ${contender.name} | ${status} | ${int(r.deliveriesPerSec)} | ${spread(r.latencyMs)} | ${spread(r.endToEndMs)} | ${int(r.ingestPerSec)} | ${int(r.delivered)} / ${int(r.expectedDeliveries)}${r.duplicates ? ` (+${int(r.duplicates)} dup)` : ''} | ${cpu(r.cpuSeconds)} | ${mb(r.peakRssMb)} | ${vs} |`,
      );
    }
    if (scenario.name === 'latency')
      lines.push('', 'The vs columns of this scenario compare p99 sent→delivered (lower is better).');
    if (notes.length > 0) lines.push('', ...notes);
    lines.push('');
  }
  lines.push(
    '## How to read this',
    '',
    '- Deliveries/s: distinct deliveries (per endpoint) divided by the time from the first event sent to the last delivery; for the backlog, from the receiver coming up to the last delivery.',
    '- Accepted→delivered: from the 202 reaching the load generator to the request reaching the receiver, over every delivery (fan-out: every endpoint; flaky: including retries). Sent→delivered: from the producer starting its request, so it includes the ingest round trip (for Hookyard, the commit and its fsync): what a producer experiences.',
    '- CPU s: user + system CPU of the contender’s processes (Node, Redis for BullMQ, the PostgreSQL backends of its database), from after set-up to the last delivery. PostgreSQL’s shared background processes (WAL writer, checkpointer) are not included.',
    '- Peak RSS: the sum of VmHWM of the contender’s processes (Node, plus Redis for BullMQ: Redis memory is where its queue lives). PostgreSQL server memory is not included.',
    '- vs bare / vs ceiling / vs bullmq: the contender’s headline number over theirs in the same run (deliveries/s; p99 sent→delivered for the latency scenario; RSS for the million).',
  );
  return `${lines.join('\n')}\n`;
}

function scenarioBlurb(s: ScenarioDef): string {
  const n = s.messages.toLocaleString('en-US');
  switch (s.name) {
    case 'steady':
      return s.durationMs
        ? `1 KB events to one endpoint from ${s.concurrency} producers in a closed loop for ${s.durationMs / 1000} s.`
        : `${n} events of 1 KB to one endpoint, ${s.concurrency} ingest requests in flight.`;
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
  bare: '#5f6368',
  floor: '#80868b',
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
      isLatency ? (r.endToEndMs?.p99 ?? 0) : isMillion ? (r.peakRssMb ?? 0) : r.deliveriesPerSec;
    const unit = isLatency
      ? 'ms p99 sent→delivered (shorter is better)'
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
