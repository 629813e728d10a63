/**
 * Preloaded into a Hookyard process by the bench (`node --import bench/instrument/count-queries.ts`)
 * to count the SQL it runs, without touching Hookyard's code: every `pg` Client.query call is one
 * round trip to PostgreSQL, and every node:sqlite statement execution (run/get/all/iterate, exec) is
 * one call into SQLite. Statements are counted separately from calls because one simple-protocol
 * query or `exec` may hold several `;`-separated statements.
 *
 * On SIGUSR2 the totals are written synchronously as JSON to $BENCH_COUNTS_FILE with a sequence number,
 * so the bench can read a consistent snapshot at the start and end of a measurement window. The cost
 * is one integer increment per call. Counts cover the main thread only (a worker thread has its own
 * copy of the module and its own counters, which are not reported).
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const countsFile = process.env['BENCH_COUNTS_FILE'];
const counts = { seq: 0, pgRoundTrips: 0, pgStatements: 0, sqliteCalls: 0, sqliteStatements: 0 };

/** Statements in a script: `;`-separated parts that hold more than whitespace (quotes are not parsed). */
function statementsIn(text: unknown): number {
  if (typeof text !== 'string') return 1;
  let n = 0;
  for (const part of text.split(';')) if (part.trim() !== '') n++;
  return Math.max(1, n);
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function wrap(target: object, method: string, count: (args: unknown[]) => void): void {
  const original = (target as Record<string, unknown>)[method];
  if (typeof original !== 'function') return;
  (target as Record<string, AnyFunction>)[method] = function (this: unknown, ...args: unknown[]) {
    count(args);
    return (original as AnyFunction).apply(this, args);
  };
}

if (process.env['BENCH_COUNT_PG'] === '1') {
  // Hookyard imports pg lazily; the CommonJS module cache hands it this same Client class.
  const require = createRequire(`${process.cwd()}/`);
  const pg = require('pg') as { Client: { prototype: object } };
  wrap(pg.Client.prototype, 'query', (args) => {
    counts.pgRoundTrips++;
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: unknown } | undefined)?.text;
    // A query with parameters uses the extended protocol: exactly one statement.
    counts.pgStatements += Array.isArray(args[1]) ? 1 : statementsIn(text);
  });
}

const sqlite = await import('node:sqlite');
for (const method of ['run', 'get', 'all', 'iterate']) {
  wrap(sqlite.StatementSync.prototype, method, () => {
    counts.sqliteCalls++;
    counts.sqliteStatements++;
  });
}
wrap(sqlite.DatabaseSync.prototype, 'exec', (args) => {
  counts.sqliteCalls++;
  counts.sqliteStatements += statementsIn(args[0]);
});

if (countsFile) {
  process.on('SIGUSR2', () => {
    counts.seq++;
    writeFileSync(countsFile, JSON.stringify(counts));
  });
}
