/**
 * `npm run bench [-- --quick] [--only a,b] [--scenario x,y] [--million]`
 * `npm run bench -- --data-scale 10000,1000000 [--only hookyard-sqlite,hookyard-pg] [--quick]` (bench/data-scale.ts)
 * `npm run bench -- --median a.json,b.json,c.json` (bench/median.ts)
 * `npm run bench -- --filter-ingest [--quick]` (bench/filter-ingest.ts)
 *
 * Runs every selected contender through every selected scenario, one at a time, on 127.0.0.1, and
 * writes bench/results/<timestamp>.md, .json and .svg. Every process and database the bench creates is
 * removed on the way out, including on error and Ctrl-C.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { stopAllChildren } from './children.ts';
import { type ContenderDef, contenders, dropBenchDatabases, repoRoot } from './contenders.ts';
import { runDataScale } from './data-scale.ts';
import { runFilterIngest } from './filter-ingest.ts';
import { medianReport, readReports } from './median.ts';
import { type Report, renderMarkdown, renderSvg, timestamp } from './report.ts';
import {
  runScenario,
  type ScenarioDef,
  type ScenarioName,
  type ScenarioResult,
  scenarioDefs,
  scenarioNames,
  unavailableResult,
} from './scenarios.ts';

const usage = `Usage: npm run bench -- [--quick] [--only <contender,...>] [--scenario <name,...>] [--million]

  --quick       small counts; the whole run takes under 2 minutes
  --only        contenders: ${contenders.map((c) => c.name).join(', ')}
  --scenario    scenarios: ${scenarioNames.filter((s) => s !== 'million').join(', ')} (default: all of them)
  --million     only the "1,000,000 queued" RSS measurement (slow; e.g. with --only hookyard-sqlite)
  --data-scale  sizes, e.g. 10000,1000000: fill a database with that many messages (and their
                deliveries and attempts) by bulk SQL, then time ingest, claim and the read endpoints
                at each size; --only hookyard-sqlite,hookyard-pg picks the backends
  --median      reports, e.g. bench/results/a.json,b.json,c.json (runs of one command): writes one
                report holding, for each contender and scenario, the run with the median figure
  --filter-ingest  ingest throughput with 100 endpoints without and with payload filters
                (bench/filter-ingest.ts; with --quick: 3 rounds of 4 s)`;

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      million: { type: 'boolean', default: false },
      'data-scale': { type: 'string' },
      median: { type: 'string' },
      'filter-ingest': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const only = list(values.only?.join(','));
  const median = list(values.median);
  if (median) return { median } as const;
  if (values['filter-ingest']) return { filterIngest: { quick: values.quick } } as const;
  const dataScale = values['data-scale'];
  if (dataScale !== undefined) {
    const sizes = list(dataScale)?.map((n) => Number(n.replaceAll('_', ''))) ?? [];
    if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
      process.stderr.write(
        `bench: --data-scale wants positive whole numbers, e.g. 10000,1000000\n\n${usage}\n`,
      );
      process.exit(2);
    }
    return { dataScale: { sizes, ...(only ? { only } : {}), quick: values.quick } } as const;
  }
  const chosenContenders = only
    ? contenders.filter((c) => only.includes(c.name))
    : contenders.filter((c) => !c.optional);
  const unknownContender = only?.find((name) => !contenders.some((c) => c.name === name));
  const scenarioList = values.million ? ['million'] : (list(values.scenario?.join(',')) ?? []);
  const unknownScenario = scenarioList.find((name) => !(scenarioNames as readonly string[]).includes(name));
  if (unknownContender || unknownScenario) {
    process.stderr.write(
      `bench: unknown ${unknownContender ? `contender "${unknownContender}"` : `scenario "${unknownScenario}"`}\n\n${usage}\n`,
    );
    process.exit(2);
  }
  const defs = scenarioDefs(values.quick);
  const chosenScenarios: ScenarioDef[] =
    scenarioList.length > 0
      ? scenarioList.map((name) => defs[name as ScenarioName])
      : scenarioNames.filter((name) => name !== 'million').map((name) => defs[name]);
  return { quick: values.quick, contenders: chosenContenders, scenarios: chosenScenarios };
}

const isTty = process.stdout.isTTY;
function progress(text: string, final: boolean): void {
  if (isTty) process.stdout.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
  else if (final) process.stdout.write(`${text}\n`);
}

function summary(r: ScenarioResult): string {
  if (r.status === 'unavailable' || r.status === 'failed') return `${r.status}: ${r.note ?? ''}`;
  const parts =
    r.scenario === 'million'
      ? [`${r.accepted.toLocaleString('en-US')} queued`, `${Math.round(r.ingestPerSec)}/s ingest`]
      : [
          `${Math.round(r.deliveriesPerSec).toLocaleString('en-US')} deliveries/s`,
          ...(r.latencyMs ? [`p50 ${r.latencyMs.p50.toFixed(1)} p99 ${r.latencyMs.p99.toFixed(1)} ms`] : []),
        ];
  parts.push(`cpu ${(r.cpuSeconds ?? 0).toFixed(1)} s`, `rss ${Math.round(r.peakRssMb ?? 0)} MB`);
  return `${r.status === 'ok' ? '' : `${r.status}: `}${parts.join(', ')}${r.status === 'ok' ? '' : ` (${r.note ?? ''})`}`;
}

async function writeReport(report: Report, name: string): Promise<string> {
  const resultsDir = join(repoRoot, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(resultsDir, `${name}.svg`), renderSvg(report));
  const mdPath = join(resultsDir, `${name}.md`);
  await writeFile(mdPath, renderMarkdown(report, `${name}.svg`));
  return mdPath;
}

async function writeMedian(paths: readonly string[]): Promise<void> {
  const report = medianReport(await readReports(paths), `npm run bench -- --median ${paths.join(',')}`);
  const mdPath = await writeReport(report, `${timestamp(new Date())}-median`);
  process.stdout.write(`report: ${relative(process.cwd(), mdPath)} (and .json, .svg)\n`);
}

async function main(): Promise<void> {
  const parsed = parseCli();
  if (parsed.median) return writeMedian(parsed.median);
  if (parsed.dataScale) return runDataScale(parsed.dataScale);
  if (parsed.filterIngest) return runFilterIngest(parsed.filterIngest);
  const cli = parsed as Exclude<
    typeof parsed,
    { dataScale: object } | { median: string[] } | { filterIngest: object }
  >;
  const started = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const startedMs = performance.now();
  const workDir = await mkdtemp(join(tmpdir(), 'hookyard-bench-'));
  let interrupted = false;
  const cleanUp = async () => {
    await stopAllChildren();
    await dropBenchDatabases();
    // A process stopped a moment ago (Redis rewriting its AOF on shutdown) may still be writing here;
    // rm retries on ENOTEMPTY/EBUSY instead of leaving the directory behind.
    if (!process.env.BENCH_KEEP)
      await rm(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  // The scenario in progress fails once its processes are gone and main() then returns; it must wait
  // for this same clean-up, or process.exit would cut it short.
  let cleaning: Promise<void> | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`\nbench: ${signal}, stopping everything it started…`, true);
    cleaning = cleanUp();
    cleaning.finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const results: ScenarioResult[] = [];
  const total = cli.contenders.length * cli.scenarios.length;
  let step = 0;
  try {
    for (const contender of cli.contenders) {
      const unavailable = await contender.unavailable();
      for (const scenario of cli.scenarios) {
        if (interrupted) return;
        step++;
        const label = `[${step}/${total}] ${contender.name} · ${scenario.name}`;
        const result = unavailable
          ? unavailableResult(contender.name, scenario, unavailable)
          : await runScenario(contender, scenario, {
              workDir,
              quick: cli.quick,
              onPhase: (phase) => progress(`${label}: ${phase}…`, false),
            });
        results.push(result);
        progress(`${label}: ${summary(result)}`, true);
      }
    }
  } finally {
    await (cleaning ?? cleanUp());
  }
  if (interrupted) process.exit(130);

  const report: Report = {
    info: {
      startedAt: started.toISOString().replace(/\.\d+Z$/, 'Z'),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      quick: cli.quick,
      machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      durationSeconds: (performance.now() - startedMs) / 1000,
      loadAverage: [loadAtStart, loadavg()[0] ?? 0],
    },
    scenarios: cli.scenarios,
    contenders: cli.contenders.map((c: ContenderDef) => ({
      name: c.name,
      description: c.description,
      durability: c.durability,
      isHookyard: c.isHookyard,
    })),
    results,
  };
  const mdPath = await writeReport(report, timestamp(started));
  process.stdout.write(
    `\nreport: ${relative(process.cwd(), mdPath)} (and .json, .svg) in ${report.info.durationSeconds.toFixed(0)} s\n`,
  );
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    await stopAllChildren();
    process.exit(1);
  },
);
