/**
 * The bench report's arithmetic: ratios to bare, the ceiling and BullMQ for every contender, the
 * issue-15 targets, and the cost per delivery. Built from hand-made results, so every figure is known.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianReport, verdict } from '../../bench/median.ts';
import { costPerDelivery, type Report, renderMarkdown } from '../../bench/report.ts';
import { type ScenarioResult, scenarioDefs } from '../../bench/scenarios.ts';

function result(
  contender: string,
  scenario: ScenarioResult['scenario'],
  fields: Partial<ScenarioResult>,
): ScenarioResult {
  return {
    contender,
    scenario,
    status: 'ok',
    messages: 1_000,
    accepted: 1_000,
    rejected: 0,
    rejections: {},
    expectedDeliveries: 1_000,
    delivered: 1_000,
    duplicates: 0,
    failuresInjected: 0,
    ingestPerSec: 1_000,
    deliveriesPerSec: 1_000,
    seconds: 1,
    ...fields,
  };
}

const defs = scenarioDefs(true);
const contender = (name: string, isHookyard: boolean) => ({
  name,
  description: name,
  durability: '-',
  isHookyard,
});
const report: Report = {
  info: {
    startedAt: '2026-12-01T00:00:00Z',
    command: 'npm run bench -- --quick',
    quick: true,
    machine: 'test',
    durationSeconds: 1,
    loadAverage: [0, 0],
  },
  scenarios: [defs.steady, defs.latency],
  contenders: [
    contender('bare', false),
    contender('ceiling', false),
    contender('bullmq', false),
    contender('hookyard-sqlite', true),
    contender('hookyard-pg-split', true),
  ],
  results: [
    result('bare', 'steady', { deliveriesPerSec: 8_000 }),
    result('ceiling', 'steady', { deliveriesPerSec: 5_000 }),
    result('bullmq', 'steady', { deliveriesPerSec: 2_000 }),
    result('hookyard-sqlite', 'steady', {
      deliveriesPerSec: 4_000,
      delivered: 2_000,
      ownCpuSeconds: 1.2,
      databaseCpuSeconds: 0,
      ownWriteBytes: 30_000_000,
      cost: { pgRoundTrips: 0, pgStatements: 0, sqliteCalls: 11_000, sqliteStatements: 12_000 },
    }),
    result('hookyard-pg-split', 'steady', {
      deliveriesPerSec: 3_000,
      delivered: 4_000,
      ownCpuSeconds: 2,
      databaseCpuSeconds: 1,
      cpuByProcess: { 'hookyard-api': 0.8, 'hookyard-worker': 1.2 },
      cost: {
        pgRoundTrips: 2_000,
        pgStatements: 2_400,
        sqliteCalls: 0,
        sqliteStatements: 0,
        database: {
          xacts: 1_000,
          rowsInserted: 0,
          rowsUpdated: 0,
          rowsDeleted: 0,
          rowsFetched: 0,
          blocksRead: 0,
          walBytes: 20_000_000,
          walRecords: 0,
          walSyncs: 0,
          otherXacts: 0,
          sharedCpuSeconds: 0.04,
        },
      },
    }),
    result('bare', 'latency', { endToEndMs: { p50: 1, p99: 5, max: 9 } }),
    result('hookyard-sqlite', 'latency', { endToEndMs: { p50: 2, p99: 20, max: 30 } }),
  ],
};

test('cost per delivery divides the window by its deliveries', () => {
  const sqlite = costPerDelivery(report.results[3]!);
  assert.deepEqual(sqlite, {
    ownCpuUs: 600,
    databaseCpuUs: 0,
    sqlCalls: 5.5,
    sqlStatements: 6,
    ownWriteBytes: 15_000,
    databaseWriteBytes: 0,
  });
  const pg = costPerDelivery(report.results[4]!);
  assert.deepEqual(pg, {
    ownCpuUs: 500,
    databaseCpuUs: 250,
    sqlCalls: 0.5,
    sqlStatements: 0.6,
    transactions: 0.25,
    walBytes: 5_000,
    sharedCpuUs: 10,
    ownWriteBytes: 0,
    databaseWriteBytes: 0,
    cpuUsByProcess: { 'hookyard-api': 200, 'hookyard-worker': 300 },
  });
});

test('every contender is compared with bare, the ceiling and BullMQ', () => {
  const md = renderMarkdown(report, 'chart.svg');
  const steady = md.slice(md.indexOf('## (a) steady'));
  assert.match(steady, /\| vs bare \| vs ceiling \| vs bullmq \|/);
  // hookyard-sqlite: 4,000 against 8,000, 5,000 and 2,000.
  assert.match(steady, /\| hookyard-sqlite \| ok \| 4,000 \|.*\| 0\.50× \| 0\.80× \| 2\.00× \|/);
  // The ceiling is compared too, and with itself not at all.
  assert.match(steady, /\| ceiling \| ok \| 5,000 \|.*\| 0\.63× \| {2}\| 2\.50× \|/);
  // Latency: p99 sent→delivered, 20 ms against bare's 5 ms.
  const latency = md.slice(md.indexOf('## (b) latency'));
  assert.match(latency, /\| hookyard-sqlite \| ok \|.*\| 4\.00× \| – \| – \|/);
});

test('the targets judge Hookyard against bare', () => {
  const md = renderMarkdown(report, 'chart.svg');
  assert.match(md, /\| \(a\) Hookyard SQLite ≥ 0\.6 × bare \| \*\*missed\*\* \| 0\.50× \|/);
  assert.match(
    md,
    /\| \(b\) Hookyard SQLite: p99 sent→delivered ≤ 25 ms at 1,000 msg\/s \| \*\*met\*\* \| p99 20 ms \|/,
  );
  assert.match(md, /\| \(a\) Hookyard SQLite ≥ 1\.0 × BullMQ \| \*\*met\*\* \| 2\.00× \|/);
});

test('the cost table shows the per-role CPU and the PostgreSQL figures', () => {
  const md = renderMarkdown(report, 'chart.svg');
  assert.match(
    md,
    /\| hookyard-pg-split \| steady \| 4,000 \| 500 \(api 200, worker 300\) \| 250 \+ 10 \| 0\.5 \| 0\.6 \| 0\.25 \| 5,000 \| 0 \| 0 \|/,
  );
  assert.match(
    md,
    /\| hookyard-sqlite \| steady \| 2,000 \| 600 \| – \| 5\.5 \| 6\.0 \| – \| – \| 15,000 \| – \|/,
  );
});

test('a median report keeps, per contender and scenario, the whole run with the median figure', () => {
  const run = (startedAt: string, sqlite: number, latencyP99: number): Report => ({
    ...report,
    info: { ...report.info, startedAt },
    results: [
      result('bare', 'steady', { deliveriesPerSec: 8_000 }),
      result('hookyard-sqlite', 'steady', { deliveriesPerSec: sqlite, ingestPerSec: sqlite + 1 }),
      result('bare', 'latency', { endToEndMs: { p50: 1, p99: 5, max: 9 } }),
      result('hookyard-sqlite', 'latency', { endToEndMs: { p50: 1, p99: latencyP99, max: 50 } }),
    ],
  });
  const median = medianReport([run('a', 5_000, 30), run('b', 3_000, 10), run('c', 4_000, 20)], 'cmd');
  const sqliteSteady = median.results.find(
    (r) => r.contender === 'hookyard-sqlite' && r.scenario === 'steady',
  );
  assert.equal(sqliteSteady?.deliveriesPerSec, 4_000);
  assert.equal(sqliteSteady?.ingestPerSec, 4_001, 'the row is one run whole');
  const sqliteLatency = median.results.find(
    (r) => r.contender === 'hookyard-sqlite' && r.scenario === 'latency',
  );
  assert.equal(sqliteLatency?.endToEndMs?.p99, 20);
  assert.deepEqual(median.info.medianOf, { command: report.info.command, startedAt: ['a', 'b', 'c'] });
  assert.match(
    renderMarkdown(median, 'x.svg'),
    /\| \(a\) Hookyard SQLite ≥ 0\.6 × bare \| \*\*missed\*\* \| 0\.50× \|/,
  );
  assert.throws(
    () => medianReport([run('a', 1, 1), { ...run('b', 1, 1), scenarios: [defs.steady] }], 'cmd'),
    /the runs differ/,
  );
});

test('alternating runs: a side wins only when every one of its runs beats the other side’s median', () => {
  // deliveries/s, higher is better
  assert.equal(verdict([5_000, 5_400, 4_600], [5_600, 5_100, 6_000], true).verdict, 'better');
  assert.equal(verdict([5_000, 5_400, 4_600], [5_600, 4_900, 6_000], true).verdict, 'within noise');
  assert.equal(verdict([5_000, 5_400, 4_600], [3_900, 4_200, 4_100], true).verdict, 'worse');
  // p99 ms, lower is better
  assert.equal(verdict([30, 25, 40], [20, 24, 22], false).verdict, 'better');
  assert.equal(verdict([30, 25, 40], [45, 50, 41], false).verdict, 'worse');
  assert.deepEqual(verdict([4, 1, 3], [2, 6, 5], true), {
    verdict: 'within noise',
    medianBefore: 3,
    medianAfter: 5,
  });
  // one or two runs a side say nothing about a machine that varies by a quarter between runs
  assert.equal(verdict([5_000], [9_000], true).verdict, 'too few runs');
  assert.equal(verdict([5_000, 5_100], [9_000, 9_100], true).verdict, 'too few runs');
});
