/**
 * The bench counts a Hookyard process's SQL with a preload (bench/instrument/count-queries.ts); this
 * runs a real process with it, against a real SQLite database, and reads its counts the way the bench
 * does (SIGUSR2, then the file).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';

const preload = fileURLToPath(new URL('../../bench/instrument/count-queries.ts', import.meta.url));

// Three exec calls holding four statements, then five statement executions; then it waits for the
// bench's signal and exits once the counts are written.
const script = `
import { DatabaseSync } from 'node:sqlite';
const db = new DatabaseSync(':memory:');
db.exec('CREATE TABLE t (x INTEGER)');
db.exec('BEGIN; INSERT INTO t VALUES (0);');
db.exec('COMMIT');
const insert = db.prepare('INSERT INTO t VALUES (?)');
for (let i = 1; i <= 3; i++) insert.run(i);
db.prepare('SELECT count(*) AS n FROM t').get();
db.prepare('SELECT x FROM t').all();
process.stdout.write('ready\\n');
process.on('SIGUSR2', () => setTimeout(() => process.exit(0), 50));
setInterval(() => {}, 1000);
`;

async function countsOf(
  t: { after(fn: () => unknown): void },
  script: string,
  env: Record<string, string>,
): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-counts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'counts.json');
  const child = spawn(process.execPath, ['--import', preload, '--input-type=module', '-e', script], {
    env: { ...process.env, ...env, BENCH_COUNTS_FILE: file },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGUSR2');
  await exited;
  return JSON.parse(await readFile(file, 'utf8'));
}

test('the counting preload reports SQLite calls and statements on SIGUSR2', async (t) => {
  assert.deepEqual(await countsOf(t, script, { BENCH_COUNT_PG: '0' }), {
    seq: 1,
    pgRoundTrips: 0,
    pgStatements: 0,
    sqliteCalls: 3 + 5,
    sqliteStatements: 4 + 5,
  });
});

// Three round trips holding four statements: a parameterised query, a two-statement script, a query object.
const pgScript = `
import pg from 'pg';
const client = new pg.Client({ connectionString: process.env.TEST_URL });
await client.connect();
await client.query('SELECT $1::int AS n', [1]);
await client.query('SELECT 1; SELECT 2;');
await client.query({ text: 'SELECT 3' });
await client.end();
process.stdout.write('ready\\n');
process.on('SIGUSR2', () => setTimeout(() => process.exit(0), 50));
setInterval(() => {}, 1000);
`;

test('the counting preload reports pg round trips and statements', {
  skip: skipWithoutPostgres,
}, async (t) => {
  const counts = (await countsOf(t, pgScript, { BENCH_COUNT_PG: '1', TEST_URL: testDatabaseUrl! })) as Record<
    string,
    number
  >;
  assert.equal(counts['pgRoundTrips'], 3);
  assert.equal(counts['pgStatements'], 4);
});
