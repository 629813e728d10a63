/**
 * Dashboard server-render time with many messages stored, and each page's first-load JavaScript.
 *
 *     node bench/ui/render.ts [--messages 1000000] [--requests 200] [--data-dir DIR | --reuse]
 *
 * Seeds an embedded SQLite database with bench/ui/seed.ts (a month of traffic of 8 applications and
 * their endpoints: deliveries, retries, failures, held and scheduled ones, attempts and the stats
 * rollup, written with bulk SQL: about a minute and a half per million messages). `--data-dir DIR`
 * keeps the database there and `--reuse` keeps it in a cache directory under the system's temp dir;
 * either way a later run with the same --messages reuses it, unless it was seeded more than six hours
 * ago (the overview's last hour and day would be empty) or by another version of the seeder. Then
 * starts Hookyard (role api, built dashboard), signs in, and times `requests` sequential GETs of each
 * page (first byte to last, complete HTML), reporting p50/p95/max. Needs a quiet machine for figures
 * worth comparing; a smaller --messages works for a quick check.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configWith } from '../../src/config/load.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startServer } from '../../src/main.ts';
import { createStorage, SQLITE_FILE_NAME } from '../../src/storage/create-storage.ts';
import { SEED_VERSION, type SeedSummary, seedSqlite } from './seed.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    'data-dir': { type: 'string' },
    reuse: { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const REQUESTS = Number(values.requests);
const TOKEN = 'bench-ui-admin-token-0123456789abcdef';
const keep = values['data-dir'] !== undefined || values.reuse;
const dataDir =
  values['data-dir'] ??
  join(
    tmpdir(),
    values.reuse ? `hookyard-bench-ui-${MESSAGES}` : `hookyard-bench-ui-${process.pid}-${Date.now()}`,
  );
const MAX_SEED_AGE_MS = 6 * 3_600_000;
const silent = createLogger('silent', false);
const log = (line: string) => process.stdout.write(`${line}\n`);

interface SeedRecord {
  version: number;
  messages: number;
  seededAt: number;
  summary: SeedSummary;
}

/** The seed's record beside the database: what was seeded, when, by which version of the seeder. */
function reusable(): SeedRecord | undefined {
  const file = join(dataDir, 'bench-ui-seed.json');
  if (!existsSync(file)) return undefined;
  const record = JSON.parse(readFileSync(file, 'utf8')) as SeedRecord;
  if (record.version !== SEED_VERSION || record.messages !== MESSAGES) return undefined;
  if (Date.now() - record.seededAt > MAX_SEED_AGE_MS) {
    log(`the database in ${dataDir} was seeded more than six hours ago: seeding again`);
    return undefined;
  }
  return record;
}

async function seed(): Promise<SeedSummary> {
  const found = reusable();
  if (found) {
    log(`reusing ${MESSAGES.toLocaleString('en-US')} messages seeded in ${dataDir}`);
    return found.summary;
  }
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // Hookyard makes its own schema; the seeder only fills it.
  const storage = await createStorage({ config: configWith({ dataDir, databaseUrl: '' }), logger: silent });
  await storage.close();
  const seededAt = Date.now();
  const summary = seedSqlite(join(dataDir, SQLITE_FILE_NAME), MESSAGES, seededAt);
  writeFileSync(
    join(dataDir, 'bench-ui-seed.json'),
    JSON.stringify({ version: SEED_VERSION, messages: MESSAGES, seededAt, summary } satisfies SeedRecord),
  );
  log(
    `seeded ${MESSAGES.toLocaleString('en-US')} messages, ${summary.deliveries.toLocaleString('en-US')} deliveries, ` +
      `${summary.attempts.toLocaleString('en-US')} attempts in ${summary.seconds.toFixed(0)} s (${dataDir})`,
  );
  return summary;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const summary = await seed();
const server = await startServer(
  configWith({ dataDir, adminToken: TOKEN, port: '0', host: '127.0.0.1', role: 'api', logLevel: 'silent' }),
  silent,
);
await server.started;
const base = server.url;
const loadBefore = loadavg()[0] as number;
try {
  const login = await fetch(`${base}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${TOKEN}`,
  });
  const cookie = String(login.headers.get('set-cookie')).split(';')[0] as string;
  const main = summary.applications[0] as SeedSummary['applications'][number];
  const flaky = main.endpoints.find((endpoint) => endpoint.health === 'flaky') ?? main.endpoints[0];
  const { sample } = summary;
  const pages: Array<[string, string]> = [
    ['overview', '/ui/'],
    ['message explorer', '/ui/messages'],
    ['explorer, event type + channel', '/ui/messages?eventType=user.deleted&channel=eu'],
    ['explorer, failed only', '/ui/messages?status=2'],
    ['explorer, one app, failed', `/ui/messages?app=${main.id}&status=2`],
    ['explorer, by event id', '/ui/messages?q=evt-4242'],
    ['explorer, a week back', `/ui/messages?before=${new Date(Date.now() - 7 * 86_400_000).toISOString()}`],
    ['applications', '/ui/apps'],
    ['application', `/ui/apps/${main.id}`],
    ['endpoint (the failing one)', `/ui/apps/${main.id}/endpoints/${flaky?.id}`],
    ['message', `/ui/apps/${sample.appId}/messages/${sample.msgId}`],
    ['attempt', `/ui/apps/${sample.appId}/messages/${sample.msgId}/attempts/${sample.attemptId}`],
  ];
  const rows: string[] = [];
  for (const [name, path] of pages) {
    for (let i = 0; i < 10; i++) await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      const html = await response.text();
      times.push(performance.now() - started);
      if (response.status !== 200 || !html.includes('</html>'))
        throw new Error(`${path}: ${response.status}`);
    }
    times.sort((a, b) => a - b);
    let js = 0;
    const html = await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
    const scripts = new Set([
      ...[...html.matchAll(/<script type="module" src="([^"]+)"/g)].map((m) => m[1] as string),
      ...[...html.matchAll(/<link rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1] as string),
    ]);
    for (const src of scripts) {
      const response = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'gzip' } });
      js += Number(response.headers.get('content-length'));
      await response.arrayBuffer();
    }
    rows.push(
      `| ${name} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.95).toFixed(1)} | ${(times.at(-1) as number).toFixed(1)} | ${(js / 1024).toFixed(1)} |`,
    );
    log(`  ${name}: p95 ${percentile(times, 0.95).toFixed(1)} ms`);
  }
  log(
    `\nDashboard server render, ${MESSAGES.toLocaleString('en-US')} messages stored (${summary.deliveries.toLocaleString('en-US')} deliveries, ` +
      `${summary.attempts.toLocaleString('en-US')} attempts), ${REQUESTS} sequential requests per page (SQLite); ` +
      `load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] as number).toFixed(1)}:\n`,
  );
  log('| Page | p50 ms | p95 ms | max ms | first-load JS (KB gzip) |');
  log('|---|---:|---:|---:|---:|');
  for (const row of rows) log(row);
} finally {
  await server.close();
  if (!keep) rmSync(dataDir, { recursive: true, force: true });
}
