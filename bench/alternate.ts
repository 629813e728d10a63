/**
 * `npm run bench:alternate -- --base <git ref> [--rounds 3] -- <bench arguments>`
 *
 * Before and after a change, measured the way docs/performance.md judges one: runs of one machine vary
 * by ±25 % from one run to the next, so the tree at `--base` (a git worktree of it, sharing this tree's
 * node_modules) and this tree run the same bench command in turn, base first, `--rounds` times. A side
 * is called better only when every one of its runs beats the other side's median (for the latency
 * scenario's p99 and the million's RSS, lower is better; `verdict` in median.ts); anything else is
 * within the noise. A second table judges the CPU a delivery cost (Hookyard's processes plus its
 * PostgreSQL backends, lower is better), which moves less from run to run than the headline and shows
 * a change that saves work where the headline is bound by something else (a disk's fsync tail, say).
 * Writes bench/results/<timestamp>-alternate.md with every run's figures; the runs' own reports are
 * removed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './contenders.ts';
import { headline, higherIsBetter, measured, verdict } from './median.ts';
import { costPerDelivery, type Report, timestamp } from './report.ts';

const { values, positionals } = parseArgs({
  options: { base: { type: 'string' }, rounds: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
if (!values.base || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(
    'usage: npm run bench:alternate -- --base <git ref> [--rounds 3] -- <bench arguments, e.g. --only hookyard-sqlite --scenario steady>\n',
  );
  process.exit(2);
}

function git(...args: string[]): string {
  const result = spawnSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** One bench run in `tree`; returns its report and removes the report's files. */
async function benchIn(tree: string, args: readonly string[]): Promise<Report> {
  const child = spawn(process.execPath, ['bench/run.ts', ...args], {
    cwd: tree,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    process.stdout.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const path = /^report: (\S+)\.md/m.exec(out)?.[1];
  if (code !== 0 || !path) throw new Error(`the bench in ${tree} failed (exit code ${code})`);
  const report = JSON.parse(await readFile(join(tree, `${path}.json`), 'utf8')) as Report;
  await Promise.all(['json', 'md', 'svg'].map((ext) => rm(join(tree, `${path}.${ext}`), { force: true })));
  return report;
}

interface Figure {
  scenario: string;
  value: number;
  /** Own CPU plus database CPU per delivery, µs (NaN where the run could not tell). */
  cpuUs: number;
}

/** Each measured result's headline figure and CPU per delivery, by "contender · scenario". */
function figures(report: Report): Map<string, Figure> {
  const found = new Map<string, Figure>();
  for (const r of report.results) {
    if (!measured(r)) continue;
    const cost = costPerDelivery(r);
    found.set(`${r.contender} · ${r.scenario}`, {
      scenario: r.scenario,
      value: headline(r),
      cpuUs: cost ? cost.ownCpuUs + cost.databaseCpuUs : Number.NaN,
    });
  }
  return found;
}

async function main(): Promise<void> {
  let base: string;
  try {
    base = git('rev-parse', '--verify', '--quiet', `${values.base}^{commit}`);
  } catch {
    throw new Error(`--base ${values.base} names no commit of this repository (give a branch, tag or hash)`);
  }
  const head = git('rev-parse', 'HEAD');
  const dirty = git('status', '--porcelain') !== '';
  const worktree = await mkdtemp(join(tmpdir(), 'hookyard-alternate-'));
  git('worktree', 'add', '--detach', worktree, base);
  try {
    symlinkSync(join(repoRoot, 'node_modules'), join(worktree, 'node_modules'));
    if (git('diff', '--name-only', base, '--', 'package-lock.json') !== '')
      process.stdout.write('note: package-lock.json differs; the base runs on this tree’s node_modules\n');
    // The dashboard bundle the server serves: built for the base's own web/ sources.
    const build = spawnSync(process.execPath, ['scripts/build-web.ts', '--if-stale'], {
      cwd: worktree,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error('building the base tree’s dashboard failed');

    const runs = { base: [] as Map<string, Figure>[], head: [] as Map<string, Figure>[] };
    for (let round = 1; round <= rounds; round++) {
      process.stdout.write(`== round ${round} of ${rounds}: base ${base.slice(0, 7)}\n`);
      runs.base.push(figures(await benchIn(worktree, positionals)));
      process.stdout.write(`== round ${round} of ${rounds}: this tree\n`);
      runs.head.push(figures(await benchIn(repoRoot, positionals)));
    }

    const keys = [...(runs.head[0]?.keys() ?? [])].filter((key) =>
      [...runs.base, ...runs.head].every((run) => run.has(key)),
    );
    const compare = (figure: (f: Figure) => number, higherBetter: (scenario: string) => boolean) =>
      keys.map((key) => {
        const pick = (side: Map<string, Figure>[]) =>
          side.map((run) => {
            const found = run.get(key);
            return found ? figure(found) : Number.NaN;
          });
        const before = pick(runs.base);
        const after = pick(runs.head);
        const scenario = runs.head[0]?.get(key)?.scenario ?? '';
        return { key, before, after, ...verdict(before, after, higherBetter(scenario)) };
      });
    const comparisons = compare((f) => f.value, higherIsBetter);
    const cpu = compare(
      (f) => f.cpuUs,
      () => false,
    ).filter((c) => [...c.before, ...c.after].every(Number.isFinite));
    const table = (rows: typeof comparisons) => [
      '| Contender · scenario | base runs | this tree | base median | this tree’s median | verdict |',
      '| --- | --- | --- | ---: | ---: | --- |',
      ...rows.map(
        (c) =>
          `| ${c.key} | ${fmt(c.before)} | ${fmt(c.after)} | ${fmt([c.medianBefore])} | ${fmt([c.medianAfter])} | ${c.verdict} |`,
      ),
    ];
    const fmt = (xs: number[]) =>
      xs.map((x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))).join(', ');
    const lines = [
      `# Alternating runs: ${base.slice(0, 7)} against ${head.slice(0, 7)}${dirty ? ' with uncommitted changes' : ''}`,
      '',
      `\`npm run bench:alternate -- --base ${values.base} --rounds ${rounds} -- ${positionals.join(' ')}\`, ${new Date().toISOString()}.`,
      'Figures: deliveries/s; latency: p99 sent→delivered in ms (lower is better); million: peak RSS in MB (lower is better).',
      '',
      ...table(comparisons),
      '',
      ...(cpu.length > 0
        ? [
            'CPU per delivery, µs: Hookyard’s processes plus its PostgreSQL backends, ingest included (lower is better).',
            '',
            ...table(cpu),
            '',
          ]
        : []),
    ];
    const path = join(repoRoot, 'bench/results', `${timestamp(new Date())}-alternate.md`);
    await writeFile(path, lines.join('\n'));
    process.stdout.write(`\n${lines.slice(5).join('\n')}\nreport: ${relative(process.cwd(), path)}\n`);
  } finally {
    git('worktree', 'remove', '--force', worktree);
    if (existsSync(worktree)) await rm(worktree, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:alternate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
