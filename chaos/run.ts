/**
 * The chaos and abuse suite: hostile receivers, hostile clients, crashes, a PostgreSQL restart, a
 * full disk and a soak, each against real Hookyard processes on 127.0.0.1 only, each self-contained
 * and bounded in time. Prints one table row per scenario: held or not, and the figures.
 *
 *     npm run chaos [-- --only receiver,client] [--soak-seconds 60] [--write]
 *
 * `--write` also puts the table into docs/reliability.md (between its generated:chaos markers).
 * It takes minutes, so it is not part of `npm test`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Outcome, Scenario } from './lib.ts';
import { hostileClients } from './scenarios/hostile-clients.ts';
import { hostileReceivers } from './scenarios/hostile-receivers.ts';
import { outages, soak } from './scenarios/outages.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'soak-seconds': { type: 'string', default: '60' },
    write: { type: 'boolean', default: false },
  },
});

const all: Scenario[] = [
  ...hostileReceivers,
  ...hostileClients,
  ...outages,
  soak(Number(values['soak-seconds'])),
];
const filters = values.only?.split(',').map((part) => part.trim().toLowerCase());
const chosen = filters ? all.filter((s) => filters.some((f) => s.name.toLowerCase().includes(f))) : all;

async function bounded(scenario: Scenario): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ held: false, figures: `did not finish within ${scenario.timeoutMs / 1000} s` }),
      scenario.timeoutMs,
    );
  });
  try {
    return await Promise.race([
      scenario
        .run()
        .catch((error: unknown) => ({ held: false, figures: `failed: ${(error as Error).message}` })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const rows: string[] = [];
const started = Date.now();
for (const scenario of chosen) {
  const t0 = Date.now();
  process.stderr.write(`… ${scenario.name}\n`);
  const outcome = await bounded(scenario);
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  const row = `| ${scenario.name} | ${outcome.held ? 'held' : '**FAILED**'} | ${outcome.figures.replaceAll('|', '\\|')} (${seconds} s) |`;
  process.stderr.write(`${row}\n`);
  rows.push(row);
}
const table = ['| Scenario | Result | Figures |', '| --- | --- | --- |', ...rows].join('\n');
console.log(table);
console.log(
  `\n${chosen.length} scenarios in ${Math.round((Date.now() - started) / 1000)} s, ${new Date().toISOString()}`,
);

if (values.write) {
  const path = new URL('../docs/reliability.md', import.meta.url);
  const text = readFileSync(path, 'utf8');
  const begin = '<!-- generated:chaos (npm run chaos -- --write) -->';
  const end = '<!-- /generated:chaos -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from === -1 || to === -1) throw new Error('docs/reliability.md has no generated:chaos markers');
  const stamp = `Last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${chosen.length} scenarios in ${Math.round((Date.now() - started) / 1000)} s.`;
  writeFileSync(path, `${text.slice(0, from + begin.length)}\n${stamp}\n\n${table}\n${text.slice(to)}`);
}
// Child processes and timers of an abandoned scenario must not keep the run alive.
process.exit(rows.some((row) => row.includes('**FAILED**')) ? 1 : 0);
